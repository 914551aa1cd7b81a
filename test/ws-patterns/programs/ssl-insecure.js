// A wss:// client for a test server with a self-signed certificate: rejectUnauthorized: false
// (https.request's option, which ws passes through). Never in production.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL, { rejectUnauthorized: false });

ws.on('open', () => ws.send('unverified'));
ws.on('message', (data) => {
  console.log('received: %s', data);
  ws.close();
});
