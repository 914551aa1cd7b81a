// The reference: an echo server on the `ws` library, the one people would otherwise pick.
//
// Run it twice in a benchmark: with the default environment (ws masks and unmasks with its native
// `bufferutil` addon when it can load it) and with WS_NO_BUFFER_UTIL=1 (pure JavaScript). ws reads
// that variable when it is first loaded, which is why each configuration is its own process.
// Options are ws's defaults (no permessage-deflate, 100 MiB maxPayload), as a user would have them;
// --deflate adds `perMessageDeflate: true` (ws's context takeover both ways, threshold 1024 B).
//
// Usage: node bench/servers/ws-echo.js [--host 127.0.0.1] [--port 0] [--deflate]
// Prints `ws://HOST:PORT/` on one stdout line once listening; exits cleanly on SIGTERM.
import http from 'node:http';
import { createRequire } from 'node:module';
import { WebSocketServer } from 'ws';
import { parseServerArgs } from './args.js';

const { host, port } = parseServerArgs(process.argv.slice(2));

/** Which masking code ws is using in this process, mirroring the choice ws/lib/buffer-util.js makes. */
function maskingImplementation() {
  if (typeof (/** @type {any} */ (http)).websocketMask === 'function') return 'node:http';
  if (process.env.WS_NO_BUFFER_UTIL) return 'javascript';
  try {
    createRequire(import.meta.url)('bufferutil');
    return 'bufferutil';
  } catch {
    return 'javascript';
  }
}
const deflate = process.argv.includes('--deflate');
/** @type {any} */ (globalThis).__benchServerInfo = { kind: 'ws', masking: maskingImplementation(), ...(deflate && { perMessageDeflate: true }) };

const wss = new WebSocketServer({ host, port, ...(deflate && { perMessageDeflate: true }) });

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(/** @type {Buffer} */ (data), { binary: isBinary }));
  // A load generator that stops mid-stream resets its connections; that is not a server failure.
  ws.on('error', () => ws.terminate());
});

wss.on('listening', () => {
  const addr = /** @type {import('node:net').AddressInfo} */ (wss.address());
  process.stdout.write(`ws://${addr.address}:${addr.port}/\n`);
});

process.on('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
});
