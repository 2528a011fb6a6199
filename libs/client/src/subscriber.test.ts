import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { LeaseFailureReason, StreamingPullResponse } from '@herald/api';
import type { ReceivedMessage } from './received-message';
import { Subscriber, type SubscriberOptions } from './subscriber';
import type { PullCall } from './subscriber/message-stream';
import { FakePullCall } from './testing/fake-pull-call';
import { fakeTimers } from './testing/fake-timers';
import type { Timers } from './timers';

/** A Subscriber on fake streams and a fake clock: the wiring of its parts, without a server. */
function fakeSubscriber(options: Partial<SubscriberOptions> = {}) {
  const { clock, timers } = fakeTimers();
  const calls: FakePullCall[] = [];
  class TestSubscriber extends Subscriber {
    protected override get timers(): Timers {
      return timers;
    }
    protected override openStream(): PullCall {
      const call = new FakePullCall();
      calls.push(call);
      return call;
    }
  }
  const subscriber = new TestSubscriber({
    endpoints: ['127.0.0.1:1'],
    subscription: 'sub',
    reconnect: { initialMillis: 100, maxMillis: 100 },
    ...options,
  });
  const received: ReceivedMessage[] = [];
  subscriber.on('message', (message) => received.push(message));
  subscriber.start();
  return { clock, subscriber, calls, received };
}

