import { FailedPreconditionError, UnavailableError } from '@herald/errors';
import type { Logger } from '@herald/logging';
import { type RedriveDeps, type RedriveJob, type RedriveProgress, redrive } from './redriver';

interface Running {
  controller: AbortController;
  finished: Promise<unknown>;
}

/**
 * The redrives running on this dispatcher: one per subscription at a time, so
 * that the state each holds is the only one written. Every one stops (after
 * its batch under way) when the dispatcher's slots move or it stops, before
 * another dispatcher may start serving the subscription.
 */
export class Redrives {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly deps: RedriveDeps,
    private readonly logger: Logger,
    /** The redrive itself; tests give a stand-in. */
    private readonly runOne: typeof redrive = redrive,
  ) {}

  /**
   * Runs a redrive of `job.selection.subscription` until done, `signal`
   * aborts, or {@link Redrives.stopAll}.
   * @throws FailedPreconditionError when one of that subscription runs already.
   */
  async run(
    job: RedriveJob,
    report: (progress: RedriveProgress) => void,
    signal: AbortSignal,
  ): Promise<RedriveProgress> {
    const subscription = job.selection.subscription;
    // One stopping (its caller gone, finishing its batch) is waited for: its caller's retry is this call.
    for (let stopping = this.running.get(subscription); stopping?.controller.signal.aborted;) {
      await stopping.finished;
      stopping = this.running.get(subscription);
    }
    if (this.running.has(subscription)) {
      throw new FailedPreconditionError(
        `a redrive of subscription "${subscription}" is running already; wait for it to end or cancel it`,
      );
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(new UnavailableError('the redrive was cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    const finished = this.runOne(this.deps, job, report, controller.signal);
    this.running.set(subscription, { controller, finished: finished.catch(() => undefined) });
    const started = Date.now();
    this.logger.info(
      { subscription, deadLetterTopic: job.deadLetterTopicId, perSecond: job.perSecond },
      'redrive started',
    );
    try {
      const progress = await finished;
      this.logger.info({ subscription, ...progress, millis: Date.now() - started }, 'redrive done');
      return progress;
    } catch (error) {
      this.logger.info({ subscription, err: error, millis: Date.now() - started }, 'redrive stopped');
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.running.delete(subscription);
    }
  }

  /** Stops every redrive and waits until none writes any more. */
  async stopAll(reason: string): Promise<void> {
    const running = [...this.running.values()];
    for (const { controller } of running) controller.abort(new UnavailableError(`${reason}; call again to continue`));
    await Promise.all(running.map(({ finished }) => finished));
  }
}
