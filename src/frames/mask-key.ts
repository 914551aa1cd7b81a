/**
 * Masking keys (RFC 6455 §5.3): a client picks a fresh key for every frame, "derived from a strong
 * source of entropy" so that it cannot be predicted.
 */
import { randomFillSync } from 'node:crypto';

/**
 * Keys come from `crypto.randomFillSync`, drawn 8 KiB at a time: one system call per 2048 frames
 * instead of one per frame.
 */
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Copies a fresh 4-byte masking key into `target[offset .. offset + 4)`. */
export function writeMaskKey(target: Buffer, offset: number): void {
  if (poolOffset === POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  target[offset] = pool[poolOffset];
  target[offset + 1] = pool[poolOffset + 1];
  target[offset + 2] = pool[poolOffset + 2];
  target[offset + 3] = pool[poolOffset + 3];
  poolOffset += 4;
}
