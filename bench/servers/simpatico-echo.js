// simpatico-ws echo servers in configurations the `simpatico-ws echo` command has no flag for: the
// same echo (text as text, binary as binary) as dist/cli.js, built on the compiled library.
//
//   --deflate takeover   perMessageDeflate: { serverNoContextTakeover: false, clientNoContextTakeover: false }:
//                        context kept between messages both ways (what ws's `perMessageDeflate: true` means)
//   --deflate bounded    perMessageDeflate: true, the memory-bounded mode (also `echo --permessage-deflate`)
//   --heartbeat SECONDS  heartbeatInterval (0: none); the library's default otherwise
//   --text-as-buffer     textAsBuffer: true, text handed to the handler as a Buffer (as ws hands it) instead
//                        of a string, so that an echo of text does not decode and re-encode its UTF-8
//
// Usage: node bench/servers/simpatico-echo.js [--host 127.0.0.1] [--port 0] [--deflate MODE] [--heartbeat S] [--text-as-buffer]
// Prints `ws://HOST:PORT/` on one stdout line once listening; exits cleanly on SIGTERM.
import { WebSocketServer } from '../../dist/index.js';
import { parseServerArgs } from './args.js';

const { host, port } = parseServerArgs(process.argv.slice(2));
const flag = (/** @type {string} */ name) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const DEFLATE = {
  takeover: { serverNoContextTakeover: false, clientNoContextTakeover: false },
  bounded: true,
};
const mode = flag('--deflate');
if (mode !== undefined && !(mode in DEFLATE)) throw new RangeError(`--deflate must be takeover or bounded, not ${mode}`);
const heartbeat = flag('--heartbeat');

const server = new WebSocketServer({
  host,
  port,
  maxConnections: 100_000,
  ...(mode !== undefined && { perMessageDeflate: DEFLATE[/** @type {keyof typeof DEFLATE} */ (mode)] }),
  ...(heartbeat !== undefined && { heartbeatInterval: Number(heartbeat) * 1000 }),
  ...(process.argv.includes('--text-as-buffer') && { textAsBuffer: true }),
});
/** @type {any} */ (globalThis).__benchServerInfo = { kind: 'simpatico-ws', deflate: mode ?? 'off', heartbeat: heartbeat ?? 'default' };

server.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

await server.ready;
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', () => {
  server.close();
});
