/**
 * The demo page's script, after the user's seed: Connect opens a `SimpaticoSocket` to this page's
 * own URL, Send broadcasts `hello there N` (N from 0) to the other registered pages, and every
 * event is written to the message log. Added: this page's public key, a field to send a text to
 * one key, an identity kept in the browser on request (./key-store.ts), and the protocol panel:
 * every text the server sends as it arrived, and what the page signed to answer each challenge.
 */

import { encodeBase64url } from '../core/base64url.js';
import type { Ed25519KeyPair } from '../core/crypto.js';
import type { ProtocolEvent } from '../core/client-session.js';
import { webCrypto } from '../core/webcrypto.js';
import { forgetKeyPair, loadKeyPair, saveKeyPair } from './key-store.js';
import { SimpaticoSocket } from './simpatico-socket.js';

let n = 0;
let socket: SimpaticoSocket | undefined;
const crypto = webCrypto();

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;

/** Appends a line to the log (and the console), as the seed's `logMessage` does; returns it. */
function logMessage(message: string, ex?: unknown): HTMLElement {
  const messageElement = document.createElement('div');
  messageElement.textContent = message;
  byId('message-container')?.appendChild(messageElement);
  if (ex === undefined) console.log(message);
  else console.log(message, ex);
  return messageElement;
}

/** Strings as they are; anything else as JSON. */
const show = (data: unknown) => (typeof data === 'string' ? data : JSON.stringify(data));

function detail<T>(event: Event): T {
  return (event as CustomEvent<T>).detail;
}

// ---- The protocol panel ----

/** Entries kept in the panel: with heartbeats every few seconds it would otherwise grow for ever. */
const PANEL_ENTRIES = 300;

/** A text on the wire: from the server (`in`, shown after ←) or to it (`out`, after →). */
type Wire = { dir: 'in' | 'out'; text: string };

/**
 * Adds an entry to the panel: what happened (`what`), the text on the wire exactly as it went,
 * and named fields. `kind` and each field's `name` are written as data attributes, for scripts
 * and tests.
 */
function panel(kind: string, what: string, wire?: Wire, fields: [name: string, label: string, value: string][] = []): void {
  const container = byId('protocol-panel');
  if (!container) return;
  const entry = document.createElement('div');
  entry.className = 'entry';
  entry.dataset.kind = kind;
  const head = document.createElement('div');
  head.className = 'what';
  head.textContent = what;
  entry.appendChild(head);
  if (wire !== undefined) {
    const line = document.createElement('div');
    line.className = `wire ${wire.dir}`;
    line.textContent = wire.text;
    entry.appendChild(line);
  }
  if (fields.length > 0) {
    const list = document.createElement('dl');
    for (const [name, label, value] of fields) {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.dataset.field = name;
      dd.textContent = value;
      list.append(dt, dd);
    }
    entry.appendChild(list);
  }
  container.appendChild(entry);
  while (container.childElementCount > PANEL_ENTRIES) container.firstElementChild?.remove();
  container.scrollTop = container.scrollHeight;
}

/** A server text, explained by its shape (src/registration/PROTOCOL.md, "Messages"). */
function received(text: string, registered: boolean): void {
  let o: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) o = value as Record<string, unknown>;
  } catch {
    // Shown as it came, below.
  }
  const wire: Wire = { dir: 'in', text };
  if (o.accepted === true) {
    panel('accepted', registered ? 'heartbeat answer accepted (step 6)' : 'accepted: this key is now routable to this page (step 3)', wire);
  } else if (o.accepted === false) {
    const retries = typeof o.retries === 'number' ? o.retries : 0;
    const why = typeof o.reason === 'string' ? o.reason : 'no reason given';
    const what =
      typeof o.challenge === 'string' && retries > 0
        ? `refused (${why}): answering the new challenge, ${retries} ${retries === 1 ? 'retry' : 'retries'} left after it (step 3′)`
        : `refused (${why}): no retries left, the server closes with 1008 (step 3″)`;
    panel('refused', what, wire, [['retries', 'retries left', String(retries)]]);
  } else if (typeof o.challenge === 'string') {
    panel('challenge', registered ? 'heartbeat challenge (step 6)' : 'challenge (step 1)', wire, [['nonce', 'nonce', o.challenge]]);
  } else if (typeof o.error === 'string') {
    panel('notice', `the server answered: ${o.error}${typeof o.to === 'string' ? ' ' + o.to : ''}`, wire);
  } else if (typeof o.from === 'string') {
    panel('message', `message from ${o.from} (step 5)`, wire);
  } else {
    panel('other', 'a text this page does not know', wire);
  }
}

