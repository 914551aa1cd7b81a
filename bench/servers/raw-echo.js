// The ceiling: a node:net echo with no WebSocket framing at all. Whatever bytes arrive are written
// back as they are, one write per TCP read, so this measures what Node's socket layer alone can move
// on this machine. The load generator sends it the very same masked frames it sends the WebSocket
// servers and counts echoed bytes.
//
// Usage: node bench/servers/raw-echo.js [--host 127.0.0.1] [--port 0]
// Prints `tcp://HOST:PORT/` on one stdout line once listening; exits cleanly on SIGTERM.
import net from 'node:net';
import { parseServerArgs } from './args.js';

const { host, port } = parseServerArgs(process.argv.slice(2));
/** @type {Set<net.Socket>} */
const sockets = new Set();

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  sockets.add(socket);
  socket.on('data', (chunk) => socket.write(chunk));
  // A load generator that stops mid-stream resets its connections; that is not a server failure.
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
});

/** @type {any} */ (globalThis).__benchServerInfo = { kind: 'raw-net' };

server.listen(port, host, () => {
  const addr = /** @type {net.AddressInfo} */ (server.address());
  process.stdout.write(`tcp://${addr.address}:${addr.port}/\n`);
});

process.on('SIGTERM', () => {
  server.close();
  for (const s of sockets) s.destroy();
});
