// ws doc, the server's 'headers' event: add a cookie to the 101 response.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({ port: 0 });
wss.on('listening', () => console.log('listening %d', wss.address().port));
wss.on('headers', (headers, request) => {
  headers.push('Set-Cookie: visited=' + encodeURIComponent(request.url));
});
wss.on('connection', (ws) => ws.send('hello'));
