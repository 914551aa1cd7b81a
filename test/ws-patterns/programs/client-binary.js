// ws README, "Sending binary data": a typed array goes out as one binary message of its bytes.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);

ws.on('error', console.error);

ws.on('open', function open() {
  const values = new Float32Array(5);
  for (let i = 0; i < values.length; i++) values[i] = i / 2;
  ws.send(values);
});

ws.on('message', function message(data, isBinary) {
  console.log('reply %s binary=%s', data, isBinary);
  ws.close();
});
