// ws doc, send(data, { binary, fin, compress, mask }): a message in fragments, text sent as binary.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.on('open', () => {
  ws.send('frag', { fin: false });
  ws.send('ment', { fin: false, compress: false });
  ws.send('ed', { fin: true, mask: true });
  ws.send('as bytes', { binary: true });
});
ws.on('message', (data) => {
  if (String(data) === 'done') ws.close();
});
