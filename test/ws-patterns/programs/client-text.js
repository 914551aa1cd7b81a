// ws README, "Sending and receiving text data": a client sends text and prints what comes back.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.on('error', console.error);

ws.on('open', function open() {
  ws.send('something');
});

ws.on('message', function message(data) {
  console.log('received: %s', data);
});

ws.on('close', function close(code) {
  console.log('closed %d', code);
});
