/**
 * A token bucket: `burst` tokens, refilled continuously at `perSecond`: the server role's limit of
 * messages per connection.
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

  /** Spends one token if there is one, and says whether it did. */
  take(now: number): boolean {
    if (this.balance(now) < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
