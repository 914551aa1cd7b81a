// ws doc, options.verifyClient (info): allow only one origin; info.req is the request.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({
  port: 0,
  verifyClient: (info) => {
    console.log('origin %s secure %s path %s', info.origin, info.secure, info.req.url);
    return info.origin === 'https://app.example';
  },
});
wss.on('listening', () => console.log('listening %d', wss.address().port));
wss.on('connection', (ws) => ws.send('welcome'));
