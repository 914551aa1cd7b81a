/**
 * Masking (RFC 6455 §5.3) for large payloads, in WebAssembly with 128-bit SIMD (mask.wat, the
 * source; mask-wasm-bytes.ts, its assembled bytes). WebAssembly cannot see a Node Buffer's memory,
 * so the payload goes through the module's own memory in pieces of {@link PIECE} bytes: copy in,
 * XOR sixteen bytes at a time, copy out. The pieces are small enough to stay in the CPU's cache,
 * where the two copies cost less than the XOR saves; measured here, the round trip beats
 * mask-fast.ts's 64-bit loop from about 8 KiB on (`npm run bench:codec`), so mask-fast.ts hands
 * ranges from {@link WASM_THRESHOLD} bytes here.
 */
import { MASK_WASM } from './mask-wasm-bytes.js';

/** Bytes per copy through the module's memory (a multiple of 4: each piece starts on key byte 0 of its rotation). */
export const PIECE = 16 * 1024;

/** Ranges from this many bytes go through the kernel (below, the copies cost more than SIMD saves). */
export const WASM_THRESHOLD = 8 * 1024;

/** The module's XOR and the bytes of its memory, or undefined where WebAssembly SIMD is not available. */
export interface Kernel {
  xor(length: number, key: number): void;
  memory: Uint8Array;
}

/**
 * Compiles and instantiates the module from `bytes` (base64), synchronously: it is 237 bytes.
 * @returns undefined when this runtime cannot compile it (WebAssembly or its SIMD missing), so the
 *   caller keeps the JavaScript path.
 */
export function loadKernel(bytes: string): Kernel | undefined {
  const binary = Buffer.from(bytes, 'base64');
  const wasm = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (wasm === undefined || !wasm.validate(binary)) return undefined;
  const { exports } = new wasm.Instance(new wasm.Module(binary));
  return { xor: exports.xor, memory: new Uint8Array(exports.memory.buffer, 0, PIECE) };
}

/** The little of the WebAssembly global used here (its types come with the DOM lib, which the build does not load; the API reference's build does, hence `as unknown`). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { xor(length: number, key: number): void; memory: { buffer: ArrayBuffer } } };
}

/** The kernel of this process, made when this module loads. */
export const kernel = loadKernel(MASK_WASM);

/**
 * Writes `source[start .. end)` XOR the masking key to `target` from `targetStart` (the same
 * buffer and offset masks in place), through `k`; `source[start]` takes key byte `phase` of `key`
 * (the four key bytes as one number, first byte highest, as in mask-fast.ts).
 */
export function xorRangeWasm(k: Kernel, source: Uint8Array, start: number, end: number, key: number, phase: number, target: Uint8Array = source, targetStart: number = start): void {
  // The module reads the key as a little-endian i32 in memory order: the byte for `source[start]`
  // lowest. Rotate the key left by `phase` bytes, then reverse its byte order.
  const shift = (phase & 3) << 3;
  const rotated = shift === 0 ? key : ((key << shift) | (key >>> (32 - shift))) >>> 0;
  const little = ((rotated >>> 24) | ((rotated >>> 8) & 0xff00) | ((rotated << 8) & 0xff0000) | (rotated << 24)) | 0;
  const memory = k.memory;
  for (let at = start; at < end; at += PIECE) {
    const stop = at + PIECE < end ? at + PIECE : end;
    memory.set(source.subarray(at, stop), 0);
    k.xor(stop - at, little);
    target.set(memory.subarray(0, stop - at), targetStart + (at - start));
  }
}
