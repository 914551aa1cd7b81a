// The commonest server of all: JSON messages in, JSON broadcast out, with names and a count.
import WebSocket, { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({ port: 0 });
wss.on('listening', () => console.log('listening %d', wss.address().port));

wss.on('connection', (ws, req) => {
  ws.name = new URL(req.url, 'http://x').searchParams.get('name');
  ws.on('message', (raw) => {
    const { text } = JSON.parse(raw);
    const out = JSON.stringify({ from: ws.name, text, online: wss.clients.size });
    for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(out);
  });
  ws.on('close', (code, reason) => console.log('%s left: %d %s', ws.name, code, reason.toString()));
});
