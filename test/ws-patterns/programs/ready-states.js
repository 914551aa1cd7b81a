// ws doc, readyState and the constants on the class and on the instance.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);
const name = () => ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'][ws.readyState];

console.log('made: %s (%d = WebSocket.CONNECTING %d)', name(), ws.readyState, WebSocket.CONNECTING);
ws.on('open', () => {
  console.log('open: %s %s', name(), ws.readyState === ws.OPEN);
  ws.close();
  console.log('after close(): %s %s', name(), ws.readyState === WebSocket.CLOSING);
});
ws.on('close', () => console.log('close: %s %s', name(), ws.readyState === WebSocket.CLOSED));
