// ws doc, server.close(callback): a shutdown on command — each client is closed with 1001 (ws
// leaves them open, so ws users close them), then the server stops and the process exits.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({ port: 0 });
wss.on('listening', () => console.log('listening %d', wss.address().port));
wss.on('connection', (ws) => {
  console.log('clients: %d', wss.clients.size);
  ws.on('message', (data) => {
    if (String(data) !== 'shutdown') return;
    for (const client of wss.clients) client.close(1001, 'going away');
    wss.close(() => console.log('server closed'));
  });
});
