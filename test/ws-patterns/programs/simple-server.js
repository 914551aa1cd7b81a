// ws README, "Simple server": greets every client and prints what it sends.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({ port: 0 });

wss.on('listening', () => console.log('listening %d', wss.address().port));

wss.on('connection', function connection(ws) {
  ws.on('error', console.error);

  ws.on('message', function message(data) {
    console.log('received: %s', data);
  });

  ws.send('something');
});
