// ws doc, new WebSocket(address, protocols): one subprotocol as a string; what was agreed, and the
// connection's url, protocol and extensions properties.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL, 'chat.v1', { perMessageDeflate: false });

ws.on('open', () => {
  console.log('url %s protocol %s extensions "%s"', ws.url === process.env.URL, ws.protocol, ws.extensions);
  ws.close();
});
