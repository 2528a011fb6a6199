import { ResourceExhaustedError } from '@herald/errors';

/**
 * Counts the streams (StreamingPull and Tail) one dispatcher has open and
 * refuses a new one past the configured limit. Each stream holds a Kafka
 * consumer's share of memory and a slot in the event loop; past the limit a
 * new stream slowing every other one down is worse than a prompt refusal the
 * client can take to another dispatcher.
 */
export class StreamSlots {
  private open = 0;

  constructor(
    private readonly max: number,
    private readonly envName = 'DISPATCHER_MAX_STREAMS',
  ) {}

  /** Streams open now. */
  get count(): number {
    return this.open;
  }

  /**
   * Takes a slot for a new stream.
   *
   * @returns the function that gives it back; calling it more than once is harmless.
   * @throws ResourceExhaustedError when every slot is taken.
   */
  acquire(): () => void {
    if (this.open >= this.max) {
      throw new ResourceExhaustedError(
        'streams',
        `this dispatcher has ${this.open} open streams; the limit is ${this.max} (${this.envName}); retry later or on another dispatcher`,
      );
    }
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
    };
  }
}
