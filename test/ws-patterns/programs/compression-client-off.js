// ws README, "WebSocket compression": a client that never offers the extension.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL, {
  perMessageDeflate: false,
});

ws.on('open', () => {
  console.log('extensions: "%s"', ws.extensions);
  ws.close();
});
