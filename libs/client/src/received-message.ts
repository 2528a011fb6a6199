import type { ReceivedMessage as ReceivedMessageProto } from '@herald/api';
import type { SettleResult } from './subscriber/confirmations';
import { type MessageTraceContext, splitTraceAttributes } from './tracing';

/** What a message does when settled: the subscriber forwards it on the stream it came from. */
export interface Settler {
  ack(message: ReceivedMessage): Promise<SettleResult>;
  nack(message: ReceivedMessage): Promise<SettleResult>;
  modifyAckDeadline(message: ReceivedMessage, seconds: number): Promise<SettleResult>;
}

/**
 * A message delivered to a subscriber. Call `ack()` once it is processed, or
 * `nack()` to have it delivered again (after the subscription's retry backoff).
 * While neither happens, the subscriber keeps extending its lease.
 */
export class ReceivedMessage {
  /** The id the publisher assigned; the same on every delivery. */
  readonly id: string;
  readonly data: Buffer;
  readonly attributes: Readonly<Record<string, string>>;
  /** Empty when the message had none. */
  readonly orderingKey: string;
  /** Empty when the message had none. */
  readonly idempotencyKey: string;
  /** When the publisher accepted it. */
  readonly publishTime: Date;
  /** 1 on the first delivery, then 2, 3... */
  readonly deliveryAttempt: number;
  /** The opaque token of this delivery. */
  readonly ackId: string;
  /** When the subscriber received it (ms since the epoch). */
  readonly receivedAtMillis = Date.now();
  /**
   * The W3C trace context Herald delivered it with, when it was published with
   * tracing on (Herald carries it in reserved attributes, which are not among
   * `attributes`). With an OpenTelemetry SDK registered, the subscriber
   * already starts a `process` span under it.
   */
  readonly traceContext: MessageTraceContext | undefined;
  /** The result of the ack or nack that settled it; a repeated call returns the same. */
  private settlement: Promise<SettleResult> | undefined;

  constructor(
    proto: ReceivedMessageProto,
    private readonly settler: Settler,
    /** The stream it came on; acks of an older stream are dropped (the message comes again). */
    readonly streamGeneration: number,
  ) {
    this.id = proto.messageId;
    this.data = Buffer.isBuffer(proto.data) ? proto.data : Buffer.from(proto.data);
    ({ attributes: this.attributes, trace: this.traceContext } = splitTraceAttributes(proto.attributes));
    this.orderingKey = proto.orderingKey;
    this.idempotencyKey = proto.idempotencyKey;
    this.publishTime = proto.publishTime ?? new Date(0);
    this.deliveryAttempt = proto.deliveryAttempt;
    this.ackId = proto.ackId;
  }

  /** Whether it was acked or nacked already. */
  get isSettled(): boolean {
    return this.settlement !== undefined;
  }

  /**
   * Marks the message processed. On an exactly-once subscription the result
   * says whether the ack took: `{ ok: true, confirmed: true }` once it is
   * stored, after which the message is never delivered again; otherwise why
   * not (`expired`, `lease-moved`, `invalid`: the message comes again, or
   * `unavailable`: unknown). On other subscriptions it resolves at once with
   * `confirmed: false` (at least once: the message may still come again).
   * The promise never rejects, so ignoring it is safe. Later calls (of `ack`
   * or `nack`) return the first call's result.
   */
  ack(): Promise<SettleResult> {
    this.settlement ??= this.settler.ack(this);
    return this.settlement;
  }

  /**
   * Gives the message back: it is delivered again after the retry backoff.
   * The result as for {@link ReceivedMessage.ack} (confirmed: the lease ended).
   */
  nack(): Promise<SettleResult> {
    this.settlement ??= this.settler.nack(this);
    return this.settlement;
  }

  /**
   * Sets this delivery's deadline to `seconds` from now (0 gives it back at
   * once, without backoff). On an exactly-once subscription the result says
   * whether the lease was still this stream's to extend.
   */
  modifyAckDeadline(seconds: number): Promise<SettleResult> {
    if (this.settlement) return this.settlement;
    const result = this.settler.modifyAckDeadline(this, seconds);
    if (seconds === 0) this.settlement = result;
    return result;
  }
}
