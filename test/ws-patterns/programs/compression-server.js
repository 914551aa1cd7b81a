// ws README, "WebSocket compression": the server's permessage-deflate settings, as ws's README
// tunes them, on an echo server.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({
  port: 0,
  perMessageDeflate: {
    zlibDeflateOptions: {
      chunkSize: 1024,
      memLevel: 7,
      level: 3,
    },
    zlibInflateOptions: {
      chunkSize: 10 * 1024,
    },
    clientNoContextTakeover: true,
    serverNoContextTakeover: true,
    serverMaxWindowBits: 10,
    concurrencyLimit: 10,
    threshold: 1024,
  },
});
wss.on('listening', () => console.log('listening %d', wss.address().port));

wss.on('connection', (ws) => {
  console.log('extensions: %s', ws.extensions);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
