// Code written for ws's Buffers: text collected into one Buffer, byte lengths counted. Here text
// arrives as a string unless the connection is told textAsBuffer: true (ws ignores the option).
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL, { textAsBuffer: true });
const chunks = [];

ws.on('open', () => ws.send('send text'));
ws.on('message', (data, isBinary) => {
  chunks.push(data);
  if (chunks.length < 2) return;
  const all = Buffer.concat(chunks);
  console.log('%d bytes, binary %s: %s', all.length, isBinary, all.toString('utf8'));
  ws.close();
});
