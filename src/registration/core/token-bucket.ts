/**
 * A token bucket: `burst` tokens, refilled continuously at `perSecond`. Every limit of the server
 * role that is "so many per second, with a burst" is one of these: messages per connection (control
 * frames included), deliveries per sender (the fan-out budget), refused answers per address
 * (address-limiter.ts).
 *
 * Pure: the caller passes the time, in milliseconds. A clock that goes backwards refills nothing.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** The balance at `now`: at most `burst`, below zero while a debt is being repaid. */
  balance(now: number): number {
    const elapsed = Math.max(0, now - this.at);
    this.at = Math.max(this.at, now);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
    return this.tokens;
  }

  /**
   * Spends `cost` tokens if at least one is left, and says whether it did. The cost may overdraw
   * the bucket: one broadcast to more recipients than `burst` is still possible, and the debt is
   * repaid (at `perSecond`) before anything else is allowed. The sender pays, in time.
   */
  take(now: number, cost = 1): boolean {
    if (this.balance(now) < 1) return false;
    this.tokens -= cost;
    return true;
  }

  /** Spends `cost` tokens whatever the balance, down to `-burst` at most (a debt of one burst). */
  charge(now: number, cost = 1): void {
    this.tokens = Math.max(-this.burst, this.balance(now) - cost);
  }

  /** Milliseconds from `now` until at least one token is left again (0 if one is). */
  waitFor(now: number): number {
    const missing = 1 - this.balance(now);
    return missing <= 0 ? 0 : (missing * 1000) / this.perSecond;
  }

  /** True when the bucket is full at `now`: it remembers nothing, and can be forgotten. */
  full(now: number): boolean {
    return this.balance(now) >= this.burst;
  }
}
