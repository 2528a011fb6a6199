import type { Subscription } from '@herald/api';
import { FailedPreconditionError, NotFoundError, UnavailableError } from '@herald/errors';
import type { RegistryWatcher, WatchedChange } from '@herald/registry-watch';
import { validateResourceName } from '@herald/resource-names';
import type { FlowLimits } from './domain/flow-control';
import { type RuntimeDeps, type StreamEndpoint, SubscriptionRuntime } from './subscription-runtime';

/** A subscriber stream once attached to its subscription. */
export interface AttachedStream {
  ack(ackIds: string[]): void;
  nack(ackIds: string[]): void;
  modifyDeadlines(ackIds: string[], seconds: number[]): void;
  /** The stream can take messages again after its buffer was full. */
  drained(): void;
  /** The stream went away: what it holds is delivered again. */
  detach(): void;
}

/**
 * The subscriptions this dispatcher serves: a runtime per subscription with
 * connected streams, kept in step with the registry (updates, seeks,
 * deletions) through its Watch stream.
 */
export class DispatcherService {
  private readonly runtimes = new Map<string, Promise<SubscriptionRuntime>>();
  private nextStreamId = 1;
  private stopping = false;

  constructor(
    private readonly watcher: RegistryWatcher,
    private readonly deps: RuntimeDeps,
  ) {
    watcher.on('change', (change) => this.onRegistryChange(change));
  }

  /**
   * Attaches a stream to a subscription, starting its consumer if this is the
   * first stream here.
   *
   * @throws NotFoundError, FailedPreconditionError (detached), UnavailableError.
   */
  async attach(
    name: string,
    endpoint: StreamEndpoint,
    limits: FlowLimits,
    ackDeadlineMillis: number | undefined,
  ): Promise<AttachedStream> {
    validateResourceName('subscription', name);
    if (this.stopping) throw new UnavailableError('dispatcher is stopping; connect to another instance');
    const subscription = this.watcher.subscription(name) ?? (await this.watcher.fetchSubscription(name));
    if (!subscription) throw new NotFoundError('subscription', name);
    if (subscription.detached) {
      throw new FailedPreconditionError(`subscription "${name}" is detached: its topic was deleted`);
    }
    const runtime = await this.runtimeFor(subscription);
    const id = this.nextStreamId++;
    runtime.addStream(id, endpoint, limits, ackDeadlineMillis);
    const engine = runtime.engine;
    return {
      ack: (ackIds) => engine.ack(ackIds),
      nack: (ackIds) => engine.nack(ackIds),
      modifyDeadlines: (ackIds, seconds) => engine.modifyDeadlines(ackIds, seconds),
      drained: () => engine.streamDrained(id),
      detach: () => runtime.removeStream(id),
    };
  }

  /** Ends every stream with UNAVAILABLE (clients reconnect elsewhere), commits, and leaves every group. */
  async stop(): Promise<void> {
    this.stopping = true;
    const runtimes = await Promise.allSettled([...this.runtimes.values()]);
    await Promise.all(
      runtimes.map((result) =>
        result.status === 'fulfilled'
          ? result.value.terminate(new UnavailableError('dispatcher is stopping; reconnect'))
          : undefined,
      ),
    );
  }

  private runtimeFor(subscription: Subscription): Promise<SubscriptionRuntime> {
    const existing = this.runtimes.get(subscription.name);
    if (existing) return existing;
    const latest = this.watcher.subscription(subscription.name) ?? subscription;
    const runtime = new SubscriptionRuntime(latest, this.deps, (idle) => this.onIdle(idle));
    const starting = runtime.start().then(
      () => runtime,
      (error: unknown) => {
        this.runtimes.delete(subscription.name);
        throw error;
      },
    );
    this.runtimes.set(subscription.name, starting);
    return starting;
  }

  private onIdle(runtime: SubscriptionRuntime): void {
    if (runtime.streamCount > 0) return;
    void this.retire(runtime.name, runtime, () => runtime.stop());
  }

  private onRegistryChange(change: WatchedChange): void {
    if (change.kind === 'subscription-upserted') {
      const { subscription } = change;
      void this.withRuntime(subscription.name, (runtime) => {
        if (runtime.createRevision !== subscription.createRevision) {
          return this.retire(subscription.name, runtime, () =>
            runtime.terminate(new NotFoundError('subscription', subscription.name)),
          );
        }
        if (subscription.detached) {
          return this.retire(subscription.name, runtime, () =>
            runtime.terminate(new FailedPreconditionError(`subscription "${subscription.name}" is detached`)),
          );
        }
        runtime.update(subscription);
        return Promise.resolve();
      });
    } else if (change.kind === 'subscription-deleted') {
      void this.withRuntime(change.name, (runtime) =>
        this.retire(change.name, runtime, () => runtime.terminate(new NotFoundError('subscription', change.name))),
      );
    }
  }

  private async withRuntime(name: string, act: (runtime: SubscriptionRuntime) => Promise<void>): Promise<void> {
    const runtime = await this.runtimes.get(name)?.catch(() => undefined);
    if (runtime) await act(runtime);
  }

  private async retire(name: string, runtime: SubscriptionRuntime, stop: () => Promise<void>): Promise<void> {
    const current = await this.runtimes.get(name)?.catch(() => undefined);
    if (current === runtime) this.runtimes.delete(name);
    await stop().catch((error: unknown) => this.deps.logger.warn({ err: error, subscription: name }, 'stop failed'));
  }
}
