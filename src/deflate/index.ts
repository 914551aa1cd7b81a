/**
 * permessage-deflate's codec (RFC 7692 §6, §7.2): compressing and inflating whole messages, with
 * no I/O. Negotiation is in src/handshake/permessage-deflate.ts; framing (RSV1 on the first
 * frame, §6.1) is the frames layer's.
 *
 * Read in this order: `engine` (one zlib stream run synchronously, and why), `pool` (engines
 * shared by connections that keep no state between messages), `deflater` (§7.2.1), `inflater`
 * (§7.2.2, bounded by maxPayload), `codes` (the error table).
 */
import type { DeflateParameters } from '../handshake/permessage-deflate.js';
import type { DeflaterOptions } from './deflater.js';
import type { InflaterOptions } from './inflater.js';

export { DeflateErrorCode } from './codes.js';
export { Deflater, DEFAULT_THRESHOLD, compressShared, shareKeyOf, type DeflaterOptions } from './deflater.js';
export { Inflater, type InflaterOptions } from './inflater.js';
export { ZlibPool, sharedPool, type ZlibPoolOptions, type ZlibPoolStats } from './pool.js';

/**
 * Which of the agreed parameters (RFC 7692 §7.1) configure which side's codec: the `server_*`
 * ones constrain the server's compressor and so the client's decompressor, and the `client_*`
 * ones the other way round. Spread the results into the options of `new Deflater()` and
 * `new Inflater()` with the rest of the configuration (threshold, level, maxPayload, pool).
 */
export function codecOptions(
  params: DeflateParameters,
  role: 'server' | 'client',
): { deflater: Pick<DeflaterOptions, 'windowBits' | 'noContextTakeover'>; inflater: Pick<InflaterOptions, 'windowBits' | 'noContextTakeover'> } {
  const server = { windowBits: params.serverMaxWindowBits, noContextTakeover: params.serverNoContextTakeover };
  const client = { windowBits: params.clientMaxWindowBits, noContextTakeover: params.clientNoContextTakeover };
  return role === 'server' ? { deflater: server, inflater: client } : { deflater: client, inflater: server };
}
