// ws doc, a client's perMessageDeflate default (offered): used when the server accepts it.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.on('open', () => {
  console.log('extensions: %s', ws.extensions);
  ws.send('compressible '.repeat(200));
});
ws.on('message', (data) => {
  console.log('echoed %d characters', String(data).length);
  ws.close();
});
