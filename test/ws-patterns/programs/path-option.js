// ws doc, options.path: accept connections on one path only.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({ port: 0, path: '/chat' });
wss.on('listening', () => console.log('listening %d', wss.address().port));
wss.on('connection', (ws, req) => ws.send(`connected on ${req.url}`));
