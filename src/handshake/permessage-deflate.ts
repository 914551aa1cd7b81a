/**
 * Negotiating permessage-deflate (RFC 7692 §5, §7.1), both sides, without I/O.
 *
 * The client offers the extension in Sec-WebSocket-Extensions, possibly several times with other
 * parameters, in order of preference (§5). The server accepts the first offer it can honour and
 * answers with one element that states the parameters in force; an offer it cannot use is
 * *declined* — skipped, never a failed handshake (§5, §7). The client then checks that answer
 * strictly: anything the RFC does not allow there fails the connection (§7).
 *
 * The four parameters (§7.1), each naming the side whose compressor it constrains:
 *
 *   server_no_context_takeover     the server resets its LZ77 window after every message (§7.1.1.1)
 *   client_no_context_takeover     the client does (§7.1.1.2)
 *   server_max_window_bits=8..15   the server's window is at most 2^n bytes (§7.1.2.1)
 *   client_max_window_bits[=8..15] the client's window; in an offer, with no value, it only says
 *                                  the client can honour a limit in the answer (§7.1.2.2)
 *
 * A window-bits value is "a decimal integer value without leading zeros between 8 to 15" (§7.1.2.1),
 * so `08`, `16`, `+9` and `abc` are invalid values.
 *
 * About 8: zlib's deflate cannot make a 256-byte window, and zlib itself refuses windowBits 8 for
 * raw deflate. Node.js does not refuse it — `createDeflateRaw({ windowBits: 8 })` runs with 9,
 * documented under zlib.createDeflateRaw() — and that is sound: zlib's deflate never looks back
 * further than the window minus 262 bytes (MAX_DIST), so a 9-bit compressor refers back at most 250
 * bytes, within what a 256-byte window holds. So an offer of server_max_window_bits=8 is
 * accepted here; the codec (src/deflate) compresses it with windowBits 9, and a test decodes its
 * output to check that no back-reference reaches past 256 bytes.
 */
import { WebSocketError } from '../errors.js';
import { checkOptions, rule } from '../options.js';
import { formatExtensions, type ExtensionOffer, type ExtensionParam } from './extensions.js';

/** The extension's registered name (RFC 7692 §7, §10.1). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** The parameters in force once both sides agreed (RFC 7692 §7.1). Windows are in bits, 8..15. */
export interface DeflateParameters {
  /** The server resets its compression context after every message (§7.1.1.1). */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after every message (§7.1.1.2). */
  clientNoContextTakeover: boolean;
  /** The server's LZ77 window is at most 2^bits bytes (§7.1.2.1); 15 when the answer names none. */
  serverMaxWindowBits: number;
  /** The client's LZ77 window is at most 2^bits bytes (§7.1.2.2); 15 when nobody limited it. */
  clientMaxWindowBits: number;
}

/**
 * What a server is willing to do. Each option is a bound the server imposes; the client's offer
 * may only make the agreement tighter.
 */
export interface DeflateServerOptions {
  /**
   * Always reset the compressor after each message, whether the client asked or not (§7.1.1.1
   * lets the server add it to any answer). With it the server keeps no compression state between
   * messages, and can compress a broadcast once for every recipient. Default false: only when the
   * client's offer asks for it.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Always tell the client to reset its compressor after each message (§7.1.1.2 lets the server
   * add it to any answer, and every client must obey it). With it the server keeps no
   * decompression state between messages. Default false: only when the client's offer says so.
   */
  clientNoContextTakeover?: boolean;
  /**
   * Largest window the server compresses with, 8..15 (2^n bytes of history, §7.1.2.1). An offer
   * asking for less gets what it asks. Default 15, zlib's own default.
   */
  serverMaxWindowBits?: number;
  /**
   * Largest window the server lets the client compress with, 8..15 (§7.1.2.2): the server needs a
   * window this big to decompress. Below 15 it can only be asked of a client whose offer carries
   * `client_max_window_bits` (every browser's does); an offer without it is declined. Default 15.
   */
  clientMaxWindowBits?: number;
}

/** A server's options, checked and with every default filled in (see {@link deflateServerPolicy}). */
export type DeflateServerPolicy = Readonly<Required<DeflateServerOptions>>;

