// ws doc, perMessageDeflate: true on a server: compression on, with ws's defaults.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({ port: 0, perMessageDeflate: true });
wss.on('listening', () => console.log('listening %d', wss.address().port));

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