/** An answer to a challenge: the exact string signed, split into its parts. */
function signed(e: Extract<ProtocolEvent, { type: 'signed' }>): void {
  panel('signed', `signed and answered (step ${e.heartbeat ? '6' : '2'})`, { dir: 'out', text: e.answer }, [
    ['domain', 'domain tag', e.domain],
    ['host', 'host', e.host],
    ['nonce', 'nonce', e.nonce],
    // JSON shows the two line breaks as \n, so the string is exactly readable.
    ['message', 'signed string', JSON.stringify(e.message)],
    ['bytes', 'bytes signed', `${e.bytes.length} (UTF-8 of the string)`],
    ['publicKey', 'public key', e.publicKey],
    ['signature', 'signature', e.signature],
  ]);
}

// ---- Delivery status ----

/** A message this page sent, until the server's answer to it (if any) arrives. */
interface Outgoing {
  to: string | undefined;
  status: HTMLElement;
}

/** Messages still without an answer; the oldest are dropped (bounded, like the panel). */
const pending: Outgoing[] = [];
const PENDING_MAX = 100;
let lastText = '';

const SENT = ' — sent; the server answers only a message it cannot deliver';

/**
 * The server's `{"error": …}` answer to one of this page's messages. The server answers in the
 * order it reads, and only messages it cannot route, so the answer names the newest message still
 * waiting with the same `to` (or, without `to`, the newest one waiting).
 */
function answered(to: string | undefined): void {
  for (let i = pending.length - 1; i >= 0; i--) {
    if (to !== undefined && pending[i].to !== to) continue;
    const [message] = pending.splice(i, 1);
    message.status.textContent = ` — not delivered: the server answered ${lastText}`;
    message.status.className = 'status-refused';
    message.status.dataset.status = 'refused';
    return;
  }
}

// ---- Identity ----

/** This page's identity: made on the first Connect, or read from IndexedDB if one was kept. */
let identity: Promise<Ed25519KeyPair> | undefined;

const keepBox = () => byId<HTMLInputElement>('keep-key');

async function showIdentity(): Promise<void> {
  const out = byId('identity');
  const status = byId('identity-status');
  const kept = keepBox()?.checked === true;
  if (out) {
    out.textContent = identity === undefined ? '' : encodeBase64url((await identity).publicKey);
    out.dataset.kept = String(kept);
  }
  if (status) {
    status.textContent =
      identity === undefined
        ? '(made when you press Connect)'
        : kept
          ? '(kept in this browser: IndexedDB holds it, the private key cannot be exported)'
          : '(this page only: a reload makes a new one)';
  }
}

const ready = (async () => {
  try {
    const kept = await loadKeyPair();
    if (kept !== undefined) {
      identity = Promise.resolve(kept);
      const box = keepBox();
      if (box) box.checked = true;
    }
  } catch (ex) {
    logMessage('error: cannot read the kept key: ' + String(ex), ex);
  }
  await showIdentity();
})();

/** Keeps the identity in IndexedDB (making one if there is none yet), or forgets the kept one. */
async function keepChanged(): Promise<void> {
  await ready;
  try {
    if (keepBox()?.checked === true) {
      identity ??= crypto.generateKeyPair();
      await saveKeyPair(await identity);
      logMessage('key kept in this browser');
    } else {
      await forgetKeyPair();
      logMessage('kept key forgotten; this page keeps using it until a reload');
    }
  } catch (ex) {
    logMessage('error: ' + String(ex), ex);
  }
  await showIdentity();
}

/** A fresh key pair replaces the identity (and the kept one); a connected page reconnects with it. */
async function newIdentity(): Promise<void> {
  await ready;
  identity = crypto.generateKeyPair();
  try {
    const pair = await identity;
    if (keepBox()?.checked === true) await saveKeyPair(pair);
    logMessage('new identity ' + encodeBase64url(pair.publicKey));
  } catch (ex) {
    logMessage('error: ' + String(ex), ex);
  }
  await showIdentity();
  if (socket !== undefined) await connect();
}

