/**
 * Paces work to at most `perSecond` items a second on average, in bursts of
 * at most one second's worth: `delayFor(n)` says how long to wait before
 * taking `n` items, and takes them. Time is passed in, so tests need no clock.
 */
export class RateLimit {
  /** Items that may go now; negative when the last batch went on credit. */
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    nowMillis: number,
  ) {
    // A start with a full second's credit would let the first batch and the next second's go back to back.
    this.tokens = 0;
    this.last = nowMillis;
  }

  /** How long to wait (ms) before taking `count` items; they count as taken. */
  delayFor(count: number, nowMillis: number): number {
    this.tokens = Math.min(this.perSecond, this.tokens + ((nowMillis - this.last) * this.perSecond) / 1000);
    this.last = nowMillis;
    this.tokens -= count;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.perSecond);
  }
}

/**
 * Dead letters per write-back batch at a given rate: about ten batches a
 * second, 1 to 500 each. Each batch costs three acknowledged Kafka writes
 * (its intent, its copies, its completion), so a batch per message would cap
 * a redrive far below the rates asked for.
 */
export function batchSizeFor(perSecond: number): number {
  return Math.min(500, Math.max(1, Math.ceil(perSecond / 10)));
}
