// ws doc, close(code, reason) and the 'close' event: codes and reasons both ways.
import WebSocket from 'simpatico-ws';

const first = new WebSocket(process.env.URL + 'we-close');
first.on('open', () => first.close(4000, 'bye now'));
first.on('close', (code, reason) => {
  console.log('we closed: %d %s', code, reason.toString());

  const second = new WebSocket(process.env.URL + 'they-close');
  second.on('close', (code, reason) => console.log('they closed: %d %s', code, reason.toString()));
});
