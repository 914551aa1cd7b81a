// ws doc, the client's 'upgrade' event: the server's 101 response, e.g. a cookie it set.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.on('upgrade', (res) => {
  // As node:http gives it: a list of the Set-Cookie lines.
  console.log('status %d cookies %s', res.statusCode, res.headers['set-cookie'].join(' | '));
});
ws.on('open', () => ws.close());
