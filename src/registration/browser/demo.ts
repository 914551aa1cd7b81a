/**
 * The demo page's script, after the user's seed: Connect opens a `SimpaticoSocket` to this page's
 * own URL, Send broadcasts `hello there N` (N from 0) to the other registered pages, and every
 * event is written to the message log. Added: this page's public key, and a field to send a text
 * to one key.
 */

import { SimpaticoSocket } from './simpatico-socket.js';

let n = 0;
let socket: SimpaticoSocket | undefined;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;

/** Appends a line to the log (and the console), as the seed's `logMessage` does. */
function logMessage(message: string, ex?: unknown): void {
  const messageContainer = byId('message-container');
  if (messageContainer) {
    const messageElement = document.createElement('div');
    messageElement.textContent = message;
    messageContainer.appendChild(messageElement);
  }
  if (ex === undefined) console.log(message);
  else console.log(message, ex);
}

/** Strings as they are; anything else as JSON. */
const show = (data: unknown) => (typeof data === 'string' ? data : JSON.stringify(data));

function detail<T>(event: Event): T {
  return (event as CustomEvent<T>).detail;
}

function connect(): void {
  socket?.close(1000, 'reconnecting');
  const s = new SimpaticoSocket();
  socket = s;
  logMessage('socket created ' + s.url);
  const keyOut = byId('public-key');
  if (keyOut) keyOut.textContent = '…';
  s.addEventListener('open', () => logMessage('open'));
  s.addEventListener('registered', (e) => {
    const { publicKey, heartbeat } = detail<{ publicKey: string; heartbeat: boolean }>(e);
    if (heartbeat) {
      // A heartbeat answered: nothing to tell the user; counted on the key's element for scripts and tests.
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
  });
  s.addEventListener('error', (e) => {
    const { error } = detail<{ error: Error }>(e);
    logMessage('error: ' + error.message, error);
  });
  s.addEventListener('close', (e) => {
    const { code, reason } = detail<{ code: number; reason: string }>(e);
    logMessage(`closed ${code}${reason ? ' ' + reason : ''}`);
    if (socket === s && keyOut) keyOut.textContent = '';
  });
}

function registeredSend(data: string, to?: string): boolean {
  if (!socket) {
    logMessage('error: press Connect first');
    return false;
  }
  try {
    socket.registeredSend(data, to);
    return true;
  } catch (ex) {
    logMessage('error: ' + (ex as Error).message, ex);
    return false;
  }
}

function send(): void {
  const text = 'hello there ' + n;
  if (registeredSend(text)) {
    n++;
    logMessage('broadcast: ' + text);
  }
}

function sendTo(): void {
  const to = (byId<HTMLInputElement>('send-to-key')?.value ?? '').trim();
  const text = byId<HTMLInputElement>('send-to-text')?.value ?? '';
  if (to === '') {
    logMessage('error: enter a public key to send to');
    return;
  }
  if (registeredSend(text, to)) logMessage(`sent to ${to}: ${text}`);
}

byId('run-connect')?.addEventListener('click', connect);
byId('run-send')?.addEventListener('click', send);
byId('run-send-to')?.addEventListener('click', sendTo);