/** What a client offers. */
export interface DeflateClientOptions {
  /** Ask the server to reset its compressor after each message (§7.1.1.1). Default false. */
  serverNoContextTakeover?: boolean;
  /** Promise to reset our compressor after each message (§7.1.1.2). Default false. */
  clientNoContextTakeover?: boolean;
  /** Ask the server to compress with a window of at most 2^n bytes, 8..15 (§7.1.2.1). Default: not asked. */
  serverMaxWindowBits?: number;
  /**
   * `true` (the default, as browsers send it): offer `client_max_window_bits` with no value, so the
   * server may limit our window; a number 8..15: we will use at most 2^n bytes, and the server may
   * lower it further; `false`: do not offer the parameter (the server may then not limit us).
   */
  clientMaxWindowBits?: number | boolean;
}

/** A client's options, checked and with every default filled in (see {@link deflateClientPolicy}). */
export interface DeflateClientPolicy {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number | undefined;
  readonly clientMaxWindowBits: number | boolean;
}

/** The server's answer to an accepted offer. */
export interface DeflateAgreement {
  params: DeflateParameters;
  /** The exact Sec-WebSocket-Extensions value to send, e.g. `permessage-deflate; client_max_window_bits=10`. */
  response: string;
}

/** The server's verdict on one offer: accepted, or declined with the reason (for logs and tests). */
export type DeflateOfferAnswer = ({ ok: true } & DeflateAgreement) | { ok: false; reason: string };

const WINDOW_BITS = rule.integer(8, 15);

/**
 * Check a server's permessage-deflate options (`true` means all defaults) and fill in the
 * defaults. A wrong type, a value out of range or an unknown name throws WS_ERR_INVALID_OPTION
 * (side 'local'), naming `where`.
 */
export function deflateServerPolicy(options: DeflateServerOptions | true = {}, where = 'perMessageDeflate'): DeflateServerPolicy {
  const given = options === true ? {} : options;
  checkOptions(where, given, {
    serverNoContextTakeover: rule.boolean,
    clientNoContextTakeover: rule.boolean,
    serverMaxWindowBits: WINDOW_BITS,
    clientMaxWindowBits: WINDOW_BITS,
  });
  return Object.freeze({
    serverNoContextTakeover: given.serverNoContextTakeover ?? false,
    clientNoContextTakeover: given.clientNoContextTakeover ?? false,
    serverMaxWindowBits: given.serverMaxWindowBits ?? 15,
    clientMaxWindowBits: given.clientMaxWindowBits ?? 15,
  });
}

/** Check a client's permessage-deflate options (`true` means all defaults) and fill in the defaults. */
export function deflateClientPolicy(options: DeflateClientOptions | true = {}, where = 'perMessageDeflate'): DeflateClientPolicy {
  const given = options === true ? {} : options;
  checkOptions(where, given, {
    serverNoContextTakeover: rule.boolean,
    clientNoContextTakeover: rule.boolean,
    serverMaxWindowBits: WINDOW_BITS,
    clientMaxWindowBits: rule.either(WINDOW_BITS, rule.boolean),
  });
  return Object.freeze({
    serverNoContextTakeover: given.serverNoContextTakeover ?? false,
    clientNoContextTakeover: given.clientNoContextTakeover ?? false,
    serverMaxWindowBits: given.serverMaxWindowBits,
    clientMaxWindowBits: given.clientMaxWindowBits ?? true,
  });
}