// ---- The seed's buttons ----

async function connect(): Promise<void> {
  await ready;
  socket?.close(1000, 'reconnecting');
  identity ??= crypto.generateKeyPair();
  void showIdentity();
  const s = new SimpaticoSocket({ keyPair: identity, crypto });
  socket = s;
  let registered = false;
  logMessage('socket created ' + s.url);
  const keyOut = byId('public-key');
  if (keyOut) keyOut.textContent = '…';
  s.addEventListener('open', () => logMessage('open'));
  s.addEventListener('received', (e) => {
    lastText = detail<{ text: string }>(e).text;
    received(lastText, registered);
  });
  s.addEventListener('signed', (e) => signed(detail<Extract<ProtocolEvent, { type: 'signed' }>>(e)));
  s.addEventListener('registered', (e) => {
    const { publicKey, heartbeat } = detail<{ publicKey: string; heartbeat: boolean }>(e);
    registered = true;
    if (heartbeat) {
      // A heartbeat answered: in the panel; counted on the key's element for scripts and tests.
      if (keyOut) keyOut.dataset.heartbeats = String(Number(keyOut.dataset.heartbeats ?? '0') + 1);
      return;
    }
    if (keyOut) keyOut.textContent = publicKey;
    logMessage('registered as ' + publicKey);
  });
  s.addEventListener('rejected', (e) => {
    const { retries, reason } = detail<{ retries: number; reason?: string }>(e);
    logMessage(`rejected (${reason ?? 'no reason'}), retrying; ${retries} retries left`);
  });
  s.addEventListener('message', (e) => {
    const { from, data } = detail<{ from: string; data: unknown }>(e);
    logMessage(`from ${from}: ${show(data)}`);
  });
  s.addEventListener('notice', (e) => {
    const { error, to } = detail<{ error: string; to?: string }>(e);
    logMessage(`server: ${error}${to ? ' ' + to : ''}`);
    if (socket === s) answered(to);
  });
  s.addEventListener('error', (e) => {
    const { error } = detail<{ error: Error }>(e);
    logMessage('error: ' + error.message, error);
  });
  s.addEventListener('close', (e) => {
    const { code, reason } = detail<{ code: number; reason: string }>(e);
    logMessage(`closed ${code}${reason ? ' ' + reason : ''}`);
    panel('closed', `closed ${code}${reason ? ' ' + reason : ''}`);
    if (socket === s && keyOut) keyOut.textContent = '';
  });
}

/** Sends, logs the line with its delivery status, and shows the text in the panel; false if not sent. */
function registeredSend(line: string, data: string, to?: string): boolean {
  if (!socket) {
    logMessage('error: press Connect first');
    return false;
  }
  let text: string;
  try {
    text = socket.registeredSend(data, to);
  } catch (ex) {
    logMessage('error: ' + (ex as Error).message, ex);
    return false;
  }
  const entry = logMessage(line);
  const status = document.createElement('span');
  status.textContent = SENT;
  status.dataset.status = 'sent';
  entry.appendChild(status);
  pending.push({ to, status });
  if (pending.length > PENDING_MAX) pending.shift();
  panel('sent', to === undefined ? 'broadcast (step 5)' : 'message to one key (step 5)', { dir: 'out', text });
  return true;
}

function send(): void {
  const text = 'hello there ' + n;
  if (registeredSend('broadcast: ' + text, text)) n++;
}

function sendTo(): void {
  const to = (byId<HTMLInputElement>('send-to-key')?.value ?? '').trim();
  const text = byId<HTMLInputElement>('send-to-text')?.value ?? '';
  if (to === '') {
    logMessage('error: enter a public key to send to');
    return;
  }
  registeredSend(`to ${to}: ${text}`, text, to);
}

byId('run-connect')?.addEventListener('click', () => void connect());
byId('run-send')?.addEventListener('click', send);
byId('run-send-to')?.addEventListener('click', sendTo);
byId('run-new-identity')?.addEventListener('click', () => void newIdentity());
keepBox()?.addEventListener('change', () => void keepChanged());
