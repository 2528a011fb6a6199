import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { StreamingPullRequest, StreamingPullResponse } from '@herald/api';
import type { HeraldClientError } from '../client-error';
import { FakePullCall } from '../testing/fake-pull-call';
import { fakeTimers } from '../testing/fake-timers';
import { MessageStream } from './message-stream';

describe('MessageStream', () => {
  function setup(acceptRedirect = false) {
    const { clock, timers } = fakeTimers();
    const calls: FakePullCall[] = [];
    const failovers: boolean[] = [];
    const servedBys: Array<string | undefined> = [];
    const seen: Array<{ ackIds: string[]; generation: number }> = [];
    const breaks: number[] = [];
    const fatal: HeraldClientError[] = [];
    const stream = new MessageStream(
      (failover, servedBy) => {
        failovers.push(failover);
        servedBys.push(servedBy);
        const call = new FakePullCall();
        calls.push(call);
        return call;
      },
      () => StreamingPullRequest.fromPartial({ subscription: 'sub', streamAckDeadlineSeconds: 30 }),
      {
        onResponse: (response, generation) =>
          seen.push({ ackIds: response.receivedMessages.map((m) => m.ackId), generation }),
        onBreak: (generation) => breaks.push(generation),
        onFatal: (error) => fatal.push(error),
      },
      timers,
      {
        reconnect: { initialMillis: 100, maxMillis: 1_000 },
        random: () => 0.5,
        maxUnreachableMillis: 10_000,
        where: '127.0.0.1:1, 127.0.0.1:2',
        acceptRedirect,
      },
    );
    return { clock, stream, calls, failovers, servedBys, seen, breaks, fatal };
  }

  it('opens a stream with the initial request', () => {
    const { stream, calls } = setup();
    stream.start();
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.written[0]!.subscription, 'sub');
    assert.equal(stream.generation, 1);
  });

  it('reopens a broken stream on the next endpoint after a growing, jittered backoff, as a new generation', () => {
    const { clock, stream, calls, failovers, seen, breaks } = setup();
    stream.start();
    calls[0]!.deliver('a');
    calls[0]!.fail(status.UNAVAILABLE);
    assert.deepEqual(breaks, [1]);
    clock.tick(49);
    assert.equal(calls.length, 1, 'waits: full jitter at 0.5 of 100 ms');
    clock.tick(1);
    assert.equal(calls.length, 2);
    assert.deepEqual(failovers, [false, true]);
    calls[1]!.fail(status.UNAVAILABLE);
    clock.tick(99);
    assert.equal(calls.length, 2, 'second wait: 0.5 of 200 ms');
    clock.tick(1);
    assert.equal(calls.length, 3);
    calls[2]!.deliver('b');
    assert.deepEqual(seen, [
      { ackIds: ['a'], generation: 1 },
      { ackIds: ['b'], generation: 3 },
    ]);
    // A response resets the backoff.
    calls[2]!.fail(status.UNAVAILABLE);
    clock.tick(50);
    assert.equal(calls.length, 4);
  });

  it('ignores late events of an old generation, and one break reported twice', () => {
    const { clock, stream, calls, seen, breaks } = setup();
    stream.start();
    calls[0]!.fail(status.UNAVAILABLE);
    calls[0]!.emit('end');
    clock.tick(1_000);
    calls[0]!.deliver('late');
    calls[0]!.fail(status.UNAVAILABLE);
    assert.deepEqual(breaks, [1]);
    assert.deepEqual(seen, []);
    assert.equal(calls.length, 2);
  });

  it('stops for good on a status no reconnection cures', () => {
    const { clock, stream, calls, fatal, breaks } = setup();
    stream.start();
    calls[0]!.fail(status.NOT_FOUND, 'subscription not found');
    clock.tick(60_000);
    assert.equal(calls.length, 1);
    assert.deepEqual(breaks, []);
    assert.equal(fatal[0]!.codeName, 'NOT_FOUND');
  });

  it('close half-closes, lets the last writes leave, then cancels; no reconnection after', async () => {
    const { clock, stream, calls } = setup();
    stream.start();
    const closing = stream.close();
    assert.equal(calls[0]!.ended, true);
    assert.equal(calls[0]!.cancelled, false);
    await clock.tickAsync(50);
    await closing;
    assert.equal(calls[0]!.cancelled, true);
    calls[0]!.fail(status.UNAVAILABLE);
    clock.tick(60_000);
    assert.equal(calls.length, 1);
  });

  it('close during a reconnection wait opens nothing more', async () => {
    const { clock, stream, calls } = setup();
    stream.start();
    calls[0]!.fail(status.UNAVAILABLE);
    await stream.close();
    clock.tick(60_000);
    assert.equal(calls.length, 1);
  });

  it('gives up with UNAVAILABLE naming the endpoints once no connection could be made for maxUnreachableMillis', () => {
    const { clock, stream, calls, fatal, breaks } = setup();
    stream.start();
    const refused = 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1';
    while (fatal.length === 0 && clock.now - 1_000_000 < 60_000) {
      calls.at(-1)!.fail(status.UNAVAILABLE, refused);
      clock.tick(1_000);
    }
    assert.equal(fatal.length, 1);
    assert.equal(fatal[0]!.codeName, 'UNAVAILABLE');
    assert.match(
      fatal[0]!.message,
      /^UNAVAILABLE: cannot reach the dispatcher at 127\.0\.0\.1:1, 127\.0\.0\.1:2 for 1\d s \(last: No connection established/,
    );
    assert.ok(clock.now - 1_000_000 <= 12_000, 'within the limit and one wait');
    const opened = calls.length;
    clock.tick(60_000);
    assert.equal(calls.length, opened, 'no reconnection after giving up');
    assert.ok(breaks.length > 5);
  });

  it('a stream that was connected starts the count over', () => {
    const { clock, stream, calls, fatal } = setup();
    stream.start();
    const refused = 'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1';
    for (let i = 0; i < 8; i++) {
      calls.at(-1)!.fail(status.UNAVAILABLE, refused);
      clock.tick(1_000);
    }
    calls.at(-1)!.fail(status.UNAVAILABLE, 'Connection dropped'); // it had connected
    clock.tick(1_000);
    for (let i = 0; i < 8; i++) {
      calls.at(-1)!.fail(status.UNAVAILABLE, refused);
      clock.tick(1_000);
    }
    assert.deepEqual(fatal, [], '8 s + 8 s of failed connections, not 10 s in a row');
  });

  describe('with acceptRedirect', () => {
    const redirect = (call: FakePullCall, address: string) => {
      call.emit('data', StreamingPullResponse.fromPartial({ servedBy: address }));
      call.emit('end');
    };

    it('asks for it on the first request, then reopens at once where it was told, without asking again', () => {
      const { stream, calls, servedBys, seen, breaks } = setup(true);
      stream.start();
      assert.equal(calls[0]!.written[0]!.acceptRedirect, true);
      redirect(calls[0]!, '10.0.0.7:50053');
      assert.equal(calls.length, 2, 'no backoff wait');
      assert.deepEqual(servedBys, [undefined, '10.0.0.7:50053']);
      assert.equal(calls[1]!.written[0]!.acceptRedirect, false);
      assert.equal(calls[1]!.written[0]!.subscription, 'sub');
      calls[1]!.deliver('a');
      assert.deepEqual(seen, [{ ackIds: ['a'], generation: 2 }], 'the redirect itself is no response to the owner');
      assert.deepEqual(breaks, [1]);
    });

    it('after the served stream breaks, goes back to the endpoints and asks again', () => {
      const { clock, stream, calls, servedBys, failovers } = setup(true);
      stream.start();
      redirect(calls[0]!, '10.0.0.7:50053');
      calls[1]!.deliver('a');
      calls[1]!.fail(status.UNAVAILABLE, 'dispatcher rebalancing');
      clock.tick(1_000);
      assert.equal(calls.length, 3);
      assert.deepEqual(servedBys, [undefined, '10.0.0.7:50053', undefined]);
      assert.deepEqual(failovers, [false, false, true]);
      assert.equal(calls[2]!.written[0]!.acceptRedirect, true);
    });

    it('is relayed the next time when the served-by address failed before answering', () => {
      const { clock, stream, calls } = setup(true);
      stream.start();
      redirect(calls[0]!, '10.0.0.7:50053');
      calls[1]!.fail(status.UNAVAILABLE, 'No connection established');
      clock.tick(1_000);
      assert.equal(calls.length, 3);
      assert.equal(calls[2]!.written[0]!.acceptRedirect, false, 'relayed this time');
      calls[2]!.fail(status.UNAVAILABLE);
      clock.tick(1_000);
      assert.equal(calls[3]!.written[0]!.acceptRedirect, true, 'and asks again after that');
    });

    it('does not ask unless told to', () => {
      const { stream, calls } = setup();
      stream.start();
      assert.equal(calls[0]!.written[0]!.acceptRedirect, false);
    });
  });
});
