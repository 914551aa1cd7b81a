// ws README, "Round-trip time": the client sends Date.now() (a number) to an echo server and
// subtracts what comes back. Bounded here: three round trips, then a close.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);
let trips = 0;

ws.on('error', console.error);

ws.on('open', function open() {
  console.log('connected');
  ws.send(Date.now());
});

ws.on('close', function close() {
  console.log('disconnected');
});

ws.on('message', function message(data) {
  const rtt = Date.now() - data;
  console.log(`Round-trip time: ${Number.isFinite(rtt) && rtt >= 0 ? 'measured' : rtt} ms`);
  if (++trips === 3) return ws.close();
  setTimeout(function timeout() {
    ws.send(Date.now());
  }, 10);
});
