import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { Position, StreamingPullRequest, type StreamingPullResponse } from '@herald/api';
import { rpc, testKafka, waitFor } from '@herald/testkit';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { PullStream } from './pull-stream';

/** Established TCP connections of process `pid` to any of `ports` (its Kafka connections), from /proc. */
function connectionsTo(pid: number, ports: Set<number>): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  let count = 0;
  for (const table of ['tcp', 'tcp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      const remotePort = parseInt(fields[2]!.split(':')[1]!, 16);
      const established = fields[3] === '01';
      if (established && ports.has(remotePort) && inodes.has(fields[9]!)) count++;
    }
  }
  return count;
}

describe('dispatcher fan-out (two instances, 3-broker Kafka)', function () {
  this.timeout(300_000);
  const subscriptions = 200;
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture('fanout', { DISPATCHER_MAX_STREAMS: '2000' });
  });
  after(async () => f?.close());

  it('serves 200 subscriptions of one topic from one read per dispatcher: each gets every message, a slow one holds back only itself', async () => {
    await f.createTopic('news', 3);
    const names = Array.from({ length: subscriptions }, (_, i) => `news-${i}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((name) => f.createSubscription({ name, topic: 'news' })));
    }
    // Half the streams reach a dispatcher that does not serve their subscription: they are relayed.
    const streams = names.map(
      (name, i) =>
        new PullStream(f.dispatchers[i % 2]!, {
          subscription: name,
          // The last one is slow: one message at a time, 20 ms each.
          ...(i === names.length - 1 ? { maxOutstandingMessages: 1, processingMillis: 20 } : {}),
        }),
    );
    // Subscriptions start where they were created, so none misses a message published before it is served.
    await f.waitForServing(names[0]!, 'served');
    const ids = await f.publish('news', 300, (i) => ({ data: Buffer.from(`news ${i}`) }));
    const fast = streams.slice(0, -1);
    await waitFor(() => fast.every((stream) => ids.every((id) => stream.acked.has(id))), {
      timeoutMillis: 120_000,
      description: 'every fast subscription acknowledged every message',
    });
    const slow = streams[streams.length - 1]!;
    const slowWhenFastDone = slow.acked.size;
    console.log(
      `      ${fast.length} subscriptions got all ${ids.length} messages; the slow one had ${slowWhenFastDone} by then`,
    );
    assert.ok(slowWhenFastDone < ids.length, 'the slow subscription was still behind: it held nobody back');

    // Kafka connections do not grow with subscriptions: each dispatcher has its few clients, not one per subscription.
    const brokerPorts = new Set(testKafka().brokers.map((b) => Number(b.split(':')[1])));
    const connections = f.stack.dispatchers.map((d) => connectionsTo(d.pid, brokerPorts));
    console.log(
      `      Kafka connections per dispatcher with ${subscriptions} subscriptions: ${connections.join(', ')}`,
    );
    for (const count of connections) assert.ok(count < 40, `${count} Kafka connections`);

    // A seek replays for its subscription alone.
    const before = streams.map((s) => s.deliveries.length);
    await rpc(f.registry, f.registry.seek, {
      subscription: names[0]!,
      target: { $case: 'position', value: Position.POSITION_EARLIEST },
    });
    await waitFor(() => streams[0]!.deliveries.length >= before[0]! + ids.length, {
      timeoutMillis: 60_000,
      description: 'the seeked subscription replayed',
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const others = streams.slice(1, -1).filter((s, i) => s.deliveries.length !== before[i + 1]);
    assert.equal(others.length, 0, 'no other subscription got anything again');
    streams.forEach((s) => s.close());
  });

  it('tells a stream that accepts redirects where its subscription is served, and serves it there', async () => {
    await f.createTopic('direct', 2);
    await f.createSubscription({ name: 'direct-sub', topic: 'direct' });
    // One message at a time each, so that both streams below get some.
    const slow = { subscription: 'direct-sub', maxOutstandingMessages: 1, processingMillis: 20 };
    // Served or relayed, a plain stream starts the subscription on its owner.
    const plain = new PullStream(f.dispatchers[0]!, slow);
    const owner = await f.servedBy('direct-sub');
    const other = 1 - owner;

    // The other dispatcher answers with the owner's address alone, and ends the stream with OK.
    const redirected = f.dispatchers[other]!.streamingPull();
    const responses: StreamingPullResponse[] = [];
    redirected.on('data', (response: StreamingPullResponse) => responses.push(response));
    const ended = new Promise<void>((resolve, reject) => {
      redirected.on('end', resolve);
      redirected.on('error', reject);
    });
    redirected.write(StreamingPullRequest.fromPartial({ subscription: 'direct-sub', acceptRedirect: true }));
    await ended;
    assert.equal(responses.length, 1);
    assert.equal(responses[0]!.servedBy, f.stack.dispatchers[owner]!.address);
    assert.equal(responses[0]!.receivedMessages.length, 0);

    // At that address the same first request is served, beside the plain stream.
    const direct = new PullStream(f.dispatchers[owner]!, { ...slow, acceptRedirect: true });
    const ids = await f.publish('direct', 20, (i) => ({ data: Buffer.from(`direct ${i}`) }));
    await waitFor(() => ids.every((id) => direct.acked.has(id) || plain.acked.has(id)), {
      timeoutMillis: 60_000,
      description: 'every message acknowledged on one of the two streams',
    });
    assert.ok(direct.deliveries.length > 0 && plain.deliveries.length > 0, 'both streams were served');
    assert.equal(direct.responseSizes.length, direct.deliveries.length, 'no served_by answer to the owner');
    assert.equal(direct.reconnects + plain.reconnects, 0);
    direct.close();
    plain.close();
  });
});