describe('Subscriber (its parts wired together, on a fake clock)', () => {
  it('batches acks and nacks of the current stream onto it', async () => {
    const { clock, calls, received, subscriber } = fakeSubscriber();
    calls[0]!.deliver('a', 'b', 'c');
    assert.equal(subscriber.heldCount, 3);
    received[0]!.ack();
    received[1]!.nack();
    assert.equal(subscriber.heldCount, 1);
    clock.tick(10);
    assert.deepEqual(calls[0]!.settled().acks, ['a']);
    assert.deepEqual(calls[0]!.settled().nacks, ['b']);
    assert.equal(calls[0]!.written.length, 2, 'the initial request, then one with both');
    received[2]!.ack();
    const closing = subscriber.close();
    await clock.tickAsync(100);
    await closing;
  });

  it('drops acks of a broken stream: its messages come again on the next one', async () => {
    const { clock, calls, received, subscriber } = fakeSubscriber();
    calls[0]!.deliver('a');
    calls[0]!.fail(status.UNAVAILABLE);
    assert.equal(subscriber.heldCount, 0, 'what the broken stream delivered is no longer held');
    await clock.tickAsync(100);
    assert.equal(calls.length, 2);
    received[0]!.ack();
    calls[1]!.deliver('a2');
    received[1]!.ack();
    await clock.tickAsync(10);
    assert.deepEqual(calls[1]!.settled().acks, ['a2'], 'the old ack id is not sent on the new stream');
    assert.deepEqual(calls[0]!.settled().acks, []);
    const closing = subscriber.close();
    await clock.tickAsync(100);
    await closing;
  });

  it('extends the lease of held messages on the stream', async () => {
    const { clock, calls, subscriber } = fakeSubscriber({ ackDeadlineSeconds: 10 });
    calls[0]!.deliver('a');
    await clock.tickAsync(8_000);
    assert.deepEqual(calls[0]!.settled().deadlines, [['a', 10]]);
    const closing = subscriber.close();
    await clock.tickAsync(10_100);
    await closing;
  });

  it('close waits for held messages to be settled, sends the acks, then ends the stream', async () => {
    const { clock, calls, received, subscriber } = fakeSubscriber({ closeTimeoutMillis: 5_000 });
    calls[0]!.deliver('a');
    let closed = false;
    const closing = subscriber.close().then(() => (closed = true));
    await clock.tickAsync(1_000);
    assert.equal(closed, false, 'waits for the held message');
    assert.equal(calls[0]!.ended, false);
    received[0]!.ack();
    await clock.tickAsync(0);
    assert.deepEqual(calls[0]!.settled().acks, ['a'], 'the ack leaves before the stream ends');
    assert.equal(calls[0]!.ended, true);
    await clock.tickAsync(50);
    await closing;
    assert.equal(closed, true);
    assert.equal(calls[0]!.cancelled, true);
  });

  it('close gives up waiting after closeTimeoutMillis', async () => {
    const { clock, calls, subscriber } = fakeSubscriber({ closeTimeoutMillis: 5_000 });
    calls[0]!.deliver('a');
    const closing = subscriber.close();
    await clock.tickAsync(4_999);
    assert.equal(calls[0]!.ended, false);
    await clock.tickAsync(51);
    await closing;
    assert.equal(calls[0]!.cancelled, true);
  });

  it('a fatal status rejects the iterator and reconnects no more', async () => {
    const { clock, calls, subscriber } = fakeSubscriber();
    const iterator = subscriber[Symbol.asyncIterator]();
    const next = iterator.next();
    calls[0]!.fail(status.NOT_FOUND, 'no such subscription');
    await assert.rejects(next, /NOT_FOUND: no such subscription/);
    await clock.tickAsync(60_000);
    assert.equal(calls.length, 1);
  });

  it('against real channels: an address nothing listens on ends in one UNAVAILABLE naming it, after maxUnreachableMillis', async function () {
    this.timeout(15_000);
    const subscriber = new Subscriber({
      endpoints: ['127.0.0.1:1', '127.0.0.1:2'],
      subscription: 'sub',
      maxUnreachableMillis: 1_500,
    });
    const started = Date.now();
    const error = await new Promise<Error>((resolve) => {
      subscriber.on('error', resolve);
      subscriber.on('message', () => undefined);
    });
    assert.match(
      error.message,
      /^UNAVAILABLE: cannot reach the dispatcher at 127\.0\.0\.1:1, 127\.0\.0\.1:2 for \d s \(last: No connection established\. Last error: .*ECONNREFUSED 127\.0\.0\.1:\d\)$/,
    );
    assert.ok(Date.now() - started < 8_000);
    await subscriber.close();
  });

  describe('exactly-once subscriptions', () => {
    const respond = (call: FakePullCall, response: Parameters<typeof StreamingPullResponse.fromPartial>[0]) =>
      call.emit('data', StreamingPullResponse.fromPartial(response));
    /** Delivers messages and confirms their leases, as the dispatcher answers the subscriber's receipt. */
    const deliverConfirmed = async (call: FakePullCall, ...ackIds: string[]) => {
      call.deliver(...ackIds);
      respond(call, { modifyDeadlineConfirmation: { ackIds } });
      await new Promise((resolve) => setImmediate(resolve));
    };

    it('hands a message over only once the dispatcher confirmed its lease; refused ones are dropped', async () => {
      const { clock, calls, received, subscriber } = fakeSubscriber({ ackDeadlineSeconds: 20 });
      respond(calls[0]!, { subscriptionProperties: { exactlyOnceDeliveryEnabled: true } });
      calls[0]!.deliver('a', 'b', 'c');
      assert.deepEqual(
        calls[0]!.settled().deadlines,
        [
          ['a', 20],
          ['b', 20],
          ['c', 20],
        ],
        'each lease is confirmed at once with a deadline change',
      );
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(received.length, 0, 'nothing is handed over before the answer');
      respond(calls[0]!, {
        modifyDeadlineConfirmation: {
          ackIds: ['a', 'c'],
          failures: [{ ackId: 'b', reason: LeaseFailureReason.LEASE_FAILURE_REASON_LEASE_MOVED, detail: 'moved' }],
        },
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        received.map((message) => message.ackId),
        ['a', 'c'],
      );
      assert.equal(subscriber.refusedOnReceiptCount, 1);
      assert.equal(subscriber.heldCount, 2, 'the refused message is not held');
      for (const message of received) void message.ack();
      respond(calls[0]!, { ackConfirmation: { ackIds: ['a', 'c'] } });
      const closing = subscriber.close();
      await clock.tickAsync(100);
      await closing;
    });

    it('hands messages over in the order they arrived, whatever order their leases are confirmed in', async () => {
      const { clock, calls, received, subscriber } = fakeSubscriber();
      respond(calls[0]!, { subscriptionProperties: { exactlyOnceDeliveryEnabled: true } });
      calls[0]!.deliver('a');
      calls[0]!.deliver('b');
      respond(calls[0]!, { modifyDeadlineConfirmation: { ackIds: ['b'] } });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(received.length, 0, 'b waits for a');
      respond(calls[0]!, { modifyDeadlineConfirmation: { ackIds: ['a'] } });
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        received.map((message) => message.ackId),
        ['a', 'b'],
      );
      for (const message of received) void message.nack();
      const closing = subscriber.close();
      await clock.tickAsync(100);
      respond(calls[0]!, { nackConfirmation: { ackIds: ['a', 'b'] } });
      await clock.tickAsync(100);
      await closing;
    });

    it('drops messages whose stream broke before their leases were confirmed', async () => {
      const { clock, calls, received, subscriber } = fakeSubscriber();
      respond(calls[0]!, { subscriptionProperties: { exactlyOnceDeliveryEnabled: true } });
      calls[0]!.deliver('a');
      calls[0]!.fail(status.UNAVAILABLE);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(received.length, 0);
      assert.equal(subscriber.heldCount, 0);
      const closing = subscriber.close();
      await clock.tickAsync(200);
      await closing;
    });

    it('resolves ack() with the dispatcher’s answer once it comes, and nack() with its failure', async () => {
      const { clock, calls, received, subscriber } = fakeSubscriber();
      respond(calls[0]!, { subscriptionProperties: { exactlyOnceDeliveryEnabled: true } });
      assert.equal(subscriber.exactlyOnce, true);
      await deliverConfirmed(calls[0]!, 'a', 'b');
      const acked = received[0]!.ack();
      const nacked = received[1]!.nack();
      let answered = false;
      void acked.then(() => (answered = true));
      await clock.tickAsync(10);
      assert.deepEqual(calls[0]!.settled().acks, ['a']);
      assert.equal(answered, false, 'not before the confirmation');
      respond(calls[0]!, { ackConfirmation: { ackIds: ['a'] } });
      respond(calls[0]!, {
        nackConfirmation: {
          failures: [{ ackId: 'b', reason: LeaseFailureReason.LEASE_FAILURE_REASON_EXPIRED, detail: 'late' }],
        },
      });
      assert.deepEqual(await acked, { ok: true, confirmed: true });
      assert.deepEqual(await nacked, { ok: false, reason: 'expired', detail: 'late' });
      assert.equal(received[0]!.ack(), acked, 'a second call returns the first result');
      const closing = subscriber.close();
      await clock.tickAsync(100);
      await closing;
    });

    it('fails unanswered acks as unavailable when their stream breaks, and acks of an older stream as expired', async () => {
      const { clock, calls, received, subscriber } = fakeSubscriber();
      respond(calls[0]!, { subscriptionProperties: { exactlyOnceDeliveryEnabled: true } });
      await deliverConfirmed(calls[0]!, 'a', 'b');
      const acked = received[0]!.ack();
      await clock.tickAsync(10);
      calls[0]!.fail(status.UNAVAILABLE);
      const result = await acked;
      assert.equal(result.ok === false && result.reason, 'unavailable');
      assert.equal(subscriber.exactlyOnce, false, 'until the next stream says so');
      await clock.tickAsync(100);
      assert.equal(calls.length, 2);
      const late = await received[1]!.ack();
      assert.equal(late.ok === false && late.reason, 'expired');
      const closing = subscriber.close();
      await clock.tickAsync(100);
      await closing;
    });

    it('close waits for the confirmations of the acks it sent before ending the stream', async () => {
      const { clock, calls, received, subscriber } = fakeSubscriber({ closeTimeoutMillis: 5_000 });
      respond(calls[0]!, { subscriptionProperties: { exactlyOnceDeliveryEnabled: true } });
      await deliverConfirmed(calls[0]!, 'a');
      const acked = received[0]!.ack();
      const closing = subscriber.close();
      await clock.tickAsync(1_000);
      assert.deepEqual(calls[0]!.settled().acks, ['a']);
      assert.equal(calls[0]!.ended, false, 'the stream stays open for the answer');
      respond(calls[0]!, { ackConfirmation: { ackIds: ['a'] } });
      assert.deepEqual(await acked, { ok: true, confirmed: true });
      await clock.tickAsync(100);
      await closing;
      assert.equal(calls[0]!.ended, true);
    });

    it('answers every ack still waiting once close gave up or a fatal error ended the stream, and acks after close at once', async () => {
      const timedOut = fakeSubscriber({ closeTimeoutMillis: 1_000 });
      respond(timedOut.calls[0]!, { subscriptionProperties: { exactlyOnceDeliveryEnabled: true } });
      await deliverConfirmed(timedOut.calls[0]!, 'a', 'b');
      const unanswered = timedOut.received[0]!.ack();
      const closing = timedOut.subscriber.close();
      await timedOut.clock.tickAsync(1_200);
      await closing;
      const result = await unanswered;
      assert.equal(result.ok === false && result.reason, 'unavailable');
      const afterClose = await timedOut.received[1]!.ack();
      assert.equal(afterClose.ok === false && afterClose.reason, 'expired');

      const fatal = fakeSubscriber();
      fatal.subscriber.on('error', () => undefined);
      respond(fatal.calls[0]!, { subscriptionProperties: { exactlyOnceDeliveryEnabled: true } });
      await deliverConfirmed(fatal.calls[0]!, 'c');
      const pending = fatal.received[0]!.ack();
      await fatal.clock.tickAsync(10);
      fatal.calls[0]!.fail(status.NOT_FOUND, 'the subscription was deleted');
      await fatal.clock.tickAsync(10_100);
      const answer = await pending;
      assert.equal(answer.ok === false && answer.reason, 'unavailable');
    });

    it('resolves at once, unconfirmed, on a subscription without it', async () => {
      const { clock, calls, received, subscriber } = fakeSubscriber();
      calls[0]!.deliver('a');
      assert.deepEqual(await received[0]!.ack(), { ok: true, confirmed: false });
      const closing = subscriber.close();
      await clock.tickAsync(100);
      await closing;
    });
  });
});
