import { status } from '@grpc/grpc-js';
import type { StreamingPullRequest, StreamingPullResponse } from '@herald/api';
import { Backoff, type BackoffOptions, type Random } from '@herald/retry';
import { HeraldClientError, isNoConnection } from '../client-error';
import { delay, type Timers } from '../timers';

/** The part of a grpc-js duplex call the stream uses (a fake one in tests). */
export interface PullCall {
  write(request: StreamingPullRequest, callback?: () => void): unknown;
  end(): void;
  cancel(): void;
  on(event: 'data', listener: (response: StreamingPullResponse) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
}

/** Statuses that no reconnection can cure. */
const fatalCodes = new Set<number>([
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.INVALID_ARGUMENT,
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
  status.UNIMPLEMENTED,
]);

/** How the stream reconnects, and when it gives up. */
export interface MessageStreamOptions {
  reconnect?: BackoffOptions;
  /**
   * Give up (fatal UNAVAILABLE) when no connection could be made for this
   * long; breaks of a connected stream start the count over. 0: never.
   */
  maxUnreachableMillis?: number;
  /** The endpoints, for that error's message. */
  where?: string;
  random?: Random;
  /**
   * Ask to be told which dispatcher serves the subscription (`accept_redirect`) and reopen the stream there,
   * instead of being relayed by the endpoint reached first.
   */
  acceptRedirect?: boolean;
}

/** What the stream tells its owner. */
export interface MessageStreamEvents {
  /** Deliveries of stream number `generation`. */
  onResponse(response: StreamingPullResponse, generation: number): void;
  /** Stream number `generation` broke and will be reopened: its ack ids are void. */
  onBreak(generation: number, error: HeraldClientError | undefined): void;
  /** An error no reconnection can cure: the stream stays closed. */
  onFatal(error: HeraldClientError): void;
}

/**
 * One StreamingPull at a time, reopened with backoff (on the next endpoint)
 * when it breaks. Each opening is a generation: ack ids belong to the
 * generation they came on, and a late event of an old generation is ignored.
 */
export class MessageStream {
  private call: PullCall | undefined;
  private currentGeneration = 0;
  private endedGeneration = 0;
  private closed = false;
  private reconnectTimer: unknown;
  private readonly backoff: Backoff;
  /** When the current run of failed connections began. */
  private unreachableSince: number | undefined;
  /** Where the current stream was told to go (`served_by`), if it was. */
  private servedBy: string | undefined;
  /** The stream opened at a served-by address could not connect: the next one is relayed instead. */
  private redirectFailed = false;

  constructor(
    /**
     * Opens a stream: at `servedBy` when given (the dispatcher serving the subscription), else at the current
     * endpoint, or the next one first when `failover`.
     */
    private readonly open: (failover: boolean, servedBy?: string) => PullCall,
    /** The first request of every stream. */
    private readonly initialRequest: () => StreamingPullRequest,
    private readonly events: MessageStreamEvents,
    private readonly timers: Timers,
    private readonly options: MessageStreamOptions = {},
  ) {
    this.backoff = new Backoff(options.reconnect, options.random);
  }

  /** The generation of the open stream (0 before the first). */
  get generation(): number {
    return this.currentGeneration;
  }

  /** Whether a stream is open now. */
  get isOpen(): boolean {
    return this.call !== undefined;
  }

  start(): void {
    if (this.closed || this.call || this.reconnectTimer) return;
    this.connect(false);
  }

  /** Writes on the open stream; resolves once written, or at once when no stream is open (nothing to ack on). */
  write(request: StreamingPullRequest): Promise<void> {
    const call = this.call;
    if (!call) return Promise.resolve();
    return new Promise((resolve) => call.write(request, () => resolve()));
  }

  /** Half-closes the stream, lets what was written leave, then tears it down. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const call = this.call;
    this.call = undefined;
    if (call) {
      call.end();
      // Let the last acks leave before the stream is torn down.
      await delay(this.timers, 50);
      call.cancel();
    }
  }

  private connect(failover: boolean, servedBy?: string): void {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    const generation = ++this.currentGeneration;
    const redirected = servedBy !== undefined;
    let answered = false;
    const call = this.open(failover, servedBy);
    this.call = call;
    this.servedBy = undefined;
    call.on('data', (response) => {
      if (generation !== this.currentGeneration || this.closed) return;
      answered = true;
      this.backoff.reset();
      if (response.servedBy) {
        // The only response of its stream, which ends next: nothing was leased on it.
        if (!redirected) this.servedBy = response.servedBy;
        return;
      }
      this.events.onResponse(response, generation);
    });
    call.on('error', (error) => this.onEnd(generation, HeraldClientError.from(error), redirected && !answered));
    call.on('end', () => this.onEnd(generation, undefined, redirected && !answered));
    const first = this.initialRequest();
    // Told once where to go; a second hop, if ownership moved meanwhile, is the dispatchers' relay.
    first.acceptRedirect = (this.options.acceptRedirect ?? false) && !redirected && !this.redirectFailed;
    this.redirectFailed = false;
    call.write(first);
  }

  /** The error to give up with, once connections have failed for `maxUnreachableMillis`. */
  private unreachableFor(error: HeraldClientError | undefined): HeraldClientError | undefined {
    if (!error || !isNoConnection(error)) {
      // The stream was connected: whatever broke it, the endpoint is reachable.
      this.unreachableSince = undefined;
      return undefined;
    }
    const now = this.timers.now();
    this.unreachableSince ??= now;
    const limit = this.options.maxUnreachableMillis ?? 0;
    if (limit <= 0 || now - this.unreachableSince < limit) return undefined;
    const seconds = ((now - this.unreachableSince) / 1000).toFixed(0);
    return new HeraldClientError(
      status.UNAVAILABLE,
      `cannot reach the dispatcher at ${this.options.where ?? 'its endpoints'} for ${seconds} s (last: ${error.details.replace(/\.? Resolution note:\s*$/, '')})`,
      { cause: error },
    );
  }

  /** `redirectUnanswered`: the stream was opened at a served-by address and got nothing there. */
  private onEnd(generation: number, error: HeraldClientError | undefined, redirectUnanswered: boolean): void {
    // grpc-js may report one broken stream twice ('error', then 'end'): handle it once.
    if (generation !== this.currentGeneration || generation === this.endedGeneration || this.closed) return;
    this.endedGeneration = generation;
    this.call = undefined;
    const servedBy = this.servedBy;
    if (!error && servedBy !== undefined) {
      this.events.onBreak(generation, undefined);
      this.connect(false, servedBy);
      return;
    }
    // Failed where the service said (unreachable from here, say): the next stream is relayed instead.
    if (redirectUnanswered && error) this.redirectFailed = true;
    if (error && fatalCodes.has(error.code)) {
      this.closed = true;
      this.events.onFatal(error);
      return;
    }
    const unreachable = this.unreachableFor(error);
    if (unreachable) {
      this.closed = true;
      this.events.onFatal(unreachable);
      return;
    }
    this.events.onBreak(generation, error);
    this.reconnectTimer = this.timers.setTimeout(() => this.connect(true), this.backoff.next());
  }
}
