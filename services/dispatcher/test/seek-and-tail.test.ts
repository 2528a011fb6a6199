import assert from 'node:assert/strict';
import { Position, type ReceivedMessage, type TailResponse } from '@herald/api';
import { rpc, waitFor } from '@herald/testkit';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { PullStream } from './pull-stream';

describe('dispatcher seek and tail (3-broker Kafka)', function () {
  this.timeout(180_000);
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture('seek');
  });
  after(async () => f?.close());

  it('replays history to connected streams on seek to earliest, and skips older messages on seek to a time', async () => {
    await f.createTopic('history', 3);
    await f.createSubscription({ name: 'history-sub', topic: 'history' });
    const stream = new PullStream(f.dispatchers[0]!, { subscription: 'history-sub' });
    await f.waitForServing('history-sub', 'served');
    const early = await f.publish('history', 300, (i) => ({ data: Buffer.from(`early ${i}`) }));
    await waitFor(() => early.every((id) => stream.acked.has(id)), { description: 'early messages acknowledged' });
    const between = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20)); // record timestamps are in milliseconds
    const late = await f.publish('history', 200, (i) => ({ data: Buffer.from(`late ${i}`) }));
    await waitFor(() => late.every((id) => stream.acked.has(id)), { description: 'late messages acknowledged' });

    // Per message, so that a redelivery of one cannot stand in for the replay of another.
    const timesSeen = () => {
      const counts = new Map<string, number>();
      for (const d of stream.deliveries) counts.set(d.message.messageId, (counts.get(d.message.messageId) ?? 0) + 1);
      return counts;
    };
    const everySeen = (ids: string[], times: number) => {
      const counts = timesSeen();
      return ids.every((id) => (counts.get(id) ?? 0) >= times);
    };
    const before = stream.deliveries.length;
    await rpc(f.registry, f.registry.seek, {
      subscription: 'history-sub',
      target: { $case: 'position', value: Position.POSITION_EARLIEST },
    });
    await waitFor(() => everySeen(early, 2) && everySeen(late, 2), {
      timeoutMillis: 60_000,
      description: 'all history delivered a second time',
    });
    const replayed = stream.deliveries.length - before;

    const beforeTimeSeek = stream.deliveries.length;
    await rpc(f.registry, f.registry.seek, { subscription: 'history-sub', target: { $case: 'time', value: between } });
    await waitFor(() => everySeen(late, 3), { timeoutMillis: 60_000, description: 'messages after the time again' });
    // Give any wrongly replayed early message the time to show up.
    const marker = await f.publish('history', 1);
    await waitFor(() => stream.acked.has(marker[0]!));
    const afterTimeSeek = stream.deliveries.slice(beforeTimeSeek).map((d) => d.message.messageId);
    stream.close();
    console.log(
      `      seek to earliest replayed ${replayed} deliveries; seek to a time replayed ${afterTimeSeek.length}`,
    );
    assert.ok(replayed >= 500);
    assert.equal(afterTimeSeek.filter((id) => early.includes(id)).length, 0, 'nothing older than the time');
  });

  it('tails a topic from latest or earliest, with a filter, and leaves nothing behind', async () => {
    await f.createTopic('tailed', 2);
    const history = await f.publish('tailed', 50, (i) => ({
      data: Buffer.from(`h${i}`),
      attributes: { i: String(i) },
    }));
    const tail = (start: Position, filter = '') => {
      const received: ReceivedMessage[] = [];
      const call = f.dispatchers[1]!.tail({ topic: 'tailed', start: { $case: 'position', value: start }, filter });
      call.on('data', (response: TailResponse) => received.push(...response.messages));
      call.on('error', () => undefined);
      return { received, cancel: () => call.cancel() };
    };
    const fromEarliest = tail(Position.POSITION_EARLIEST);
    const fromLatest = tail(Position.POSITION_LATEST);
    const filtered = tail(Position.POSITION_EARLIEST, 'attributes.i = "7"');
    await waitFor(() => fromEarliest.received.length >= 50, { description: 'history from earliest' });
    // Each tail reads on its own; the filtered one may still be catching up when the others are done.
    await waitFor(() => filtered.received.length > 0, { description: 'the one matching message, filtered' });
    // A tail from latest is positioned once its consumer joins; publish until it sees something new.
    let fresh: string[] = [];
    await waitFor(
      async () => {
        fresh = fresh.concat(
          await f.publish('tailed', 5, (i) => ({ data: Buffer.from(`n${i}`), attributes: { i: `new${i}` } })),
        );
        return fromLatest.received.length > 0;
      },
      { timeoutMillis: 30_000, intervalMillis: 500 },
    );
    fromEarliest.cancel();
    fromLatest.cancel();
    filtered.cancel();
    assert.deepEqual(
      new Set(fromEarliest.received.slice(0, 50).map((m) => m.messageId)),
      new Set(history),
      'earliest starts with the history',
    );
    assert.ok(
      fromLatest.received.every((m) => fresh.includes(m.messageId)),
      'latest sees no history',
    );
    assert.ok(fromLatest.received.every((m) => m.ackId === '' && m.deliveryAttempt === 0));
    assert.deepEqual(
      filtered.received.map((m) => m.attributes.i),
      ['7'],
    );
  });
});
