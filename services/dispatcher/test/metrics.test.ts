import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { Message, type SubscriptionStats, durationToMillis } from '@herald/api';
import { rpc, waitFor } from '@herald/testkit';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { PullStream } from './pull-stream';

/** The value of one series in Prometheus text, or undefined when it is not there. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.indexOf('}')) : '';
    const have = labelText === '' ? [] : labelText.split(',');
    if (wanted.every((pair) => have.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return response.text();
}

describe('metrics and backlog figures (3-broker Kafka)', function () {
  this.timeout(180_000);
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture('metrics');
  });
  after(async () => f?.close());

  it('counts exactly what was published, delivered and acknowledged, and reports what was left unacknowledged', async () => {
    await f.createTopic('counted', 2);
    await f.createSubscription({ name: 'counted-sub', topic: 'counted', ackDeadlineSeconds: 600 });
    const asked = [0, 0];
    const stats = async (through: number): Promise<SubscriptionStats> => {
      const client = f.dispatchers[through]!;
      // UNAVAILABLE says retry (a slot between owners on a loaded machine), as any client does; only
      // answered calls (OK) are counted, as the dispatchers' own metrics count them.
      for (let attempt = 1; ; attempt++) {
        try {
          const { stats } = await rpc(client, client.getSubscriptionStats, { subscriptions: ['counted-sub'] });
          asked[through]!++;
          assert.equal(stats.length, 1);
          return stats[0]!;
        } catch (error) {
          if ((error as { code?: number }).code !== status.UNAVAILABLE || attempt >= 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    };

    // Before any stream: the whole topic is backlog, aged from the first message.
    const publishedFrom = Date.now();
    const ids = await f.publish('counted', 100, (i) => ({ data: Buffer.from(String(i)) }), 25);
    const publishedUntil = Date.now();
    await f.waitForServing('counted-sub', 'idle');
    // Asked of the first dispatcher: answered by the one serving it, which names itself.
    const { servedBy } = await stats(0);
    const served = f.stack.dispatchers.findIndex((d) => d.address === servedBy);
    assert.ok(served >= 0, `served by ${servedBy}`);
    const before = await waitFor(
      async () => {
        const s = await stats(1 - served); // relayed when asked of the other one
        return s.oldestUnackedMessageAge ? s : undefined;
      },
      { description: 'the age of an unread backlog, read from Kafka' },
    );
    assert.equal(before.numUndeliveredMessages, '100');
    assert.equal(before.numAckPending, '0');
    assert.equal(before.openStreams, 0);
    const age = durationToMillis(before.oldestUnackedMessageAge)!;
    assert.ok(age >= Date.now() - publishedUntil - 50 && age <= Date.now() - publishedFrom + 50, `age ${age} ms`);

    // Every tenth message is left unacknowledged (its lease outlasts the test); the others are acked.
    const held = (data: Buffer) => Number(data.toString()) % 10 === 0;
    const stream = new PullStream(f.dispatchers[served]!, {
      subscription: 'counted-sub',
      decide: (message) => (held(message.data) ? 'hold' : 'ack'),
    });
    await waitFor(() => stream.acked.size === 90 && stream.messageIds.size === 100, {
      description: '100 delivered, 90 acknowledged',
    });
    const heldIds = ids.filter((_, i) => i % 10 === 0);
    await waitFor(async () => (await stats(served)).numUndeliveredMessages === '10', {
      description: 'the backlog down to the 10 held messages',
    });
    const after = await stats(served);
    assert.equal(after.numAckPending, '10');
    assert.equal(after.openStreams, 1);
    assert.deepEqual(after.counts, {
      delivered: '100',
      acknowledged: '90',
      nacked: '0',
      expired: '0',
      deadLettered: '0',
      filtered: '0',
      deduplicated: '0',
    });
    const oldestHeld = Math.min(
      ...stream.deliveries
        .filter((d) => heldIds.includes(d.message.messageId))
        .map((d) => d.message.publishTime!.getTime()),
    );
    const heldAge = durationToMillis(after.oldestUnackedMessageAge)!;
    assert.ok(Math.abs(heldAge - (Date.now() - oldestHeld)) < 1_000, `oldest held ${heldAge} ms`);

    // The same figures from /metrics, exactly.
    const dispatcherText = await scrape(f.stack.dispatchers[served]!.metricsUrl);
    const sub = { subscription: 'counted-sub' };
    assert.equal(metric(dispatcherText, 'herald_subscription_deliveries_total', sub), 100);
    assert.equal(metric(dispatcherText, 'herald_subscription_acks_total', sub), 90);
    assert.equal(metric(dispatcherText, 'herald_subscription_backlog_messages', sub), 10);
    assert.equal(metric(dispatcherText, 'herald_subscription_leases_outstanding', sub), 10);
    assert.equal(metric(dispatcherText, 'herald_subscription_streams', sub), 1);
    assert.equal(metric(dispatcherText, 'herald_subscription_redeliveries_total', { ...sub, cause: 'nack' }), 0);
    const metricAge = metric(dispatcherText, 'herald_subscription_oldest_unacked_age_seconds', sub)!;
    assert.ok(Math.abs(metricAge * 1000 - (Date.now() - oldestHeld)) < 1_000, `metric age ${metricAge} s`);
    assert.equal(metric(dispatcherText, 'herald_ready'), 1);
    assert.equal(metric(dispatcherText, 'herald_dependency_up', { dependency: 'kafka' }), 1);
    assert.ok(metric(dispatcherText, 'herald_dispatcher_slots_owned')! > 0);
    const other = await scrape(f.stack.dispatchers[1 - served]!.metricsUrl);
    assert.equal(metric(other, 'herald_subscription_backlog_messages', sub), undefined, 'one dispatcher reports it');
    assert.equal(
      metric(other, 'grpc_server_handled_total', { grpc_method: 'GetSubscriptionStats', grpc_code: 'OK' }),
      asked[1 - served],
      'GetSubscriptionStats calls, counted where they were asked',
    );
    assert.equal(
      metric(dispatcherText, 'grpc_server_handled_total', { grpc_method: 'GetSubscriptionStats', grpc_code: 'OK' }),
      asked[served]! + asked[1 - served]!,
      'and those relayed to the serving dispatcher, counted there too',
    );

    const publisherText = await scrape(f.stack.publishers[0]!.metricsUrl);
    assert.equal(metric(publisherText, 'herald_publisher_messages_total', { topic: 'counted' }), 100);
    assert.equal(metric(publisherText, 'herald_publisher_batch_messages_count'), 4);
    assert.equal(metric(publisherText, 'herald_publisher_batch_messages_sum'), 100);
    assert.equal(metric(publisherText, 'grpc_server_handled_total', { grpc_method: 'Publish', grpc_code: 'OK' }), 4);
    await assert.rejects(
      rpc(f.publisher, f.publisher.publish, {
        topic: 'missing',
        messages: [Message.fromPartial({ data: Buffer.from('x') })],
      }),
    );
    const refused = await scrape(f.stack.publishers[0]!.metricsUrl);
    assert.equal(metric(refused, 'herald_publisher_rejected_messages_total', { reason: 'not_found' }), 1);
    assert.equal(metric(refused, 'grpc_server_handled_total', { grpc_method: 'Publish', grpc_code: 'NOT_FOUND' }), 1);

    const registryText = await scrape(f.stack.registries[0]!.metricsUrl);
    assert.equal(metric(registryText, 'herald_registry_topics'), 1);
    assert.equal(metric(registryText, 'herald_registry_subscriptions'), 1);
    assert.ok(metric(registryText, 'herald_registry_watch_streams')! >= 3, 'the publisher and both dispatchers watch');

    const { stats: some } = await rpc(f.dispatchers[0]!, f.dispatchers[0]!.getSubscriptionStats, {
      subscriptions: ['no-such', 'counted-sub'],
    });
    assert.deepEqual(
      some.map((s) => s.subscription),
      ['counted-sub'],
      'a subscription that does not exist is left out',
    );

    // Nacked messages go again: counted by cause, and the backlog does not move.
    stream.send({
      nackIds: stream.deliveries.filter((d) => heldIds.includes(d.message.messageId)).map((d) => d.message.ackId),
    });
    await waitFor(async () => (await stats(served)).counts?.nacked === '10', { description: '10 nacks counted' });
    stream.close();
    const nacked = await scrape(f.stack.dispatchers[served]!.metricsUrl);
    assert.equal(metric(nacked, 'herald_subscription_redeliveries_total', { ...sub, cause: 'nack' }), 10);
    assert.equal(metric(nacked, 'herald_subscription_backlog_messages', sub), 10);
  });
});
