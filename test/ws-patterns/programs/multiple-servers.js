// ws README, "Multiple servers sharing a single HTTP/S server": noServer, routed by pathname.
import { createServer } from 'node:http';
import { WebSocketServer } from 'simpatico-ws';

const server = createServer();
const wss1 = new WebSocketServer({ noServer: true });
const wss2 = new WebSocketServer({ noServer: true });

wss1.on('connection', function connection(ws) {
  ws.on('error', console.error);
  ws.send('this is foo');
});

wss2.on('connection', function connection(ws) {
  ws.on('error', console.error);
  ws.send('this is bar');
});

server.on('upgrade', function upgrade(request, socket, head) {
  const { pathname } = new URL(request.url, 'wss://base.url');

  if (pathname === '/foo') {
    wss1.handleUpgrade(request, socket, head, function done(ws) {
      wss1.emit('connection', ws, request);
    });
  } else if (pathname === '/bar') {
    wss2.handleUpgrade(request, socket, head, function done(ws) {
      wss2.emit('connection', ws, request);
    });
  } else {
    console.log('no server for %s', pathname);
    socket.destroy();
  }
});

server.listen(0, '127.0.0.1', () => console.log('listening %d', server.address().port));
