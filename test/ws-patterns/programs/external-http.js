// ws doc, the `server` option: a plain page and WebSocket connections on one node:http server.
import http from 'node:http';
import WebSocket from 'simpatico-ws';

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('a page at ' + req.url);
});
const wss = new WebSocket.Server({ server });

wss.on('connection', (ws, req) => {
  ws.send('socket at ' + req.url);
});

server.listen(0, '127.0.0.1', () => console.log('listening %d', server.address().port));
