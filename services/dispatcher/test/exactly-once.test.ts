import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type ClientDuplexStream, type ServiceError, status } from '@grpc/grpc-js';
import {
  type DispatcherServiceClient,
  LeaseFailureReason,
  type ReceivedMessage,
  StreamingPullRequest,
  type StreamingPullResponse,
} from '@herald/api';
import { rpc, waitFor } from '@herald/testkit';
import { type DispatchFixture, startDispatchFixture } from './fixture';

/** What an exactly-once stream was told about one ack id. */
type Answer = 'confirmed' | LeaseFailureReason;

/**
 * A raw StreamingPull stream on an exactly-once subscription: it records
 * deliveries and every answer to its acks, acks only when told to, and opens
 * itself again after UNAVAILABLE (a moved or killed dispatcher), like a client.
 */
class ConfirmingStream {
  readonly deliveries: ReceivedMessage[] = [];
  /** When each delivery arrived, by index into `deliveries`. */
  readonly arrivals: number[] = [];
  readonly answers = new Map<string, Answer>();
  /** When each ack id was answered `confirmed`. */
  readonly confirmedAt = new Map<string, number>();
  exactlyOnce = false;
  reconnects = 0;
  ended = false;
  private call!: ClientDuplexStream<StreamingPullRequest, StreamingPullResponse>;

  constructor(
    private readonly client: DispatcherServiceClient,
    private readonly subscription: string,
    private readonly maxOutstandingMessages = 1000,
    private readonly streamAckDeadlineSeconds = 0,
  ) {
    this.open();
  }

  private open(): void {
    const call = this.client.streamingPull();
    this.call = call;
    call.on('data', (response: StreamingPullResponse) => {
      if (response.subscriptionProperties?.exactlyOnceDeliveryEnabled) this.exactlyOnce = true;
      this.deliveries.push(...response.receivedMessages);
      for (const _ of response.receivedMessages) this.arrivals.push(Date.now());
      for (const confirmation of [
        response.ackConfirmation,
        response.nackConfirmation,
        response.modifyDeadlineConfirmation,
      ]) {
        for (const ackId of confirmation?.ackIds ?? []) {
          this.answers.set(ackId, 'confirmed');
          if (confirmation === response.ackConfirmation) this.confirmedAt.set(ackId, Date.now());
        }
        for (const failure of confirmation?.failures ?? []) this.answers.set(failure.ackId, failure.reason);
      }
    });
    call.on('error', (error: ServiceError) => {
      if (this.ended || this.call !== call) return;
      if (error.code !== status.UNAVAILABLE) {
        this.ended = true;
        return;
      }
      this.reconnects++;
      setTimeout(() => {
        if (!this.ended) this.open();
      }, 200);
    });
    call.write(
      StreamingPullRequest.fromPartial({
        subscription: this.subscription,
        maxOutstandingMessages: String(this.maxOutstandingMessages),
        streamAckDeadlineSeconds: this.streamAckDeadlineSeconds,
      }),
    );
  }

  ack(ackIds: string[]): void {
    this.call.write(StreamingPullRequest.fromPartial({ ackIds }));
  }

  /** Acks and waits for every answer. */
  async ackAndWait(ackIds: string[]): Promise<Answer[]> {
    this.ack(ackIds);
    await waitFor(() => ackIds.every((id) => this.answers.has(id)), { description: 'answers to the acks' });
    return ackIds.map((id) => this.answers.get(id)!);
  }

  deliveriesOf(messageId: string): ReceivedMessage[] {
    return this.deliveries.filter((d) => d.messageId === messageId);
  }

  close(): void {
    this.ended = true;
    this.call.cancel();
  }
}

/** Whether a dispatcher's log says it was assigned every slot (32) after `since`. */
function tookEverySlotSince(logFile: string, since: number): boolean {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"msg":"slots assigned"'))
    .some((line) => {
      const entry = JSON.parse(line) as { time: string; slots: number[] };
      return Date.parse(entry.time) > since && entry.slots.length === 32;
    });
}

/** Ports from a base, for a machine where several test runs share the port space. */
function fixedPorts(base: number) {
  return {
    ports: { dispatcher: base + 10, publisher: base + 20, 'subscriber-registry': base + 30 },
    metricsPorts: { dispatcher: base + 40, publisher: base + 50, 'subscriber-registry': base + 60 },
  };
}

