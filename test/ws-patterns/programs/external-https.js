// ws README, "External HTTP/S server": the WebSocket server shares an https server's port.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { WebSocketServer } from 'simpatico-ws';

const server = createServer({
  cert: readFileSync(process.env.CERT),
  key: readFileSync(process.env.KEY),
});
const wss = new WebSocketServer({ server });

wss.on('connection', function connection(ws) {
  ws.on('error', console.error);
  ws.on('message', function message(data) {
    console.log('received: %s', data);
  });
  ws.send('something secure');
});

server.listen(0, '127.0.0.1', () => console.log('listening %d', server.address().port));
