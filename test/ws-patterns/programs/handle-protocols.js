// ws doc, options.handleProtocols: choose a subprotocol from the Set the client offered.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({
  port: 0,
  handleProtocols: (protocols, request) => {
    console.log('offered %s on %s', [...protocols].join(' '), request.url);
    return protocols.has('chat.v2') ? 'chat.v2' : false;
  },
});
wss.on('listening', () => console.log('listening %d', wss.address().port));
wss.on('connection', (ws) => ws.send(`protocol "${ws.protocol}"`));
