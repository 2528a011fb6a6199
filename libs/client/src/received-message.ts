import type { ReceivedMessage as ReceivedMessageProto } from '@herald/api';
import { type MessageTraceContext, splitTraceAttributes } from './tracing';

/** What a message does when settled: the subscriber forwards it on the stream it came from. */
export interface Settler {
  ack(message: ReceivedMessage): void;
  nack(message: ReceivedMessage): void;
  modifyAckDeadline(message: ReceivedMessage, seconds: number): void;
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
  private settled = false;

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
    return this.settled;
  }

  /** Marks the message processed: it will not be delivered again. Later calls do nothing. */
  ack(): void {
    if (this.settled) return;
    this.settled = true;
    this.settler.ack(this);
  }

  /** Gives the message back: it is delivered again after the retry backoff. Later calls do nothing. */
  nack(): void {
    if (this.settled) return;
    this.settled = true;
    this.settler.nack(this);
  }

  /** Sets this delivery's deadline to `seconds` from now (0 gives it back at once, without backoff). */
  modifyAckDeadline(seconds: number): void {
    if (this.settled) return;
    if (seconds === 0) this.settled = true;
    this.settler.modifyAckDeadline(this, seconds);
  }
}
