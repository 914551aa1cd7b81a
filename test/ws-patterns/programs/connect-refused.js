// The client's 'error' when nothing listens: what it carries, to decide whether to retry.
// (ws's error is Node's own, code ECONNREFUSED; this package's is a WebSocketError whose code is
// WS_ERR_CONNECT and whose cause is Node's error: `(err.cause ?? err).code` reads both.)
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.on('error', (err) => console.log('error %s', (err.cause ?? err).code));
ws.on('close', (code) => console.log('closed %d', code));
