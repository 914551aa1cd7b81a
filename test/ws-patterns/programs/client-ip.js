// ws FAQ, "How to get the IP address of the client?": from the raw socket, or behind a proxy from
// the first address of X-Forwarded-For.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({ port: 0 });
wss.on('listening', () => console.log('listening %d', wss.address().port));

wss.on('connection', function connection(ws, req) {
  const ip = req.socket.remoteAddress;
  const forwarded = req.headers['x-forwarded-for'];
  const client = forwarded === undefined ? ip : forwarded.split(',')[0].trim();
  ws.on('error', console.error);
  ws.send(`socket ${ip} client ${client}`);
});
