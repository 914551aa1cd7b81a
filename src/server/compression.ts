/**
 * The `perMessageDeflate` option of servers and clients (RFC 7692), as ws spells it: `false`,
 * `true`, or an object with the negotiation parameters and the compressor's settings.
 */
import {
  deflateClientPolicy,
  deflateServerPolicy,
  type DeflateClientOptions,
  type DeflateClientPolicy,
  type DeflateServerOptions,
  type DeflateServerPolicy,
} from '../handshake/permessage-deflate.js';
import type { CompressionSettings } from '../connection/connection.js';
import { checkOptions, rule } from '../options.js';

/** The compressor's settings, beside the negotiation's parameters. */
export interface CompressionOptions extends CompressionSettings {
  /**
   * ws's spelling of `level` and `memLevel`; `chunkSize` (as ws's README sets it) is accepted and
   * unused: the engines size their own output. Other zlib options are not taken.
   */
  zlibDeflateOptions?: { level?: number; memLevel?: number; chunkSize?: number };
  /** ws's; accepted and unused: inflating needs no settings here. */
  zlibInflateOptions?: Record<string, unknown>;
  /** ws's; accepted and unused: compression runs synchronously, one message at a time. */
  concurrencyLimit?: number;
}

export type ServerDeflateOptions = DeflateServerOptions & CompressionOptions;
export type ClientDeflateOptions = DeflateClientOptions & CompressionOptions;

const CODEC_RULES = {
  threshold: rule.bytes(0),
  level: rule.integer(-1, 9),
  memLevel: rule.integer(1, 9),
  zlibDeflateOptions: rule.object,
  zlibInflateOptions: rule.object,
  concurrencyLimit: rule.integer(1),
};

/**
 * A server's option. `true` is the memory-bounded mode: both sides reset their context after
 * every message (server_no_context_takeover and client_no_context_takeover, which RFC 7692
 * §7.1.1 lets a server add to any answer), so an idle connection holds no zlib state at all and a
 * broadcast is compressed once for every recipient. An object is taken as it is (context takeover
 * unless it says otherwise, as ws does).
 */
export function serverCompression(option: boolean | ServerDeflateOptions | undefined, where: string): { policy: DeflateServerPolicy; settings: CompressionSettings } | undefined {
  if (option === undefined || option === false) return undefined;
  const given = option === true ? { serverNoContextTakeover: true, clientNoContextTakeover: true } : option;
  const { threshold, level, memLevel, zlibDeflateOptions, zlibInflateOptions, concurrencyLimit, ...negotiation } = given;
  checkOptions(where, { threshold, level, memLevel, zlibDeflateOptions, zlibInflateOptions, concurrencyLimit }, CODEC_RULES);
  return { policy: deflateServerPolicy(negotiation, where), settings: settingsOf(given, where) };
}

/** A client's option: `true` (the default) offers as browsers do, `permessage-deflate; client_max_window_bits`. */
export function clientCompression(option: boolean | ClientDeflateOptions | undefined, where: string): { policy: DeflateClientPolicy; settings: CompressionSettings } | undefined {
  if (option === false) return undefined;
  const given = option === undefined || option === true ? {} : option;
  const { threshold, level, memLevel, zlibDeflateOptions, zlibInflateOptions, concurrencyLimit, ...negotiation } = given;
  checkOptions(where, { threshold, level, memLevel, zlibDeflateOptions, zlibInflateOptions, concurrencyLimit }, CODEC_RULES);
  return { policy: deflateClientPolicy(negotiation, where), settings: settingsOf(given, where) };
}

function settingsOf(given: CompressionOptions, where: string): CompressionSettings {
  checkOptions(`${where}: zlibDeflateOptions`, given.zlibDeflateOptions, { level: CODEC_RULES.level, memLevel: CODEC_RULES.memLevel, chunkSize: rule.integer(64) });
  return {
    threshold: given.threshold,
    level: given.level ?? given.zlibDeflateOptions?.level,
    memLevel: given.memLevel ?? given.zlibDeflateOptions?.memLevel,
  };
}
