import type { TraceHeaders } from '@herald/tracing';
import type { PushOutcome } from '../domain/adaptive-concurrency';
import type { Delivery } from '../domain/delivery-engine';

/** One push request's result. */
export interface PushResult {
  outcome: PushOutcome;
  /** The status or error, for logs and stats (`HTTP 503`, `UNAVAILABLE: ...`). */
  detail: string;
}

/** Sends one delivery to a push endpoint, HTTP or gRPC. */
export interface PushTransport {
  /** The endpoint, as the subscription names it. */
  readonly endpoint: string;
  /**
   * Checks that the endpoint may be reached (resolving its host).
   * @throws PushRefusedError when it resolves to a restricted address.
   */
  check(): Promise<void>;
  /**
   * Sends `delivery`, under the W3C trace context `trace` when there is one;
   * never rejects. The request is abandoned after `timeoutMillis` or when
   * `signal` aborts.
   */
  push(delivery: Delivery, timeoutMillis: number, signal: AbortSignal, trace?: TraceHeaders): Promise<PushResult>;
  close(): void;
}
