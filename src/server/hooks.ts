/**
 * The server's hooks — `verifyClient`, the `protocols` selector and `httpHandler` — are user code,
 * and user code makes mistakes: a forgotten `return`, a `null`, a throw, a rejected promise. None of
 * them may crash the server or leave a client hanging. Each hook runs here, sync or async, and what
 * it answered is read strictly: anything that is not one of the documented answers refuses that one
 * request with 500 and is reported (an `error` on the server naming the hook and what it returned),
 * and the next client is served as usual.
 */
import { WebSocketError } from '../errors.js';
import { describeValue } from '../options.js';

/** What a hook answered, once awaited: its value, or what it threw (or rejected with). */
export type HookOutcome = { ok: true; value: unknown } | { ok: false; cause: unknown };

/** Runs `call`, catching a synchronous throw and awaiting a promise (or any thenable). */
export function runHook(call: () => unknown): HookOutcome | Promise<HookOutcome> {
  let value: unknown;
  try {
    value = call();
  } catch (cause) {
    return { ok: false, cause };
  }
  // Synchronous answers stay synchronous: a server without async hooks answers in the same tick.
  if (!isThenable(value)) return { ok: true, value };
  return Promise.resolve(value).then(
    (resolved): HookOutcome => ({ ok: true, value: resolved }),
    (cause: unknown): HookOutcome => ({ ok: false, cause }),
  );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The error reported for a hook that failed: code `WS_ERR_HOOK`, status 500, side local. */
export function hookError(hook: string, message: string, cause?: unknown): WebSocketError {
  return new WebSocketError('WS_ERR_HOOK', `${hook} ${message}`, { status: 500, side: 'local', cause });
}

/** A refusal as the server writes it. */
export interface Refusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/** The verdict of `verifyClient`: accept, refuse, or the hook failed (500, reported). */
export type Verdict = { accept: true } | { accept: false; refusal: Refusal } | { accept: false; error: WebSocketError };

const REFUSED = 'The server refused this client.';

function isStatus(value: unknown, min: number, max: number): value is number {
  return Number.isInteger(value) && (value as number) >= min && (value as number) <= max;
}

function isHeaders(value: unknown): value is Record<string, string> | undefined {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((v) => typeof v === 'string');
}

/**
 * Reads what `verifyClient(request)` answered: `true` accepts; `false` refuses with 401;
 * `{ status, message?, headers? }` (status 400–599) refuses with that status. Anything else — and a
 * throw or a rejection — is the hook's failure.
 */
export function readVerdict(outcome: HookOutcome): Verdict {
  if (!outcome.ok) return { accept: false, error: hookError('verifyClient', 'threw.', outcome.cause) };
  const value = outcome.value;
  if (value === true) return { accept: true };
  if (value === false) return { accept: false, refusal: { status: 401, message: REFUSED } };
  if (typeof value === 'object' && value !== null) {
    const { status, message, headers } = value as { status?: unknown; message?: unknown; headers?: unknown };
    if (isStatus(status, 400, 599) && (message === undefined || typeof message === 'string') && isHeaders(headers)) {
      return { accept: false, refusal: { status, message: message ?? REFUSED, headers } };
    }
  }
  return {
    accept: false,
    error: hookError('verifyClient', `returned ${describeValue(value)}; expected true, false, or { status: 400–599, message?, headers? }.`),
  };
}

/**
 * ws's two-argument form, `verifyClient(info, callback)`: `callback(result, code?, message?,
 * headers?)` — `true` accepts, `false` refuses with `code` (default 401). Only the first call counts.
 */
export function callbackVerdict(
  verify: (info: unknown, callback: (result: unknown, code?: unknown, message?: unknown, headers?: unknown) => void) => unknown,
  info: unknown,
): Promise<Verdict> {
  return new Promise<Verdict>((resolve) => {
    const callback = (result: unknown, code?: unknown, message?: unknown, headers?: unknown): void => {
      if (result === true) return resolve({ accept: true });
      if (result !== false) {
        return resolve({ accept: false, error: hookError('verifyClient', `called back with ${describeValue(result)}; expected true or false.`) });
      }
      const status = code === undefined ? 401 : code;
      if (!isStatus(status, 400, 599) || (message !== undefined && typeof message !== 'string') || !isHeaders(headers)) {
        return resolve({ accept: false, error: hookError('verifyClient', `called back with code ${describeValue(code)}; expected a status from 400 to 599.`) });
      }
      resolve({ accept: false, refusal: { status, message: message ?? REFUSED, headers } });
    };
    const outcome = runHook(() => verify(info, callback));
    const failed = (o: HookOutcome): void => {
      if (!o.ok) resolve({ accept: false, error: hookError('verifyClient', 'threw.', o.cause) });
    };
    if (outcome instanceof Promise) void outcome.then(failed);
    else failed(outcome);
  });
}

/**
 * Reads what a `protocols(offered, request)` selector answered: one of `offered`, or `undefined`,
 * `null` or `false` for none (RFC 6455 §4.2.2 step 5.5: the server selects one of the client's
 * values, or none). Anything else is the hook's failure.
 */
export function readProtocol(outcome: HookOutcome, offered: readonly string[]): { protocol: string } | { error: WebSocketError } {
  if (!outcome.ok) return { error: hookError('protocols', 'threw.', outcome.cause) };
  const value = outcome.value;
  if (value === undefined || value === null || value === false) return { protocol: '' };
  if (typeof value === 'string' && offered.includes(value)) return { protocol: value };
  return {
    error: hookError('protocols', `returned ${describeValue(value)}; expected one of the offered subprotocols (${offered.join(', ') || 'none'}) or undefined.`),
  };
}

/** What an `httpHandler` answers to a plain HTTP request. */
export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Reads what `httpHandler(request)` answered: `{ status: 200–599, headers?, body? }`; anything else is its failure. */
export function readHttpResponse(outcome: HookOutcome): { response: HttpResponse } | { error: WebSocketError } {
  if (!outcome.ok) return { error: hookError('httpHandler', 'threw.', outcome.cause) };
  const value = outcome.value;
  if (typeof value === 'object' && value !== null) {
    const { status, headers, body } = value as { status?: unknown; headers?: unknown; body?: unknown };
    if (isStatus(status, 200, 599) && isHeaders(headers) && (body === undefined || typeof body === 'string' || Buffer.isBuffer(body))) {
      return { response: { status, headers, body } };
    }
  }
  return { error: hookError('httpHandler', `returned ${describeValue(value)}; expected { status: 200–599, headers?, body? }.`) };
}
