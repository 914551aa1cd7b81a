// The reference for bench/registration.js: the Simpatico Registration Protocol's routing written on
// ws the obvious way, as a user would without our hub. A challenge nonce per connection, the answer's
// Ed25519 signature checked with node:crypto over the same bytes (src/registration/PROTOCOL.md:
// `simpatico-registration-v1\n` + HOST + `\n` + NONCE, HOST the request's Host header), then
// `{"to", "data"}` routed by key with `from` stamped, and `{"data"}` broadcast as a loop over the map.
// No rate limits, heartbeat or retries: what is compared is routing, and ours runs with its limits far
// above the load. Written for this benchmark, not copied from anywhere.
//
// Usage: node bench/servers/ws-registration.js [--host 127.0.0.1] [--port 0]
// Prints `ws://HOST:PORT/` on one stdout line once listening; exits cleanly on SIGTERM.
import { randomBytes, verify } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { parseServerArgs } from './args.js';

const { host, port } = parseServerArgs(process.argv.slice(2));
// A raw 32-byte Ed25519 key becomes a SubjectPublicKeyInfo (RFC 8410 §4) with this fixed prefix.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** @type {Map<string, import('ws').WebSocket>} */
const byKey = new Map();

const wss = new WebSocketServer({ host, port });
wss.on('connection', (ws, req) => {
  const nonce = randomBytes(32).toString('base64url');
  /** @type {string | null} */
  let key = null;
  ws.send(JSON.stringify({ challenge: nonce }));
  ws.on('message', (raw) => {
    let m;
    try {
      m = JSON.parse(String(raw));
    } catch {
      return ws.send('{"error":"invalid JSON"}');
    }
    if (key === null) {
      const { publicKey, response } = m;
      const signed = Buffer.from(`simpatico-registration-v1\n${req.headers.host}\n${nonce}`);
      const spki = { key: Buffer.concat([SPKI_PREFIX, Buffer.from(String(publicKey), 'base64url')]), format: /** @type {const} */ ('der'), type: /** @type {const} */ ('spki') };
      let ok = false;
      try {
        ok = verify(null, signed, spki, Buffer.from(String(response), 'base64url'));
      } catch {
        // a malformed key: refused like a bad signature
      }
      if (!ok) {
        ws.send(JSON.stringify({ publicKey, response, accepted: false, retries: 0, reason: 'bad signature' }));
        return ws.close(1008, 'registration failed');
      }
      key = publicKey;
      byKey.set(publicKey, ws);
      return ws.send(JSON.stringify({ publicKey, response, accepted: true }));
    }
    const out = JSON.stringify({ from: key, data: m.data });
    if (typeof m.to === 'string') {
      const peer = byKey.get(m.to);
      if (peer) peer.send(out);
      else ws.send(JSON.stringify({ error: 'unknown recipient', to: m.to }));
    } else {
      for (const peer of byKey.values()) if (peer !== ws) peer.send(out);
    }
  });
  ws.on('close', () => {
    if (key !== null && byKey.get(key) === ws) byKey.delete(key);
  });
});
wss.on('listening', () => {
  const { port: bound } = /** @type {import('node:net').AddressInfo} */ (wss.address());
  console.log(`ws://${host}:${bound}/`);
});
process.on('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
});
