// ws doc, new WebSocketServer(options, callback): the callback is called once it listens.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({ port: 0 }, () => {
  console.log('listening %d', wss.address().port);
});
wss.on('connection', (ws) => ws.send('called back'));
