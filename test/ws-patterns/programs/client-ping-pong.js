// ws doc, ping() and the 'ping' and 'pong' events: a Ping with a payload is answered with the
// same payload; the server's Pings are answered automatically and still seen.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.on('open', () => ws.ping('are you there'));
ws.on('pong', (data) => console.log('pong %s', data));
ws.on('ping', (data) => console.log('ping %s', data));
ws.on('message', (data) => {
  console.log('message %s', data);
  ws.close();
});
