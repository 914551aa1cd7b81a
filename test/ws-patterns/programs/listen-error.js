// ws doc, the server's 'error' event: a port already taken.
import { WebSocketServer } from 'simpatico-ws';

const wss = new WebSocketServer({ port: Number(process.env.PORT), host: '127.0.0.1' });
wss.on('error', (err) => {
  console.log('error %s', err.code);
});
