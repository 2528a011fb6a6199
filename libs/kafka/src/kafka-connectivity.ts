import { EventEmitter } from 'node:events';
import type { Logger } from '@herald/logging';

/** Options of {@link KafkaConnectivity}. */
export interface KafkaConnectivityOptions {
  /**
   * Asks the cluster something cheap (its broker list) and resolves when a
   * broker answered; must settle within `timeoutMillis`.
   */
  probe: (timeoutMillis: number) => Promise<void>;
  /** Releases what the probe holds (its connections). */
  close?: () => Promise<void>;
  logger: Logger;
  /** Time between probes. @defaultValue 1 s */
  intervalMillis?: number;
  /** How long one probe may take. @defaultValue 2.5 s */
  probeTimeoutMillis?: number;
  /** Failed probes in a row that make Kafka count as unreachable. @defaultValue 2 */
  failuresToLose?: number;
  /** While Kafka stays away, one "still unreachable" line this often. @defaultValue 30 s */
  stillLostLogMillis?: number;
}

/**
 * Whether this process can reach Kafka now, for readiness and for failing
 * requests at once (UNAVAILABLE) rather than after the client's own timeouts.
 *
 * A bounded probe every second decides (two failures in a row lose Kafka,
 * one answer brings it back); the clients use `probeAnyBroker`, so one
 * frozen broker among several is no outage. The client libraries' own "all
 * brokers down" signal ({@link KafkaConnectivity.reportDown}) only makes a
 * loss known sooner. Every state change is one log line, and an outage adds
 * one line every `stillLostLogMillis`: the client libraries' per-retry lines
 * go to debug.
 *
 * Emits `reachable` with `true` (reachable again) or `false` (lost).
 */
export class KafkaConnectivity extends EventEmitter<{ reachable: [reachable: boolean] }> {
  private reachableNow = true;
  private failures = 0;
  private lastError = '';
  private lostAt = 0;
  /** When the failures that lost Kafka began: an outage is counted from there. */
  private firstFailureAt = 0;
  private lastStillLostLine = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private stopped = false;
  private readonly intervalMillis: number;
  private readonly probeTimeoutMillis: number;
  private readonly failuresToLose: number;
  private readonly stillLostLogMillis: number;

  constructor(private readonly options: KafkaConnectivityOptions) {
    super();
    this.intervalMillis = options.intervalMillis ?? 1_000;
    this.probeTimeoutMillis = options.probeTimeoutMillis ?? 2_500;
    this.failuresToLose = options.failuresToLose ?? 2;
    this.stillLostLogMillis = options.stillLostLogMillis ?? 30_000;
  }

  /** Whether Kafka answered recently. Starts true: a service only starts once it reached Kafka. */
  get reachable(): boolean {
    return this.reachableNow;
  }

  /** Why Kafka counts as unreachable, for a caller's error message. */
  get unreachableReason(): string {
    const seconds = Math.max(0, Math.round((Date.now() - this.outageStart()) / 1000));
    return `Kafka unreachable for ${seconds} s (${this.lastError || 'no broker answered'}); retry later`;
  }

  /** Starts probing. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.probeOnce(), this.intervalMillis);
    this.timer.unref();
  }

  /** Stops probing and closes the probe's connections; the state stays as it was. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.options.close?.();
  }

  /**
   * A client library said every broker is down: probe now, and count Kafka
   * as lost if that probe fails too, rather than after the usual failures in
   * a row. (One client's view alone could be a moment's reconnect.)
   */
  reportDown(why: string): void {
    if (!this.timer || this.stopped) return;
    this.lastError = why;
    if (this.failures === 0) this.firstFailureAt = Date.now();
    this.failures = Math.max(this.failures, this.failuresToLose - 1);
    void this.probeOnce();
  }

  private async probeOnce(): Promise<void> {
    if (this.probing || this.stopped) return;
    this.probing = true;
    try {
      await withTimeout(this.options.probe(this.probeTimeoutMillis), this.probeTimeoutMillis);
      this.failures = 0;
      this.setReachable(true);
    } catch (error) {
      if (this.failures === 0) this.firstFailureAt = Date.now();
      this.failures++;
      this.lastError = error instanceof Error ? error.message : String(error);
      if (this.failures >= this.failuresToLose) this.setReachable(false);
      if (!this.reachableNow && Date.now() - this.lastStillLostLine >= this.stillLostLogMillis) {
        this.lastStillLostLine = Date.now();
        this.options.logger.warn(
          { outageMillis: Date.now() - this.outageStart(), lastError: this.lastError },
          'Kafka still unreachable',
        );
      }
    } finally {
      this.probing = false;
    }
  }

  private outageStart(): number {
    return this.firstFailureAt || this.lostAt;
  }

  private setReachable(reachable: boolean): void {
    if (reachable === this.reachableNow) return;
    this.reachableNow = reachable;
    if (reachable) {
      this.options.logger.info({ outageMillis: Date.now() - this.outageStart() }, 'Kafka reachable again');
    } else {
      this.lostAt = Date.now();
      this.lastStillLostLine = this.lostAt;
      this.options.logger.warn({ lastError: this.lastError }, 'Kafka unreachable');
    }
    this.emit('reachable', reachable);
  }
}

function withTimeout<T>(promise: Promise<T>, millis: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no broker answered within ${millis} ms`)), millis);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
