// ws examples/ssl: a wss:// client trusting the server's self-signed certificate (the `ca`
// option, as https.request takes it).
import { readFileSync } from 'node:fs';
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL, { ca: readFileSync(process.env.CERT) });

ws.on('open', () => ws.send('All glory to WebSockets!'));
ws.on('message', (data) => {
  console.log('received: %s', data);
  ws.close();
});
