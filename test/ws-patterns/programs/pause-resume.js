// ws doc, pause(), resume() and isPaused: no 'message' while paused; what arrived meanwhile follows.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);
let received = 0;

ws.on('open', () => {
  ws.pause();
  console.log('paused %s', ws.isPaused);
  ws.send('send three');
  setTimeout(() => {
    console.log('while paused: %d messages', received);
    ws.resume();
    console.log('paused %s', ws.isPaused);
  }, 200);
});
ws.on('message', () => {
  if (++received === 3) {
    console.log('after resume: %d messages', received);
    ws.close();
  }
});