/** The parameters of one offer or answer, read and checked (§7: each may appear once, with a valid value). */
interface ReadParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true`: named without a value (allowed in an offer only). */
  clientMaxWindowBits: number | true | undefined;
}

/** "a decimal integer value without leading zeros between 8 to 15, inclusive" (§7.1.2.1, §7.1.2.2). */
function windowBits(value: string): number | undefined {
  return /^(?:[89]|1[0-5])$/.test(value) ? Number(value) : undefined;
}

/**
 * Read the parameters of an offer (`inOffer`) or an answer. A string is the reason the element is
 * unusable: RFC 7692 §7 lists the same conditions for a server declining an offer and for a client
 * failing on an answer — a parameter not defined there, an invalid value, a name given twice.
 */
function readParams(params: readonly ExtensionParam[], inOffer: boolean): ReadParams | string {
  const read: ReadParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (seen.has(name)) return `parameter ${name} appears twice`;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== true) return `${name} takes no value, got ${name}=${value}`;
        if (name === 'server_no_context_takeover') read.serverNoContextTakeover = true;
        else read.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        const bits = value === true ? undefined : windowBits(value);
        if (bits === undefined) return `${name} needs a value from 8 to 15 without leading zeros, got ${value === true ? 'none' : value}`;
        read.serverMaxWindowBits = bits;
        break;
      }
      case 'client_max_window_bits': {
        // §7.1.2.2: no value in an offer means "I can honour a limit"; an answer states the limit.
        if (value === true && inOffer) {
          read.clientMaxWindowBits = true;
          break;
        }
        const bits = value === true ? undefined : windowBits(value);
        if (bits === undefined) {
          return `${name} needs a value from 8 to 15 without leading zeros${inOffer ? ' (or none)' : ''}, got ${value === true ? 'none' : value}`;
        }
        read.clientMaxWindowBits = bits;
        break;
      }
      default:
        return `unknown parameter ${name}`;
    }
  }
  return read;
}

/**
 * The server's verdict on one permessage-deflate offer under `policy` (RFC 7692 §7.1): declined
 * when a parameter is unknown, repeated or has an invalid value (§7), or when the client cannot
 * honour the window the policy needs (§7.1.2.2); otherwise the parameters in force and the answer.
 *
 * The answer states every parameter that binds: `server_no_context_takeover` when offered or
 * imposed; `client_no_context_takeover` when offered (it costs nothing: the client promised it
 * already, and it lets the server drop its decompressor between messages) or imposed;
 * `server_max_window_bits` when offered (§7.1.2.1: accepting it means answering it) or when the
 * policy uses less than 15; `client_max_window_bits` only when offered (§7.1.2.2: "MUST NOT"
 * otherwise), and only when it lowers what the client offered.
 */
export function answerDeflateOffer(offer: ExtensionOffer, policy: DeflateServerPolicy): DeflateOfferAnswer {
  if (offer.name !== PERMESSAGE_DEFLATE) return { ok: false, reason: `${offer.name} is not ${PERMESSAGE_DEFLATE}` };
  const read = readParams(offer.params, true);
  if (typeof read === 'string') return { ok: false, reason: read };

  const serverMaxWindowBits = Math.min(policy.serverMaxWindowBits, read.serverMaxWindowBits ?? 15);
  // What the client will use if the answer says nothing: 15, or the value it offered (§7.1.2.2).
  const clientWindow = typeof read.clientMaxWindowBits === 'number' ? read.clientMaxWindowBits : 15;
  const clientMaxWindowBits = Math.min(policy.clientMaxWindowBits, clientWindow);
  if (clientMaxWindowBits < clientWindow && read.clientMaxWindowBits === undefined) {
    return {
      ok: false,
      reason: `the offer has no client_max_window_bits, so the client cannot be held to the ${policy.clientMaxWindowBits}-bit window this server allows`,
    };
  }
  const params: DeflateParameters = {
    serverNoContextTakeover: read.serverNoContextTakeover || policy.serverNoContextTakeover,
    clientNoContextTakeover: read.clientNoContextTakeover || policy.clientNoContextTakeover,
    serverMaxWindowBits,
    clientMaxWindowBits,
  };
  const answer: ExtensionParam[] = [];
  if (params.serverNoContextTakeover) answer.push(['server_no_context_takeover', true]);
  if (params.clientNoContextTakeover) answer.push(['client_no_context_takeover', true]);
  if (read.serverMaxWindowBits !== undefined || serverMaxWindowBits < 15) {
    answer.push(['server_max_window_bits', String(serverMaxWindowBits)]);
  }
  if (clientMaxWindowBits < clientWindow) answer.push(['client_max_window_bits', String(clientMaxWindowBits)]);
  return { ok: true, params, response: formatExtensions([{ name: PERMESSAGE_DEFLATE, params: answer }]) };
}

/**
 * The server's side of the negotiation: among the client's extension offers (every
 * Sec-WebSocket-Extensions header, in order), accept the first permessage-deflate offer that
 * {@link answerDeflateOffer} accepts, and decline the rest. `undefined`: nothing accepted — the
 * connection goes on without compression, which is always allowed (§5).
 */
export function negotiateDeflate(offers: readonly ExtensionOffer[], policy: DeflateServerPolicy): DeflateAgreement | undefined {
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const answer = answerDeflateOffer(offer, policy);
    if (answer.ok) return { params: answer.params, response: answer.response };
  }
  return undefined;
}

/**
 * The client's offer, as a Sec-WebSocket-Extensions value. With the default options it is what
 * browsers send: `permessage-deflate; client_max_window_bits`.
 */
export function deflateOffer(policy: DeflateClientPolicy): string {
  const params: ExtensionParam[] = [];
  if (policy.serverNoContextTakeover) params.push(['server_no_context_takeover', true]);
  if (policy.clientNoContextTakeover) params.push(['client_no_context_takeover', true]);
  if (policy.serverMaxWindowBits !== undefined) params.push(['server_max_window_bits', String(policy.serverMaxWindowBits)]);
  if (policy.clientMaxWindowBits === true) params.push(['client_max_window_bits', true]);
  else if (typeof policy.clientMaxWindowBits === 'number') params.push(['client_max_window_bits', String(policy.clientMaxWindowBits)]);
  return formatExtensions([{ name: PERMESSAGE_DEFLATE, params }]);
}

function refused(reason: string): WebSocketError {
  // No close code: the handshake failed, so the connection was never established and there is
  // nobody to send a Close frame to (RFC 6455 §7.1.7: the Close frame is for an established
  // connection). 1010 (§7.4.1) is for a client that needed an extension the server did not
  // accept — not this case, where the server's acceptance itself is wrong.
  return new WebSocketError('WS_ERR_HANDSHAKE_EXTENSIONS', `the server's permessage-deflate answer is invalid: ${reason}`, { side: 'remote' });
}

