import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ChannelCredentials, credentials as grpcCredentials } from '@grpc/grpc-js';
import { Admin, type HeraldClientError, Publisher, type ReceivedMessage, Subscriber } from '@herald/client';
import { DeliveryTracker } from './delivery-tracker';
import { LatencyHistogram } from './latency-histogram';
import type { ScenarioContext } from './scenario';
import { StampedPayloads } from './stamped-payloads';

/**
 * One Herald topic with one subscription, the SDK's `Publisher` on the
 * publisher service and, for a pull subscription, its `Subscriber` on the
 * dispatchers, acking every message as it arrives; for a push subscription a
 * local HTTP receiver the dispatcher POSTs each message to (binary
 * CloudEvents: the body is the payload), answering 204 to each. A
 * {@link DeliveryTracker} records what arrived.
 * Messages carry their send time and a sequence number in the payload; the
 * pipe hands out sequence numbers in order.
 */
export class HeraldPipe {
  /** The next sequence number to publish. */
  nextSequence = 0;
  /** Publishes that failed after the SDK's own retries, and were tried again (see {@link HeraldPipe.publish}). */
  failedPublishes = 0;
  /** What those failures said, each once. */
  readonly publishErrors = new Set<string>();
  private subscriberFailure: HeraldClientError | undefined;
  /** Exactly-once pipes: from `ack()` to its confirmation, for every confirmed ack. */
  ackConfirmation = new LatencyHistogram();
  /** Exactly-once pipes: acks that did not take, by reason (their messages come again). */
  readonly ackFailures = new Map<string, number>();

  private constructor(
    readonly topic: string,
    readonly subscription: string,
    readonly publisher: Publisher,
    readonly subscriber: Subscriber | PushReceiver,
    readonly tracker: DeliveryTracker,
    readonly payloads: StampedPayloads,
  ) {}

  /**
   * Creates the topic (the plan's partitions) and its subscription through the
   * registry, both deleted when the environment stops, and connects the SDK.
   * `expectedMessages` sizes the tracker (it grows beyond).
   */
  static async open(
    context: ScenarioContext,
    name: string,
    messageBytes: number,
    expectedMessages: number,
    delivery: 'pull' | 'exactly-once' | { push: { maxOutstanding: number } } = 'pull',
    credentials: ChannelCredentials = grpcCredentials.createInsecure(),
  ): Promise<HeraldPipe> {
    const { env, plan } = context;
    const admin = new Admin({ endpoints: [env.registry.address], credentials });
    const topic = `${name}-${context.runId}`;
    const subscription = `${topic}-sub`;
    const tracker = new DeliveryTracker(expectedMessages);
    const receiver = typeof delivery === 'string' ? undefined : await PushReceiver.start(tracker);
    const exactlyOnce = delivery === 'exactly-once';
    try {
      await admin.createTopic({ name: topic, partitions: plan.partitions });
      env.deleteAtStop(topic);
      await admin.createSubscription({
        name: subscription,
        topic,
        startAt: 'earliest',
        enableExactlyOnceDelivery: exactlyOnce,
        push: receiver && {
          endpoint: receiver.url,
          maxOutstanding: (delivery as { push: { maxOutstanding: number } }).push.maxOutstanding,
        },
      });
      env.deleteSubscriptionAfterScenario(subscription);
    } catch (error) {
      await receiver?.close();
      throw error;
    } finally {
      admin.close();
    }
    const publisher = new Publisher({
      endpoints: [env.publisher.address],
      credentials,
      batching: { maxMessages: plan.endToEnd.batchMessages },
    });
    const payloads = new StampedPayloads(messageBytes);
    if (receiver) return new HeraldPipe(topic, subscription, publisher, receiver, tracker, payloads);
    const subscriber = new Subscriber({
      endpoints: env.dispatchers.map((dispatcher) => dispatcher.address),
      credentials,
      subscription,
      flowControl: { maxOutstandingMessages: plan.endToEnd.maxOutstandingMessages },
    });
    const pipe = new HeraldPipe(topic, subscription, publisher, subscriber, tracker, payloads);
    subscriber.on('error', (error) => (pipe.subscriberFailure = error));
    if (exactlyOnce) {
      // A message counts once its ack is confirmed (stored durably): throughput and latency include it.
      subscriber.on('message', (message: ReceivedMessage) => {
        const ackedAt = process.hrtime.bigint();
        void message.ack().then((result) => {
          const now = process.hrtime.bigint();
          if (!result.ok) {
            pipe.ackFailures.set(result.reason, (pipe.ackFailures.get(result.reason) ?? 0) + 1);
            return;
          }
          pipe.ackConfirmation.recordBetween(ackedAt, now);
          tracker.record(message.data, now);
        });
      });
      return pipe;
    }
    subscriber.on('message', (message: ReceivedMessage) => {
      tracker.record(message.data, process.hrtime.bigint());
      message.ack();
    });
    return pipe;
  }

  /**
   * Publishes message `sequence`, stamped with `sentAtNanos`; resolves once
   * Herald has it durably. A publish the SDK gives up on (it does not retry
   * INTERNAL, which the publisher answers when kafkajs fails with
   * OUT_OF_ORDER_SEQUENCE_NUMBER) is tried again, up to 3 times, and counted:
   * the time it takes stays in the message's latency.
   */
  async publish(sequence: number, sentAtNanos: bigint): Promise<string> {
    const data = this.payloads.make(sequence, sentAtNanos);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.publisher.publish(this.topic, { data });
      } catch (error) {
        this.failedPublishes++;
        this.publishErrors.add((error as Error).message);
        if (attempt >= 3) throw error;
      }
    }
  }

  /** Notes for the report about failed publishes, if any. */
  failureNotes(): string[] {
    if (this.failedPublishes === 0) return [];
    return [
      `${this.failedPublishes} publish() calls failed and were tried again: ${[...this.publishErrors].join('; ')}`,
    ];
  }

  /**
   * Closed loop: `callers` concurrent callers, each publishing its next message
   * as soon as the last one is durable, up to `count` messages or `maxSeconds`.
   * Resolves with the first sequence number used and the messages published.
   */
  async publishClosedLoop(
    count: number,
    callers: number,
    maxSeconds: number,
  ): Promise<{ first: number; published: number }> {
    const first = this.nextSequence;
    const end = first + count;
    const deadline = Date.now() + maxSeconds * 1000;
    let published = 0;
    const caller = async () => {
      while (this.nextSequence < end && Date.now() < deadline) {
        await this.publish(this.nextSequence++, process.hrtime.bigint());
        published++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(callers, count) }, caller));
    return { first, published };
  }

  /** Throws if the subscriber ended with an error (the subscription vanished...). */
  checkSubscriber(): void {
    if (this.subscriberFailure) throw this.subscriberFailure;
  }

  /** Closes the SDK clients (the topic stays until the environment stops, the subscription until the scenario ends). */
  async close(): Promise<void> {
    await Promise.allSettled([this.publisher.close(), this.subscriber.close()]);
  }
}

/**
 * The endpoint of a push subscription in the benchmark process: records each
 * payload (a binary-mode CloudEvent's body is the payload as published) and
 * answers 204, over kept-alive connections.
 */
export class PushReceiver {
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(tracker: DeliveryTracker): Promise<PushReceiver> {
    const server = http.createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        tracker.record(Buffer.concat(chunks), process.hrtime.bigint());
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new PushReceiver(server, `http://127.0.0.1:${port}/push`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
