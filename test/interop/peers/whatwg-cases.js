// The interop cases for clients with the WHATWG WebSocket API: headless Chromium (this file is
// served to the page by the server under test), Node's built-in WebSocket (node-websocket.mjs
// imports it) and the ws library (whose client follows the same API). Plain JavaScript, no
// imports: it runs unchanged in all three. Each case returns what it observed; the TypeScript test
// decides whether that is right.
//
// The conventions of the interop server (test/interop/fixtures.ts): text and binary are echoed;
// 'cmd:ping:<p>' makes it ping with payload <p> and, once our pong arrives, send 'pong:<p>';
// 'cmd:close:<code>:<reason>' makes it close with that code and reason.

const TIMEOUT = 20000;

/** byte i = (i * 31 + 7) mod 256: the same pattern in every peer, so a moved or lost byte shows. */
export function pattern(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

async function sha256(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The cases, for a given WebSocket class (the browser's, Node's, or ws's). */
export function makeCases(WebSocket) {
  /** A WebSocket with a queue of incoming messages and a promise of its close event. */
  function open(url, protocols) {
    return new Promise((resolve, reject) => {
      const ws = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
      ws.binaryType = 'arraybuffer';
      const queue = [];
      let waiter = null;
      ws.onmessage = (e) => {
        queue.push(e.data);
        if (waiter) waiter();
      };
      const closed = new Promise((done) => {
        ws.onclose = (e) => {
          if (waiter) waiter();
          done({ code: e.code, reason: e.reason, wasClean: e.wasClean });
        };
      });
      const timer = setTimeout(() => reject(new Error(`open ${url}: timed out`)), TIMEOUT);
      // An error before 'open' is a refused handshake (a later rejection is a no-op).
      ws.onerror = () => {
        clearTimeout(timer);
        reject(new Error(`open ${url}: refused`));
      };
      ws.onopen = () => {
        clearTimeout(timer);
        resolve({
          ws,
          closed,
          /** The next message, or an error after TIMEOUT ms or when the connection closes first. */
          async next() {
            const deadline = Date.now() + TIMEOUT;
            while (queue.length === 0) {
              if (ws.readyState === WebSocket.CLOSED) throw new Error('closed while waiting for a message');
              if (Date.now() > deadline) throw new Error('timed out waiting for a message');
              await new Promise((r) => {
                waiter = r;
                setTimeout(r, 100);
              });
              waiter = null;
            }
            return queue.shift();
          },
        });
      };
      closed.then(() => {
        clearTimeout(timer);
        reject(new Error(`open ${url}: closed before opening`));
      });
    });
  }

  async function finish(c) {
    c.ws.close(1000);
    return c.closed;
  }

  return {
    /** Text, including 4-byte UTF-8, echoed as text. */
    async text(url, texts) {
      const c = await open(url);
      const got = [];
      for (const text of texts) {
        c.ws.send(text);
        const data = await c.next();
        got.push(typeof data === 'string' ? data : `not text: ${String(data)}`);
      }
      return { got, close: await finish(c) };
    },

    /** Binary messages of the given sizes, echoed as binary: size, type and digest of each. */
    async binary(url, sizes) {
      const c = await open(url);
      const got = [];
      for (const size of sizes) {
        c.ws.send(pattern(size));
        const data = await c.next();
        const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(0);
        got.push({ binary: data instanceof ArrayBuffer, length: bytes.length, sha256: await sha256(bytes) });
      }
      return { got, close: await finish(c) };
    },

    /** `count` messages sent in one burst come back in order. */
    async order(url, count) {
      const c = await open(url);
      for (let i = 0; i < count; i++) c.ws.send(`message ${i}`);
      const got = [];
      for (let i = 0; i < count; i++) got.push(await c.next());
      return { got, close: await finish(c) };
    },

    /** The server pings; the browser's automatic pong makes the server say so. */
    async ping(url, payload) {
      const c = await open(url);
      c.ws.send(`cmd:ping:${payload}`);
      const got = await c.next();
      return { got, close: await finish(c) };
    },

    /** We close with a code and reason; the close event reports the server's echo. */
    async closeClient(url, code, reason) {
      const c = await open(url);
      c.ws.close(code, reason);
      return { close: await c.closed };
    },

    /** The server closes with a code and reason. */
    async closeServer(url, code, reason) {
      const c = await open(url);
      c.ws.send(`cmd:close:${code}:${reason}`);
      return { close: await c.closed };
    },

    /** The protocol selected for each list offered, or '<refused>' when the client failed the handshake. */
    async subprotocol(url, offers) {
      const got = [];
      for (const offer of offers) {
        const c = await open(url, offer).catch(() => undefined);
        if (c === undefined) {
          got.push('<refused>');
          continue;
        }
        got.push(c.ws.protocol);
        await finish(c);
      }
      return { got };
    },
  };
}
