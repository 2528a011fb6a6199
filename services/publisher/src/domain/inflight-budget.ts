import { ResourceExhaustedError } from '@herald/errors';

/**
 * Bounds the bytes a publisher holds while waiting for Kafka, so that a slow
 * or unreachable cluster turns into RESOURCE_EXHAUSTED for new requests rather
 * than unbounded memory.
 */
export class InflightBudget {
  private used = 0;

  constructor(private readonly limitBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Takes `bytes` from the budget; a request larger than the whole budget is let through alone. */
  acquire(bytes: number): void {
    if (this.used > 0 && this.used + bytes > this.limitBytes) {
      throw new ResourceExhaustedError(
        'PUBLISHER_MAX_INFLIGHT_BYTES',
        `${this.used} bytes are already waiting for Kafka; retry with backoff`,
      );
    }
    this.used += bytes;
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}
