// ws doc, binaryType: 'nodebuffer' (the default), 'arraybuffer' or 'fragments'.
import WebSocket from 'simpatico-ws';

const ws = new WebSocket(process.env.URL);
const types = ['nodebuffer', 'arraybuffer', 'fragments'];

ws.on('open', () => ws.send('next'));
ws.on('message', (data, isBinary) => {
  const kind = Buffer.isBuffer(data) ? 'Buffer' : data instanceof ArrayBuffer ? 'ArrayBuffer' : Array.isArray(data) ? 'Buffer[]' : typeof data;
  console.log('%s: %s of %d bytes, binary %s', ws.binaryType, kind, Buffer.concat([].concat(data).map((d) => Buffer.from(d))).length, isBinary);
  const next = types[types.indexOf(ws.binaryType) + 1];
  if (next === undefined) return ws.close();
  ws.binaryType = next;
  ws.send('next');
});
