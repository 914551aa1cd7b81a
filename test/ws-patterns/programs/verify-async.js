// ws doc, options.verifyClient (info, callback): an asynchronous check that refuses with its own
// status, message and headers.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({
  port: 0,
  verifyClient: (info, callback) => {
    const key = new URL(info.req.url, 'ws://x').searchParams.get('key');
    setTimeout(() => {
      if (key === 'open-sesame') callback(true);
      else callback(false, 403, 'Forbidden', { 'X-Reason': 'bad key' });
    }, 5);
  },
});
wss.on('listening', () => console.log('listening %d', wss.address().port));
wss.on('connection', (ws) => ws.send('in'));
