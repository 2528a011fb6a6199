import assert from 'node:assert/strict';
import { FailedPreconditionError, UnavailableError } from '@herald/errors';
import { matchAll } from '@herald/filter';
import { createLogger } from '@herald/logging';
import type { RedriveDeps, RedriveJob, RedriveProgress } from './redriver';
import { Redrives } from './redrives';

const logger = createLogger({ service: 'test', level: 'silent' });

function job(subscription: string): RedriveJob {
  return {
    selection: { subscription, filter: matchAll, startMillis: undefined, endMillis: undefined },
    deadLetterTopic: 'herald.dead',
    deadLetterTopicId: 'dead@1',
    target: `${subscription}@1`,
    sourceTopic: 'herald.orders',
    sourcePartitions: 3,
    perSecond: 100,
  };
}

const done: RedriveProgress = { examined: 1, toExamine: 1, moved: 1, recovered: 0, done: true };

/**
 * Redrives that run until the test ends them: like the real one, a run that
 * is aborted still finishes its batch under way (`finishBatch`) before it
 * rejects with the abort's reason.
 */
function standIn() {
  const runs: Array<{ subscription: string; signal: AbortSignal; finish: () => void; finishBatch: () => void }> = [];
  const run = (_deps: RedriveDeps, j: RedriveJob, _report: unknown, signal: AbortSignal) =>
    new Promise<RedriveProgress>((resolve, reject) => {
      let batchDone: () => void = () => {};
      const batch = new Promise<void>((r) => (batchDone = r));
      signal.addEventListener('abort', () => void batch.then(() => reject(signal.reason as Error)));
      runs.push({
        subscription: j.selection.subscription,
        signal,
        finish: () => resolve(done),
        finishBatch: batchDone,
      });
    });
  return { runs, redrives: new Redrives({} as RedriveDeps, logger, run) };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Redrives', () => {
  it('runs one redrive per subscription at a time, and others beside it', async () => {
    const { runs, redrives } = standIn();
    const first = redrives.run(job('orders-sub'), () => {}, new AbortController().signal);
    await assert.rejects(
      redrives.run(job('orders-sub'), () => {}, new AbortController().signal),
      (error: unknown) => error instanceof FailedPreconditionError && /running already/.test(error.message),
    );
    const other = redrives.run(job('billing-sub'), () => {}, new AbortController().signal);
    assert.deepEqual(
      runs.map((r) => r.subscription),
      ['orders-sub', 'billing-sub'],
    );
    runs[0]!.finish();
    runs[1]!.finish();
    assert.deepEqual(await first, done);
    assert.deepEqual(await other, done);
    const next = redrives.run(job('orders-sub'), () => {}, new AbortController().signal);
    runs[2]!.finish();
    assert.deepEqual(await next, done, 'a finished one makes room');
  });

  it('lets a call wait for one whose caller went away to finish its batch, then runs it', async () => {
    const { runs, redrives } = standIn();
    const caller = new AbortController();
    const first = redrives.run(job('orders-sub'), () => {}, caller.signal);
    const firstFailed = assert.rejects(first, UnavailableError);
    caller.abort();
    const second = redrives.run(job('orders-sub'), () => {}, new AbortController().signal);
    await turn();
    assert.equal(runs.length, 1, 'the second waits while the first finishes its batch');
    runs[0]!.finishBatch();
    await firstFailed;
    await turn();
    assert.equal(runs.length, 2);
    runs[1]!.finish();
    assert.deepEqual(await second, done);
  });

  it('stops every redrive and resolves once none writes any more', async () => {
    const { runs, redrives } = standIn();
    const a = assert.rejects(
      redrives.run(job('orders-sub'), () => {}, new AbortController().signal),
      /the dispatcher is stopping; call again to continue/,
    );
    const b = assert.rejects(
      redrives.run(job('billing-sub'), () => {}, new AbortController().signal),
      UnavailableError,
    );
    let stopped = false;
    const stopping = redrives.stopAll('the dispatcher is stopping').then(() => (stopped = true));
    await turn();
    assert.ok(runs.every((r) => r.signal.aborted));
    assert.equal(stopped, false, 'batches under way first');
    runs[0]!.finishBatch();
    runs[1]!.finishBatch();
    await stopping;
    await Promise.all([a, b]);
  });
});