describe('exactly-once delivery (real Kafka, real services)', function () {
  this.timeout(240_000);
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture(
      'exactly-once',
      { DISPATCHER_EXACTLY_ONCE_PROOF_MS: '2000' },
      process.env.HERALD_TEST_PORT_BASE ? fixedPorts(Number(process.env.HERALD_TEST_PORT_BASE)) : {},
    );
  });
  after(async () => f?.close());

  it('is shown by get and list, and the stream says so before any delivery, then confirms acks', async () => {
    await f.createTopic('eo-basic', 2);
    await f.createSubscription({ name: 'eo-basic-sub', topic: 'eo-basic', enableExactlyOnceDelivery: true });
    const { subscription } = await rpc(f.registry, f.registry.getSubscription, { name: 'eo-basic-sub' });
    assert.equal(subscription?.enableExactlyOnceDelivery, true);
    const stream = new ConfirmingStream(f.dispatchers[0]!, 'eo-basic-sub');
    await waitFor(() => stream.exactlyOnce, { description: 'subscription properties on the stream' });
    const [id] = await f.publish('eo-basic', 1);
    await waitFor(() => stream.deliveries.length === 1, { description: 'the delivery' });
    const delivery = stream.deliveries[0]!;
    assert.equal(delivery.messageId, id);
    assert.deepEqual(await stream.ackAndWait([delivery.ackId]), ['confirmed']);
    assert.deepEqual(await stream.ackAndWait(['1.AAAAAAAAAAAAAAAA']), [
      LeaseFailureReason.LEASE_FAILURE_REASON_INVALID,
    ]);
    stream.close();
  });

  it('fails an ack for a lease that moved to another stream, with the reason, and confirms the new lease', async () => {
    await f.createTopic('eo-moved', 1);
    await f.createSubscription({ name: 'eo-moved-sub', topic: 'eo-moved', enableExactlyOnceDelivery: true });
    const first = new ConfirmingStream(f.dispatchers[0]!, 'eo-moved-sub', 1);
    await waitFor(() => first.exactlyOnce, { description: 'the first stream attached' });
    const second = new ConfirmingStream(f.dispatchers[1]!, 'eo-moved-sub', 1);
    await waitFor(() => second.exactlyOnce, { description: 'the second stream attached' });
    const [id] = await f.publish('eo-moved', 1);
    await waitFor(() => first.deliveries.length + second.deliveries.length === 1, { description: 'one delivery' });
    const [holder, other] = first.deliveries.length === 1 ? [first, second] : [second, first];
    const oldAckId = holder.deliveries[0]!.ackId;
    // The holder goes away: its lease ends and the message is leased to the other stream.
    holder.close();
    await waitFor(() => other.deliveriesOf(id!).length === 1, { description: 'delivered again to the other stream' });
    const moved = other.deliveriesOf(id!)[0]!;
    assert.equal(moved.deliveryAttempt, 2);
    assert.deepEqual(await other.ackAndWait([oldAckId]), [LeaseFailureReason.LEASE_FAILURE_REASON_LEASE_MOVED]);
    assert.deepEqual(await other.ackAndWait([moved.ackId]), ['confirmed']);
    other.close();
  });

  it('fails an ack that comes after the lease expired', async () => {
    await f.createTopic('eo-expired', 1);
    await f.createSubscription({
      name: 'eo-expired-sub',
      topic: 'eo-expired',
      enableExactlyOnceDelivery: true,
      ackDeadlineSeconds: 10,
      // Long enough that the expired message is still waiting for its redelivery when the late ack comes.
      retryPolicy: { minimumBackoff: { seconds: '600', nanos: 0 }, maximumBackoff: { seconds: '600', nanos: 0 } },
    });
    const stream = new ConfirmingStream(f.dispatchers[0]!, 'eo-expired-sub');
    await waitFor(() => stream.exactlyOnce, { description: 'the stream attached' });
    await f.publish('eo-expired', 1);
    await waitFor(() => stream.deliveries.length === 1, { description: 'the delivery' });
    await waitFor(
      async () => {
        const { stats } = await rpc(f.dispatchers[0]!, f.dispatchers[0]!.getSubscriptionStats, {
          subscriptions: ['eo-expired-sub'],
        });
        return Number(stats[0]?.counts?.expired ?? 0) >= 1;
      },
      { timeoutMillis: 60_000, description: 'the lease expired' },
    );
    assert.deepEqual(await stream.ackAndWait([stream.deliveries[0]!.ackId]), [
      LeaseFailureReason.LEASE_FAILURE_REASON_EXPIRED,
    ]);
    stream.close();
  });

  it('never delivers again a message whose ack was confirmed before the serving dispatcher was killed with SIGKILL', async () => {
    await f.createTopic('eo-crash', 3);
    await f.createSubscription({
      name: 'eo-crash-sub',
      topic: 'eo-crash',
      enableExactlyOnceDelivery: true,
      ackDeadlineSeconds: 60,
    });
    const opener = new ConfirmingStream(f.dispatchers[0]!, 'eo-crash-sub');
    const owner = await f.servedBy('eo-crash-sub');
    opener.close();
    const victim = new ConfirmingStream(f.dispatchers[owner]!, 'eo-crash-sub');
    await waitFor(() => victim.exactlyOnce, { description: 'a stream on the serving dispatcher' });
    const ids = await f.publish('eo-crash', 600);
    await waitFor(() => victim.deliveries.length >= ids.length, { description: 'every message delivered' });
    // Every third message stays unacknowledged, so most confirmed acks lie past the commit point: only the
    // stored settled offsets keep them from coming back.
    const toAck = victim.deliveries.filter((_, i) => i % 3 !== 0);
    const answers = await victim.ackAndWait(toAck.map((d) => d.ackId));
    assert.ok(answers.every((answer) => answer === 'confirmed'));
    const confirmed = new Set(toAck.map((d) => d.messageId));

    const dispatcher = f.stack.dispatchers[owner]!;
    const pid = dispatcher.pid;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !dispatcher.running, { description: `dispatcher pid ${pid} gone` });
    victim.close();

    const survivor = new ConfirmingStream(f.dispatchers[1 - owner]!, 'eo-crash-sub');
    const rest = ids.filter((id) => !confirmed.has(id));
    await waitFor(() => rest.every((id) => survivor.deliveriesOf(id).length > 0), {
      timeoutMillis: 120_000,
      description: 'the unacknowledged messages delivered by the new owner',
    });
    const redelivered = survivor.deliveries.filter((d) => confirmed.has(d.messageId));
    assert.deepEqual(
      redelivered.map((d) => d.messageId),
      [],
      'a message whose ack was confirmed came again',
    );
    const lastAnswers = await survivor.ackAndWait(rest.map((id) => survivor.deliveriesOf(id)[0]!.ackId));
    assert.ok(lastAnswers.every((answer) => answer === 'confirmed'));
    survivor.close();
    await dispatcher.start();
  });

  it('fences a paused dispatcher: after SIGCONT its late acks are not confirmed and it delivers nothing confirmed elsewhere', async () => {
    await f.createTopic('eo-zombie', 2);
    await f.createSubscription({
      name: 'eo-zombie-sub',
      topic: 'eo-zombie',
      enableExactlyOnceDelivery: true,
      ackDeadlineSeconds: 10,
    });
    const opener = new ConfirmingStream(f.dispatchers[0]!, 'eo-zombie-sub');
    const owner = await f.servedBy('eo-zombie-sub');
    opener.close();
    const zombieSide = new ConfirmingStream(f.dispatchers[owner]!, 'eo-zombie-sub');
    await waitFor(() => zombieSide.exactlyOnce, { description: 'a stream on the serving dispatcher' });
    const ids = await f.publish('eo-zombie', 50);
    await waitFor(() => zombieSide.deliveries.length >= ids.length, { description: 'all leased to the first stream' });
    const held = [...zombieSide.deliveries];

    const paused = f.stack.dispatchers[owner]!;
    const survivor = f.stack.dispatchers[1 - owner]!;
    const pausedAt = Date.now();
    process.kill(paused.pid, 'SIGSTOP');
    try {
      // The other dispatcher takes every slot once the paused one's session ends.
      await waitFor(() => tookEverySlotSince(survivor.options.logFile, pausedAt), {
        timeoutMillis: 60_000,
        description: 'the other dispatcher took over every slot',
      });
      const taker = new ConfirmingStream(f.dispatchers[1 - owner]!, 'eo-zombie-sub');
      await waitFor(() => ids.every((id) => taker.deliveriesOf(id).length > 0), {
        timeoutMillis: 60_000,
        description: 'the new owner delivered what the paused one had leased',
      });
      const answers = await taker.ackAndWait(ids.map((id) => taker.deliveriesOf(id)[0]!.ackId));
      assert.ok(answers.every((answer) => answer === 'confirmed'));
      const confirmedAt = new Map(ids.map((id) => [id, taker.confirmedAt.get(taker.deliveriesOf(id)[0]!.ackId)!]));

      process.kill(paused.pid, 'SIGCONT');
      // The paused side acks its old leases as if nothing happened.
      zombieSide.ack(held.map((d) => d.ackId));
      await waitFor(() => held.every((d) => zombieSide.answers.has(d.ackId)) || zombieSide.reconnects > 0, {
        timeoutMillis: 60_000,
        description: 'the late acks answered, or their stream ended',
      });
      const lateConfirmed = held.filter((d) => zombieSide.answers.get(d.ackId) === 'confirmed');
      assert.deepEqual(
        lateConfirmed.map((d) => d.messageId),
        [],
        'an ack on the fenced dispatcher was confirmed',
      );
      // Give the resumed dispatcher the chance to misbehave: its leases expired while it was stopped.
      await waitFor(() => paused.running && zombieSide.reconnects > 0, {
        timeoutMillis: 60_000,
        description: 'the resumed dispatcher ended its stale stream',
      });
      const afterConfirmation = [zombieSide, taker].flatMap((stream) =>
        stream.deliveries.filter((d, i) => stream.arrivals[i]! > (confirmedAt.get(d.messageId) ?? Infinity)),
      );
      assert.deepEqual(
        afterConfirmation.map((d) => d.messageId),
        [],
        'a message was delivered after its ack was confirmed',
      );
      taker.close();
    } finally {
      process.kill(paused.pid, 'SIGCONT');
      zombieSide.close();
    }
  });
});
