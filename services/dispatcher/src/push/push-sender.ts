import type { Logger } from '@herald/logging';
import { MessagingAttribute, type Span, SpanStatusCode, serviceTracer, traceHeadersOf } from '@herald/tracing';
import { AdaptiveConcurrency, type PushOutcome, pushOutcomes } from '../domain/adaptive-concurrency';
import type { Delivery, DeliveryEngine, DeliverySink } from '../domain/delivery-engine';
import type { PushReport } from '../domain/subscription-report';
import { PushRefusedError } from './endpoint-guard';
import { startDeliverSpan } from '../grpc/delivery-tracing';
import type { PushTransport } from './push-transport';

/** How soon a refused or unresolvable endpoint is checked again. */
const recheckMillis = 30_000;
/** Bytes a push endpoint may hold at once, besides its message limit. */
const maxOutstandingBytes = 100 * 1024 * 1024;

/** What a sender is given. */
export interface PushSenderOptions {
  subscription: string;
  engine: DeliveryEngine;
  /** The id it is known by among the engine's streams. */
  streamId: number;
  transport: PushTransport;
  maxOutstanding: number;
  /** The request timeout: the subscription's ack deadline, read per request (it can change). */
  ackDeadlineMillis: () => number;
  /** Acks and nacks made room: the runtime reads on. */
  settled: () => void;
  logger: Logger;
}

/**
 * Delivers a push subscription's messages to its endpoint. To the delivery
 * engine it is one more stream: the engine leases it messages under the same
 * rules as a StreamingPull stream (ordering keys one at a time, redelivery
 * with backoff, dead letters, filters, dedup), and its flow limit is the
 * endpoint's adaptive concurrency, so it is never leased more messages than
 * requests it may send. Each request ends in an ack (success) or a nack (any
 * failure, timeout included), which sends the message back after the
 * subscription's retry backoff.
 *
 * Before the first request, and every 30 s while refused, the endpoint's host
 * is resolved: while it points at an address push may not reach, the sender
 * takes no messages (they wait, unleased, their attempts unspent) and says so
 * in a log line and its report.
 */
export class PushSender implements DeliverySink {
  private readonly concurrency: AdaptiveConcurrency;
  private readonly abort = new AbortController();
  private readonly outcomes = Object.fromEntries(pushOutcomes.map((outcome) => [outcome, 0])) as Record<
    PushOutcome,
    number
  >;
  private state: PushReport['state'] = 'checking';
  private inFlight = 0;
  private lastError: string | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly logger: Logger;

  constructor(private readonly options: PushSenderOptions) {
    this.concurrency = new AdaptiveConcurrency(options.maxOutstanding);
    this.logger = options.logger.child({ subscription: options.subscription, endpoint: options.transport.endpoint });
  }

  /** Joins the engine as a stream that takes nothing until the endpoint was checked. */
  start(): void {
    this.options.engine.addStream(this.options.streamId, this, this.limits(0));
    void this.check();
  }

  get endpoint(): string {
    return this.options.transport.endpoint;
  }

  /** Called by the engine with messages leased to this endpoint: one request each, at once. */
  send(batch: Delivery[]): boolean {
    for (const delivery of batch) void this.deliver(delivery);
    return true;
  }

  /** Leaves the engine (what is in flight is delivered again) and cancels the requests. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.recheck);
    this.options.engine.removeStream(this.options.streamId);
    this.abort.abort();
    this.options.transport.close();
  }

  report(): PushReport {
    return {
      endpoint: this.endpoint,
      state: this.state,
      concurrency: this.concurrency.limit,
      maxOutstanding: this.concurrency.ceiling,
      inFlight: this.inFlight,
      outcomes: { ...this.outcomes },
      lastError: this.lastError,
    };
  }

  private async check(): Promise<void> {
    try {
      await this.options.transport.check();
      if (this.stopped) return;
      if (this.state !== 'ready') this.logger.info({ concurrency: this.concurrency.limit }, 'push delivery started');
      this.state = 'ready';
      this.options.engine.setStreamLimits(this.options.streamId, this.limits());
    } catch (error) {
      if (this.stopped) return;
      const refused = error instanceof PushRefusedError;
      if (refused) this.outcomes.refused++;
      this.lastError = (error as Error).message;
      if (this.state !== 'refused' || !refused) {
        this.logger.warn(
          { err: error, retryInSeconds: recheckMillis / 1000 },
          refused ? 'push endpoint refused' : 'push endpoint not resolved',
        );
      }
      this.state = refused ? 'refused' : 'checking';
      this.options.engine.setStreamLimits(this.options.streamId, this.limits(0));
      this.recheck = setTimeout(() => void this.check(), recheckMillis);
    }
  }

  private async deliver(delivery: Delivery): Promise<void> {
    this.inFlight++;
    const started = this.concurrency.started();
    const span = this.deliverSpan(delivery);
    const result = await this.options.transport.push(
      delivery,
      this.options.ackDeadlineMillis(),
      this.abort.signal,
      span && traceHeadersOf(span.spanContext()),
    );
    this.inFlight--;
    if (span) {
      span.setAttribute(MessagingAttribute.settlement, result.outcome === 'ok' ? 'ack' : 'nack');
      if (result.outcome !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: result.detail });
      span.end();
    }
    if (this.stopped) return;
    this.outcomes[result.outcome]++;
    this.concurrency.finished(started, result.outcome);
    const { engine } = this.options;
    if (result.outcome === 'refused' && this.state === 'ready') {
      // The host now resolves to a refused address (it changed since it was checked): stop taking messages.
      this.state = 'refused';
      this.logger.warn({ reason: result.detail, retryInSeconds: recheckMillis / 1000 }, 'push endpoint refused');
      clearTimeout(this.recheck);
      this.recheck = setTimeout(() => void this.check(), recheckMillis);
    }
    // The new limit first: the ack or nack below makes room, and the engine fills it at once.
    if (this.state === 'ready') engine.setStreamLimits(this.options.streamId, this.limits());
    else engine.setStreamLimits(this.options.streamId, this.limits(0));
    if (result.outcome === 'ok') {
      engine.ack([delivery.ackId]);
    } else {
      this.lastError = result.detail;
      if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug(
          { messageId: delivery.message.messageId, deliveryAttempt: delivery.deliveryAttempt, ...result },
          'push failed',
        );
      }
      engine.nack([delivery.ackId]);
    }
    this.options.settled();
  }

  /**
   * With tracing on, a `deliver <subscription>` span (CONSUMER) per request, a
   * child of the context the record carried, as a StreamingPull delivery gets;
   * the request carries it, so the endpoint's work joins the message's trace.
   */
  private deliverSpan(delivery: Delivery): Span | undefined {
    const tracer = serviceTracer();
    return (
      tracer &&
      startDeliverSpan(tracer, delivery, this.options.subscription, { 'messaging.herald.push.endpoint': this.endpoint })
    );
  }

  private limits(messages = this.concurrency.limit): { maxOutstandingMessages: number; maxOutstandingBytes: number } {
    return { maxOutstandingMessages: messages, maxOutstandingBytes };
  }
}
