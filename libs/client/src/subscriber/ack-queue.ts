import { StreamingPullRequest } from '@herald/api';
import type { Timers } from '../timers';

/** How acks, nacks and deadline changes are batched onto the stream. */
export interface AckQueueOptions {
  /** A settled message waits at most this long for others to share its request. @defaultValue 10 ms */
  maxDelayMillis?: number;
  /** Send at once when this many wait; a request never carries more. @defaultValue 1000 */
  maxItems?: number;
}

/**
 * Acks, nacks and deadline changes waiting to be sent, in the style of
 * Pub/Sub's ack and modack queues: they gather for a few milliseconds (or
 * until `maxItems` wait) and go out together in as few StreamingPull requests
 * as the per-request limit allows.
 */
export class AckQueue {
  private acks: string[] = [];
  private nacks: string[] = [];
  private deadlines: Array<[string, number]> = [];
  private timer: unknown;
  private readonly maxDelayMillis: number;
  private readonly maxItems: number;

  constructor(
    /** Writes one request on the current stream; resolves once it is written. */
    private readonly write: (request: StreamingPullRequest) => Promise<void>,
    private readonly timers: Timers,
    options: AckQueueOptions = {},
  ) {
    this.maxDelayMillis = options.maxDelayMillis ?? 10;
    this.maxItems = options.maxItems ?? 1000;
  }

  /** Items waiting. */
  get size(): number {
    return this.acks.length + this.nacks.length + this.deadlines.length;
  }

  ack(ackId: string): void {
    this.acks.push(ackId);
    this.schedule();
  }

  nack(ackId: string): void {
    this.nacks.push(ackId);
    this.schedule();
  }

  modifyDeadline(ackIds: string[], seconds: number): void {
    for (const ackId of ackIds) this.deadlines.push([ackId, seconds]);
    this.schedule();
  }

  /** Forgets what waits: after a stream broke, its ack ids mean nothing to the next one. */
  clear(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.acks = [];
    this.nacks = [];
    this.deadlines = [];
  }

  /** Sends everything waiting now, `maxItems` per request. */
  async flush(): Promise<void> {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const writes: Array<Promise<void>> = [];
    while (this.size > 0) {
      let room = this.maxItems;
      const acks = this.acks.splice(0, room);
      room -= acks.length;
      const nacks = this.nacks.splice(0, room);
      room -= nacks.length;
      const deadlines = this.deadlines.splice(0, room);
      writes.push(
        this.write(
          StreamingPullRequest.fromPartial({
            ackIds: acks,
            nackIds: nacks,
            modifyDeadlineAckIds: deadlines.map(([ackId]) => ackId),
            modifyDeadlineSeconds: deadlines.map(([, seconds]) => seconds),
          }),
        ),
      );
    }
    await Promise.all(writes);
  }

  private schedule(): void {
    if (this.size >= this.maxItems) void this.flush();
    else this.timer ??= this.timers.setTimeout(() => void this.flush(), this.maxDelayMillis);
  }
}
