import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { StreamingPullRequest } from '@herald/api';
import { latestOffsets, testKafka, waitFor } from '@herald/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { PullStream } from './pull-stream';

describe('dispatcher delivery (two instances, 3-broker Kafka)', function () {
  this.timeout(240_000);
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture('deliver');
  });
  after(async () => f?.close());

  it('delivers 100,000 messages at least once to two streams on two dispatchers, none lost', async () => {
    await f.createTopic('bulk', 6);
    await f.createSubscription({ name: 'bulk-sub', topic: 'bulk' });
    const streams = f.dispatchers.map(
      (d) => new PullStream(d, { subscription: 'bulk-sub', maxOutstandingMessages: 2000 }),
    );
    const published = await f.publish('bulk', 100_000, (i) => ({ data: Buffer.from(`bulk ${i}`) }), 500);
    const seenIds = () => new Set([...streams[0]!.messageIds, ...streams[1]!.messageIds]);
    await waitFor(() => seenIds().size >= published.length, {
      timeoutMillis: 180_000,
      description: 'every published message delivered',
    });
    const deliveries = streams[0]!.deliveries.length + streams[1]!.deliveries.length;
    const seen = seenIds();
    const lost = published.filter((id) => !seen.has(id));
    console.log(
      `      published ${published.length}, delivered ${deliveries} (stream 1: ${streams[0]!.deliveries.length}, stream 2: ${streams[1]!.deliveries.length}), duplicates ${deliveries - seen.size}, lost ${lost.length}`,
    );
    streams.forEach((s) => s.close());
    assert.equal(lost.length, 0);
    assert.ok(
      streams.every((s) => s.deliveries.length > 0),
      'both dispatchers delivered',
    );
  });

  it('never lets a stream with max outstanding 10 hold more than 10 unacknowledged messages', async () => {
    await f.createTopic('flow', 3);
    await f.createSubscription({ name: 'flow-sub', topic: 'flow' });
    let outstanding = 0;
    let peak = 0;
    const stream = new PullStream(f.dispatchers[0]!, {
      subscription: 'flow-sub',
      maxOutstandingMessages: 10,
      processingMillis: 20,
      decide: () => {
        outstanding--;
        return 'ack';
      },
    });
    const watch = setInterval(() => {
      outstanding = stream.deliveries.length - stream.acked.size;
      peak = Math.max(peak, outstanding);
    }, 1);
    const published = await f.publish('flow', 500);
    await waitFor(() => stream.acked.size >= published.length, { timeoutMillis: 60_000 });
    clearInterval(watch);
    // Deliveries counted against acks sent: a response never carries more than the stream's window.
    const largestResponse = Math.max(...stream.responseSizes);
    stream.close();
    console.log(`      peak outstanding ${peak}, largest response ${largestResponse}`);
    assert.ok(peak <= 10, `peak outstanding ${peak}`);
    assert.ok(largestResponse <= 10);
  });

  it('delivers only messages matching the filter, and non-matching ones do not hold back the commit', async () => {
    await f.createTopic('filtered', 2);
    await f.createSubscription({ name: 'filtered-sub', topic: 'filtered', filter: 'attributes.kind = "keep"' });
    const stream = new PullStream(f.dispatchers[1]!, { subscription: 'filtered-sub' });
    const published = await f.publish('filtered', 1000, (i) => ({
      data: Buffer.from(`f${i}`),
      attributes: { kind: i % 4 === 0 ? 'keep' : 'drop' },
    }));
    const keep = published.filter((_, i) => i % 4 === 0);
    await waitFor(() => stream.acked.size >= keep.length, { timeoutMillis: 60_000 });
    const kafkaTopic = `${f.prefix}filtered`;
    const end = await latestOffsets(testKafka().brokers, kafkaTopic);
    await waitFor(
      async () => {
        const committed = await f.storedCursor('filtered-sub');
        return [...end].every(([partition, offset]) => committed.get(partition) === offset);
      },
      { timeoutMillis: 30_000, description: 'committed offsets at the end of every partition' },
    );
    stream.close();
    assert.deepEqual([...stream.messageIds].sort(), [...keep].sort());
    assert.ok(stream.deliveries.every((d) => d.message.attributes.kind === 'keep'));
  });

  it('skips a record of an unknown format version, delivers those around it and commits past it', async () => {
    await f.createTopic('versions', 1);
    await f.createSubscription({ name: 'versions-sub', topic: 'versions' });
    const stream = new PullStream(f.dispatchers[0]!, { subscription: 'versions-sub', maxOutstandingMessages: 10 });
    const [before] = await f.publish('versions', 1);
    // A record as a later Herald might write it, straight into Kafka.
    const kafkaTopic = `${f.prefix}versions`;
    const producer = new Kafka({
      clientId: 'test-future',
      brokers: testKafka().brokers,
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    await producer.send({
      topic: kafkaTopic,
      messages: [{ value: 'from the future', headers: { 'herald-format': '99', 'herald-message-id': 'future-1' } }],
    });
    await producer.disconnect();
    const [after] = await f.publish('versions', 1);
    await waitFor(() => stream.acked.size >= 2, { timeoutMillis: 30_000, description: 'both known records acked' });
    assert.deepEqual([...stream.messageIds].sort(), [before!, after!].sort());
    const end = await latestOffsets(testKafka().brokers, kafkaTopic);
    await waitFor(async () => (await f.storedCursor('versions-sub')).get(0) === end.get(0), {
      timeoutMillis: 30_000,
      description: 'committed past the unknown record',
    });
    stream.close();
  });

  it('refuses bad StreamingPull requests with the documented codes', async () => {
    const cases: Array<[string, Partial<StreamingPullRequest>, number]> = [
      ['unknown subscription', { subscription: 'no-such-sub' }, status.NOT_FOUND],
      ['no subscription', {}, status.INVALID_ARGUMENT],
      ['bad name', { subscription: '1bad' }, status.INVALID_ARGUMENT],
      ['deadline too short', { subscription: 'bulk-sub', streamAckDeadlineSeconds: 5 }, status.INVALID_ARGUMENT],
      ['negative outstanding', { subscription: 'bulk-sub', maxOutstandingMessages: '-1' }, status.INVALID_ARGUMENT],
    ];
    for (const [title, request, code] of cases) {
      const call = f.dispatchers[0]!.streamingPull();
      const outcome = await new Promise<number>((resolve) => {
        call.on('error', (error: { code: number }) => resolve(error.code));
        call.on('data', () => undefined);
        call.write(StreamingPullRequest.fromPartial(request));
      });
      assert.equal(status[outcome], status[code], title);
    }
  });
});
