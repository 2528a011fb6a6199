import { HeraldClientError } from '@herald/client';
import type { Scenario, ScenarioContext } from '../scenario';

/**
 * Scenario 4: kill -9 and restart registry instances while subscriptions are
 * being created and seeked.
 */
export const registryKill: Scenario = {
  name: 'registry-kill',
  title: 'kill -9 and restart a registry while subscriptions are created and seeked',
  description:
    'An admin client that knows both registries creates a subscription every 2 s, up to 8 (a subscriber attaches ' +
    'to each at once), and seeks an earlier one each time, alternately to the earliest position and to the time the load began. ' +
    'Meanwhile registry-1 is killed with SIGKILL and restarted 10 s later, then the same for registry-2. Every ' +
    'subscription must receive every acknowledged message sent after it was created, or after the time it was ' +
    'seeked to (all of them after a seek to earliest); publishers and dispatchers must fail over their Watch.',
  async run(ctx) {
    ctx.onCleanup(() => ctx.deployment.restoreAll());
    const loadStart = Math.min(...[...ctx.history.publishes.values()].map((p) => p.sentAt));
    let stop = false;
    const workload = adminWorkload(ctx, loadStart, () => stop);
    try {
      await ctx.sleep(4_000);
      const victims = ctx.short ? [0] : [0, 1];
      for (const i of victims) {
        const registry = ctx.deployment.stack.registries[i]!;
        await ctx.fault(`kill -9 registry-${i + 1}`, 'inject', async () => {
          registry.kill();
          await registry.waitExit(10_000);
        });
        await ctx.sleep(ctx.t(10_000, 6_000));
        await ctx.fault(`restart registry-${i + 1}`, 'repair', () => registry.start());
        await ctx.sleep(ctx.t(6_000, 4_000));
      }
    } finally {
      stop = true;
      await workload;
    }
    ctx.note(
      'Heal times in this scenario include the replays the seeks ask for: each seek makes a dispatcher ' +
        're-deliver the whole topic to one subscription, which competes for the same cores as the steady load.',
    );
    const ops = ctx.history.adminOps;
    ctx.note(
      `Admin calls: ${ops.length}, of which failed: ${ops.filter((o) => o.outcome !== 'ok').length} ` +
        `(${[...new Set(ops.filter((o) => o.outcome !== 'ok').map((o) => `${o.op}: ${o.outcome}`))].join('; ') || 'none'}).`,
    );
  },
};

async function adminWorkload(ctx: ScenarioContext, loadStart: number, stopped: () => boolean): Promise<void> {
  const created: string[] = [];
  let n = 0;
  while (!stopped()) {
    // Up to 8 subscriptions (each replays the whole topic when seeked), then seeks only.
    const name = `${ctx.topic}-reg-${++n}`;
    const outcome =
      n > 8
        ? 'skipped'
        : await adminOp(ctx, 'CreateSubscription', name, () =>
            ctx.admin.createSubscription({ name, topic: ctx.topic, ackDeadlineSeconds: 10 }),
          );
    // ALREADY_EXISTS after a retry: the first attempt created it; it exists now at the latest.
    if (outcome === 'ok' || outcome === 'ALREADY_EXISTS') {
      const createdAt = Date.now();
      ctx.history.subscriptionCreated({
        name,
        topic: ctx.topic,
        ordered: false,
        createdAt,
        receiveSentFrom: createdAt,
      });
      ctx.addSubscriber(name, ctx.deployment.dispatcherEndpoints, `reg-${n}`);
      created.push(name);
    }
    if (created.length > 1) {
      const target = n > 8 ? created[n % created.length]! : created[created.length - 2]!;
      const toEarliest = n % 2 === 0;
      const startedAt = Date.now();
      const seekOutcome = await adminOp(ctx, toEarliest ? 'Seek earliest' : 'Seek to load start', target, () =>
        ctx.admin.seek(target, toEarliest ? 'earliest' : new Date(loadStart)),
      );
      const record = ctx.history.subscriptions.get(target)!;
      if (seekOutcome === 'ok') {
        const replaysSentFrom = toEarliest ? 0 : loadStart;
        record.receiveSentFrom = Math.min(record.receiveSentFrom, replaysSentFrom);
        (record.seeks ??= []).push({ startedAt, at: Date.now(), replaysSentFrom });
      }
    }
    await ctx.sleep(2_000);
  }
}

/** Runs one admin call and records it; returns `ok` or the status name. */
async function adminOp(
  ctx: ScenarioContext,
  op: string,
  target: string,
  call: () => Promise<unknown>,
): Promise<string> {
  const startedAt = Date.now();
  let outcome = 'ok';
  try {
    await call();
  } catch (error) {
    outcome = HeraldClientError.from(error).codeName;
  }
  ctx.history.adminOp({ op, target, startedAt, doneAt: Date.now(), outcome });
  return outcome;
}
