/**
 * Refused answers per client address, across connections: one connection gets at most
 * `retries + 1` answers checked, but nothing stopped an address from opening connection after
 * connection and trying again. Each address has a {@link TokenBucket} of `perMinute` tokens,
 * refilled at `perMinute` per minute; every refused answer costs one (existing connections may
 * overdraw it by up to one more minute's worth). While it holds less than one token, new
 * connections from the address are refused at the handshake.
 *
 * IPv6 addresses count by their /64 prefix, the block one subscriber is usually given (RFC 6177):
 * otherwise a single host could try from 2^64 addresses. IPv4-mapped IPv6 counts as the IPv4 address.
 *
 * Memory is bounded: an address whose bucket has refilled is forgotten, and past
 * {@link MAX_ADDRESSES} the oldest entries go first. Pure: the caller passes the time.
 */
import { TokenBucket } from './token-bucket.js';

/** The most addresses remembered at once. */
export const MAX_ADDRESSES = 10_000;

/** The key an address is counted under: IPv4 as is, IPv6 by its first four groups (/64). */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1];
  if (!address.includes(':')) return address;
  // Expand "::" to the zero groups it stands for, then keep the first four groups.
  const [head, tail] = address.toLowerCase().split('%')[0].split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class AddressLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly perMinute: number) {}

  /** Counts one refused answer from `address`. */
  charge(address: string, now: number): void {
    const key = addressKey(address);
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= MAX_ADDRESSES) this.prune(now);
      bucket = new TokenBucket(this.perMinute / 60, this.perMinute, now);
      this.buckets.set(key, bucket);
    }
    bucket.charge(now);
  }

  /** Milliseconds until `address` may connect again; 0 when it may now. */
  wait(address: string, now: number): number {
    const key = addressKey(address);
    const bucket = this.buckets.get(key);
    if (bucket === undefined) return 0;
    if (bucket.full(now)) {
      this.buckets.delete(key);
      return 0;
    }
    return bucket.waitFor(now);
  }

  /** How many addresses are remembered. */
  get size(): number {
    return this.buckets.size;
  }

  /** Forgets every address whose bucket has refilled, and then the oldest until there is room. */
  private prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.full(now)) this.buckets.delete(key);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < MAX_ADDRESSES) break;
      this.buckets.delete(key);
    }
  }
}
