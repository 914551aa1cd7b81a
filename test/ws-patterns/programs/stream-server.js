// ws doc, createWebSocketStream on the server side: a connection piped into itself echoes.
import { WebSocketServer, createWebSocketStream } from 'simpatico-ws';

const wss = new WebSocketServer({ port: 0 });
wss.on('listening', () => console.log('listening %d', wss.address().port));

wss.on('connection', (ws) => {
  const duplex = createWebSocketStream(ws);
  duplex.on('error', console.error);
  duplex.pipe(duplex);
  duplex.on('end', () => console.log('stream ended'));
});
