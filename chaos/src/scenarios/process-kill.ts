import { waitUntil } from '../scenario';
import type { Scenario } from '../scenario';

/**
 * Scenario 3: kill -9 a dispatcher while subscribers hold leased messages from
 * it, then kill -9 the publisher a PublishStream is writing to while requests
 * on it are unanswered.
 */
export const processKill: Scenario = {
  name: 'process-kill',
  title: 'kill -9 a dispatcher holding leases, and a publisher in the middle of PublishStream',
  description:
    'Each subscription gets a third subscriber pinned to dispatcher-1 (the one on the unordered subscription acks ' +
    'slowly, so that it always holds leased messages). Once it does, dispatcher-1 is killed with SIGKILL; its partitions must move to dispatcher-2 ' +
    'and what it had leased must come again. It is restarted 12 s (8 s short) later. Then the publisher instance ' +
    'the PublishStream client writes to is killed while requests are unanswered on the stream: the client writes ' +
    'them again through the other instance with the same idempotency keys (the SDK publisher retries its unary ' +
    'calls the same way), and the dispatchers must deliver each once.',
  pinnedSubscribers: true,
  async run(ctx) {
    const dispatcher = ctx.deployment.stack.dispatchers[0]!;
    ctx.onCleanup(() => ctx.deployment.restoreAll());
    const pinned = ctx.subscribers.filter((s) => s.name.includes('pinned'));
    await waitUntil(() => pinned.some((s) => s.held > 10), 30_000, 'pinned subscribers holding leases');
    const held = pinned.map((s) => `${s.name} ${s.held}`).join(', ');
    await ctx.fault(`kill -9 dispatcher-1 (leased to its pinned subscribers: ${held})`, 'inject', async () => {
      dispatcher.kill();
      await dispatcher.waitExit(10_000);
    });
    await ctx.sleep(ctx.t(12_000, 8_000));
    await ctx.fault('restart dispatcher-1', 'repair', () => dispatcher.start());
    await ctx.sleep(ctx.t(5_000, 2_000));

    const stream = ctx.publishers.find((p) => p.stream)!.stream!;
    const deadline = Date.now() + 30_000;
    while (stream.inflight < 2 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    const endpoint = stream.currentEndpoint;
    const index = ctx.deployment.publisherEndpoints.indexOf(endpoint);
    const victim = ctx.deployment.stack.publishers[index]!;
    const unanswered = stream.inflight;
    await ctx.fault(
      `kill -9 publisher-${index + 1} (${unanswered} PublishStream requests unanswered on it)`,
      'inject',
      async () => {
        victim.kill();
        await victim.waitExit(10_000);
      },
    );
    await ctx.sleep(ctx.t(8_000, 3_000));
    await ctx.fault(`restart publisher-${index + 1}`, 'repair', () => victim.start());
  },
};
