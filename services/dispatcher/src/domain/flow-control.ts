/** What a stream asked for: the most unacknowledged messages and bytes it holds at once. */
export interface FlowLimits {
  maxOutstandingMessages: number;
  maxOutstandingBytes: number;
}

/**
 * Counts what one stream holds. A stream never gets more than it asked for;
 * a single message larger than the byte limit still goes to an empty stream,
 * or it could never be delivered.
 */
export class FlowControl {
  private messages = 0;
  private bytes = 0;

  /** Changeable while the stream runs: a push endpoint's concurrency adapts (`DeliveryEngine.setStreamLimits`). */
  constructor(public limits: FlowLimits) {}

  get outstandingMessages(): number {
    return this.messages;
  }

  get outstandingBytes(): number {
    return this.bytes;
  }

  /** Whether a message of `size` bytes fits now. */
  fits(size: number): boolean {
    if (this.messages >= this.limits.maxOutstandingMessages) return false;
    return this.messages === 0 || this.bytes + size <= this.limits.maxOutstandingBytes;
  }

  hasRoom(): boolean {
    return this.messages < this.limits.maxOutstandingMessages && this.bytes < this.limits.maxOutstandingBytes;
  }

  add(size: number): void {
    this.messages++;
    this.bytes += size;
  }

  remove(size: number): void {
    this.messages = Math.max(0, this.messages - 1);
    this.bytes = Math.max(0, this.bytes - size);
  }
}
