/** How one push request ended, as far as delivery and concurrency are concerned. */
export type PushOutcome =
  /** 2xx, or gRPC OK: acknowledged. */
  | 'ok'
  /** 429, or RESOURCE_EXHAUSTED: the endpoint asks for less. */
  | 'throttled'
  /** 5xx, or a gRPC status saying the server failed or is unavailable. */
  | 'server-error'
  /** No answer within the ack deadline. */
  | 'timeout'
  /** The connection failed (refused, reset, DNS). */
  | 'network-error'
  /** Any other answer (a 4xx, a redirect, INVALID_ARGUMENT...): the endpoint refused this message. */
  | 'rejected'
  /** The endpoint resolved to an address push may not reach (SSRF guard); nothing was sent. */
  | 'refused';

/** Every outcome, for counters. */
export const pushOutcomes: readonly PushOutcome[] = [
  'ok',
  'throttled',
  'server-error',
  'timeout',
  'network-error',
  'rejected',
  'refused',
];

/** Outcomes saying the endpoint is overloaded: they halve the concurrency. */
const overloaded: ReadonlySet<PushOutcome> = new Set(['throttled', 'server-error', 'timeout', 'network-error']);

/** A request as the limiter saw it start. */
export interface Started {
  /** The number of decreases before it started. */
  readonly generation: number;
}

/**
 * Requests allowed in flight to one push endpoint, by additive increase and
 * multiplicative decrease (AIMD, as TCP): one more after each success, up to
 * `max`; half after a failure that says the endpoint is overloaded, never
 * below 1. Many requests in flight when an endpoint starts failing all fail
 * together: only a failure of a request started after the last decrease
 * decreases again, so one bad moment halves the limit once, not once per
 * request it caught.
 */
export class AdaptiveConcurrency {
  private current: number;
  private decreases = 0;

  constructor(
    private readonly max: number,
    initial = 1,
  ) {
    this.current = clamp(initial, max);
  }

  /** Requests that may be in flight now. */
  get limit(): number {
    return this.current;
  }

  get ceiling(): number {
    return this.max;
  }

  /** Call when a request starts; pass what it returns to {@link finished}. */
  started(): Started {
    return { generation: this.decreases };
  }

  /** A request ended; returns the new limit. */
  finished(request: Started, outcome: PushOutcome): number {
    if (outcome === 'ok') {
      this.current = clamp(this.current + 1, this.max);
    } else if (overloaded.has(outcome) && request.generation === this.decreases) {
      this.decreases++;
      this.current = clamp(Math.floor(this.current / 2), this.max);
    }
    return this.current;
  }
}

function clamp(value: number, max: number): number {
  return Math.max(1, Math.min(value, max));
}
