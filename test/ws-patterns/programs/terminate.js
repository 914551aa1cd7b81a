// ws doc, terminate(): the connection is destroyed at once, with no closing handshake.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.on('open', () => ws.terminate());
ws.on('close', (code) => console.log('closed %d', code));
