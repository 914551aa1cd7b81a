// ws doc, server.shouldHandle(request): with noServer and a path, the http server asks each
// WebSocket server whether a request is its own.
import { createServer } from 'node:http';
import { WebSocketServer } from 'simpatico-ws';

const server = createServer();
const chat = new WebSocketServer({ noServer: true, path: '/chat' });
const feed = new WebSocketServer({ noServer: true, path: '/feed' });

server.on('upgrade', (request, socket, head) => {
  for (const [name, wss] of [['chat', chat], ['feed', feed]]) {
    if (wss.shouldHandle(request)) {
      return wss.handleUpgrade(request, socket, head, (ws) => ws.send('you reached ' + name));
    }
  }
  socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
});

server.listen(0, '127.0.0.1', () => console.log('listening %d', server.address().port));
