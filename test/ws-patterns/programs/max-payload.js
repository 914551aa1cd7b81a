// ws doc, options.maxPayload: a message over the limit closes the connection with 1009.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({ port: 0, maxPayload: 1024 });
wss.on('listening', () => console.log('listening %d', wss.address().port));
wss.on('connection', (ws) => {
  ws.on('error', (err) => console.log('error: closing with %d', err.closeCode ?? 1009));
  ws.on('message', (data) => console.log('got %d bytes', data.length));
  ws.on('close', (code) => console.log('closed %d', code));
});