/**
 * The client's check of the server's answer (RFC 7692 §7: the client "MUST _Fail the WebSocket
 * Connection_" on an answer with a parameter not defined for an answer, an invalid value, a name
 * given twice, or a configuration the client does not support). `extensions` is the server's
 * parsed Sec-WebSocket-Extensions; other extensions in it are not looked at here.
 *
 * Returns `undefined` when the server did not accept the offer (compression off), the parameters
 * in force when it did, or an error (code WS_ERR_HANDSHAKE_EXTENSIONS, side 'remote') when:
 * - permessage-deflate is accepted twice (both would claim RSV1: §7, "MUST NOT accept ... together
 *   with another extension if [they] conflict ... on their use of the RSV1 bit");
 * - a parameter is unknown, repeated, or has an invalid value; client_max_window_bits has no value;
 * - we asked for server_no_context_takeover and the answer lacks it (§7.1.1.1: accepting it means
 *   answering it);
 * - we asked for server_max_window_bits=n and the answer lacks it or says more than n (§7.1.2.1);
 * - client_max_window_bits is there although we did not offer it (§7.1.2.2 "MUST NOT"), or says
 *   more than the value we offered.
 */
export function acceptDeflateAnswer(
  extensions: readonly ExtensionOffer[],
  policy: DeflateClientPolicy,
): DeflateParameters | undefined | WebSocketError {
  const answers = extensions.filter((extension) => extension.name === PERMESSAGE_DEFLATE);
  if (answers.length === 0) return undefined;
  if (answers.length > 1) return refused('permessage-deflate is accepted more than once, and only one extension may use RSV1');
  const read = readParams((answers[0] as ExtensionOffer).params, false);
  if (typeof read === 'string') return refused(read);
  const clientBits = read.clientMaxWindowBits as number | undefined; // never `true` in an answer (readParams)

  if (policy.serverNoContextTakeover && !read.serverNoContextTakeover) {
    return refused('we asked for server_no_context_takeover and the answer does not grant it');
  }
  if (policy.serverMaxWindowBits !== undefined) {
    if (read.serverMaxWindowBits === undefined) {
      return refused(`we asked for server_max_window_bits=${policy.serverMaxWindowBits} and the answer does not grant it`);
    }
    if (read.serverMaxWindowBits > policy.serverMaxWindowBits) {
      return refused(`server_max_window_bits=${read.serverMaxWindowBits} is more than the ${policy.serverMaxWindowBits} we asked for`);
    }
  }
  if (clientBits !== undefined) {
    if (policy.clientMaxWindowBits === false) return refused('client_max_window_bits is there although we did not offer it');
    if (typeof policy.clientMaxWindowBits === 'number' && clientBits > policy.clientMaxWindowBits) {
      return refused(`client_max_window_bits=${clientBits} is more than the ${policy.clientMaxWindowBits} we offered`);
    }
  }
  return {
    serverNoContextTakeover: read.serverNoContextTakeover,
    // §7.1.1.2: our offer of client_no_context_takeover binds us even if the answer leaves it out.
    clientNoContextTakeover: read.clientNoContextTakeover || policy.clientNoContextTakeover,
    serverMaxWindowBits: read.serverMaxWindowBits ?? 15,
    clientMaxWindowBits: clientBits ?? (typeof policy.clientMaxWindowBits === 'number' ? policy.clientMaxWindowBits : 15),
  };
}
