// The broadcast benchmark's server: every message a client sends is broadcast to all the others.
//
//   --impl simpatico   server.broadcast(data, { except: sender }): one frame for all, the slow-recipient
//                      policy of src/server/broadcast.ts (skip above 1 MiB queued, shed the slowest with
//                      1013 above 64 MiB queued in all)
//   --impl ws          ws's documented loop: for (const c of wss.clients) c.send(data), every OPEN client
//                      but the sender, whatever it already holds
//
// Both with their default options. What the recipients' outboxes hold is reported through the probe
// (bench/servers/probe.js), read at the moment the harness asks: bufferedAmount of every connection
// (what the library queued plus what the socket has not yet handed to the kernel), summed and largest,
// and how many recipients are still open; apart, what recipients that are closing (shed) still hold.
//
// Usage: node bench/servers/broadcast-server.js --impl simpatico|ws [--host 127.0.0.1] [--port 0]
// Prints `ws://HOST:PORT/` on one stdout line once listening; exits cleanly on SIGTERM.
import { parseServerArgs } from './args.js';

const { host, port } = parseServerArgs(process.argv.slice(2));
const impl = process.argv[process.argv.indexOf('--impl') + 1];
if (impl !== 'simpatico' && impl !== 'ws') throw new RangeError(`--impl must be simpatico or ws, not ${impl}`);

let broadcasts = 0;
/** Closes seen, by code; and our 'connectionError' codes (WS_ERR_TOO_SLOW for a shed recipient). */
/** @type {Record<string, number>} */
const closes = {};
/** @type {Record<string, number>} */
const errors = {};
/** @type {Set<any>} */
let clients;
/** @type {any} */
let senderSocket = null;
let server;

if (impl === 'simpatico') {
  const { WebSocketServer } = await import('../../dist/index.js');
  const wss = new WebSocketServer({ host, port, maxConnections: 100_000 });
  clients = wss.clients;
  wss.on('connectionError', (err) => {
    errors[err.code] = (errors[err.code] ?? 0) + 1;
  });
  wss.on('connection', (ws) => {
    ws.on('close', (code) => {
      closes[code] = (closes[code] ?? 0) + 1;
    });
    ws.on('message', (data, isBinary) => {
      senderSocket = ws;
      wss.broadcast(data, { binary: isBinary, except: ws });
      broadcasts++;
    });
  });
  await wss.ready;
  server = wss;
  process.stdout.write(`${wss.url}\n`);
} else {
  const { WebSocketServer, WebSocket } = await import('ws');
  const wss = new WebSocketServer({ host, port });
  clients = wss.clients;
  wss.on('connection', (ws) => {
    ws.on('error', (err) => {
      const code = /** @type {any} */ (err).code ?? 'error';
      errors[code] = (errors[code] ?? 0) + 1;
    });
    ws.on('close', (code) => {
      closes[code] = (closes[code] ?? 0) + 1;
    });
    ws.on('message', (data, isBinary) => {
      senderSocket = ws;
      for (const client of wss.clients) {
        if (client !== ws && client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
      }
      broadcasts++;
    });
  });
  await new Promise((resolve) => wss.on('listening', resolve));
  server = wss;
  const addr = /** @type {import('node:net').AddressInfo} */ (wss.address());
  process.stdout.write(`ws://${addr.address}:${addr.port}/\n`);
}

/** Read by the probe at each memory question. */
function stats() {
  let open = 0;
  let notOpen = 0;
  let total = 0;
  let closing = 0;
  let largest = 0;
  for (const c of clients) {
    if (c === senderSocket) continue;
    if (c.readyState === 1) {
      open++;
      total += c.bufferedAmount;
      largest = Math.max(largest, c.bufferedAmount);
    } else {
      // Shed (or closing): what its socket still holds stays until the socket is gone.
      notOpen++;
      closing += c.bufferedAmount;
    }
  }
  return {
    kind: impl,
    broadcasts,
    recipientsOpen: open,
    recipientsClosing: notOpen,
    totalBuffered: total,
    closingBuffered: closing,
    largestBuffered: largest,
    closes,
    errors,
  };
}
Object.defineProperty(globalThis, '__benchServerInfo', { get: stats, enumerable: false, configurable: true });

process.on('SIGTERM', () => {
  for (const c of clients) /** @type {any} */ (c).terminate();
  /** @type {any} */ (server).close();
});
