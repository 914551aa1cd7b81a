// ws doc, the 'unexpected-response' event: read why the server refused (its status and headers)
// instead of getting an 'error'.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.on('unexpected-response', (req, res) => {
  console.log('refused %d %s, retry after %s', res.statusCode, req.path, res.headers['retry-after']);
  ws.terminate();
});
ws.on('error', () => console.log('error event'));
ws.on('close', (code) => console.log('closed %d', code));
