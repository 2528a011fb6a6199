import assert from 'node:assert/strict';
import { type ServiceError, status } from '@grpc/grpc-js';
import { type DispatcherServiceClient, Position, type TailRequest, type TailResponse } from '@herald/api';
import { waitFor } from '@herald/testkit';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { PullStream } from './pull-stream';

/** A Tail call that records what it receives and how it ended. */
function openTail(client: DispatcherServiceClient, request: Partial<TailRequest>) {
  const state = {
    received: 0,
    error: undefined as ServiceError | undefined,
    endedAtMillis: 0,
    cancel: () => call.cancel(),
  };
  const call = client.tail({ topic: '', filter: '', start: undefined, ...request });
  call.on('data', (response: TailResponse) => (state.received += response.messages.length));
  call.on('error', (error: ServiceError) => {
    state.error = error;
    state.endedAtMillis = Date.now();
  });
  return state;
}

describe('dispatcher limits (3-broker Kafka)', function () {
  this.timeout(180_000);
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture('limits', { DISPATCHER_MAX_STREAMS: '2' });
  });
  after(async () => f?.close());

  it('refuses a stream past DISPATCHER_MAX_STREAMS at once with RESOURCE_EXHAUSTED, and takes one again when a slot frees', async () => {
    await f.createTopic('limited', 1);
    await f.createSubscription({ name: 'limited-sub', topic: 'limited' });
    const dispatcher = f.dispatchers[0]!;
    const pull = new PullStream(dispatcher, { subscription: 'limited-sub' });
    const first = await f.publish('limited', 1);
    await waitFor(() => pull.messageIds.has(first[0]!), { description: 'the pull stream is attached' });
    const tail = openTail(dispatcher, {
      topic: 'limited',
      start: { $case: 'position', value: Position.POSITION_EARLIEST },
    });
    await waitFor(() => tail.received > 0, { description: 'the tail is open' });

    // Both slots taken: a third stream of either kind is refused, promptly and by name.
    const startedAt = Date.now();
    const refusedPull = new PullStream(dispatcher, { subscription: 'limited-sub' });
    const refusedTail = openTail(dispatcher, { topic: 'limited' });
    await waitFor(() => refusedPull.error !== undefined && refusedTail.error !== undefined, {
      description: 'both extra streams refused',
      timeoutMillis: 5_000,
    });
    for (const error of [refusedPull.error!, refusedTail.error!]) {
      assert.equal(error.code, status.RESOURCE_EXHAUSTED, error.details);
      assert.match(error.details, /2 open streams; the limit is 2 \(DISPATCHER_MAX_STREAMS\)/);
    }
    assert.ok(refusedTail.endedAtMillis - startedAt < 2_000, 'refused without delay');
    assert.equal(pull.error, undefined, 'the open pull stream is untouched');
    assert.equal(tail.error, undefined, 'the open tail is untouched');

    // The limit is per dispatcher: the other one still serves.
    const elsewhere = openTail(f.dispatchers[1]!, {
      topic: 'limited',
      start: { $case: 'position', value: Position.POSITION_EARLIEST },
    });
    await waitFor(() => elsewhere.received > 0, { description: 'the other dispatcher serves a tail' });
    elsewhere.cancel();

    // A closed stream gives its slot back.
    tail.cancel();
    let again = openTail(dispatcher, {
      topic: 'limited',
      start: { $case: 'position', value: Position.POSITION_EARLIEST },
    });
    await waitFor(
      () => {
        if (again.error?.code === status.RESOURCE_EXHAUSTED) {
          // The cancel may not have reached the server yet: try again.
          again = openTail(dispatcher, {
            topic: 'limited',
            start: { $case: 'position', value: Position.POSITION_EARLIEST },
          });
        }
        return again.received > 0;
      },
      { description: 'a new tail after one closed', timeoutMillis: 20_000 },
    );
    again.cancel();
    pull.close();
  });

  it('reads a request settling 100,000 messages at once (about 5 MB), and the stream goes on', async () => {
    await f.createTopic('bulk-acks', 1);
    await f.createSubscription({ name: 'bulk-acks-sub', topic: 'bulk-acks' });
    const pull = new PullStream(f.dispatchers[1]!, { subscription: 'bulk-acks-sub' });
    const [first] = await f.publish('bulk-acks', 1);
    await waitFor(() => pull.messageIds.has(first!), { description: 'the stream is attached' });
    // Ack ids this dispatcher never issued are ignored; only the request's size matters here.
    const ackIds = Array.from({ length: 100_000 }, (_, i) => `${i.toString(36)}.AAAAAAAAAAAAAAAA`);
    pull.send({
      ackIds,
      modifyDeadlineAckIds: ackIds,
      modifyDeadlineSeconds: ackIds.map(() => 30),
    });
    const [second] = await f.publish('bulk-acks', 1);
    await waitFor(() => pull.messageIds.has(second!) || pull.error !== undefined, {
      description: 'the next message, or the end of the stream',
    });
    assert.equal(pull.error, undefined, pull.error?.details);
    pull.close();
  });

  it('refuses a Tail from year -271821 with INVALID_ARGUMENT, not UNAVAILABLE', async () => {
    await f.createTopic('tail-times', 1);
    for (const millis of [-8.64e15, 8.64e15]) {
      const tail = openTail(f.dispatchers[1]!, {
        topic: 'tail-times',
        start: { $case: 'time', value: new Date(millis) },
      });
      await waitFor(() => tail.error !== undefined, { description: `tail from ${millis} ends`, timeoutMillis: 10_000 });
      assert.equal(tail.error!.code, status.INVALID_ARGUMENT, tail.error!.details);
      assert.match(tail.error!.details, /^time: must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z/);
    }
  });
});
