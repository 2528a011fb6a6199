import {
  type ConsumerGlobalConfig,
  type ConsumerTopicConfig,
  KafkaConsumer,
  type LibrdKafkaError,
  type Message,
} from '@confluentinc/kafka-javascript';
import { asError } from './librdkafka-error';

/** Most messages one `consume` call hands over. */
const consumeBatchMessages = 1000;

/**
 * How long one `consume` call waits for its first message. Once it has one it
 * takes only what is already fetched, so this bounds idle calls (and how soon
 * {@link LibrdkafkaConsumer.close} returns), never a message's latency.
 */
const consumeTimeoutMillis = 100;

/** After a failed `consume`, the next one waits this long, so that a lasting failure does not spin. */
const retryDelayMillis = 100;

/** librdkafka's code for the rebalance event that hands partitions to this member. */
const assignPartitionsCode = -175;

/** A consumer with no partitions by then fails: the run must not hang on a group that never forms. */
const assignmentTimeoutMillis = 30_000;

/**
 * A native librdkafka consumer (`@confluentinc/kafka-javascript`) of its own
 * group, reading one topic from the beginning in a loop of batch `consume`
 * calls, each started when the last one has been handed to `onMessage`. As
 * the dispatcher reads: a fetch waits at most 50 ms for data, offsets are
 * committed every second.
 */
export class LibrdkafkaConsumer {
  private closing = false;
  private running: Promise<void> = Promise.resolve();
  /** Failed `consume` calls, and what the last said (for the report). */
  failedCalls = 0;
  lastFailure: string | undefined;

  private constructor(
    private readonly consumer: KafkaConsumer,
    private readonly onMessage: (value: Buffer | null, nowNanos: bigint) => void,
  ) {}

  /** Subscribes and starts consuming; resolves once the group gave this member its partitions. */
  static async start(
    brokers: string[],
    groupId: string,
    topic: string,
    onMessage: (value: Buffer | null, nowNanos: bigint) => void,
  ): Promise<LibrdkafkaConsumer> {
    const global: ConsumerGlobalConfig = {
      'bootstrap.servers': brokers.join(','),
      'group.id': groupId,
      'client.id': groupId,
      'enable.auto.commit': true,
      'auto.commit.interval.ms': 1_000,
      'fetch.wait.max.ms': 50,
      // Assignments go through the binding's handler, which emits `rebalance`: we learn when we have partitions.
      rebalance_cb: true,
    };
    // Here, not in the global config: a topic config object replaces the topic settings the global one held,
    // and an empty one would silently mean `latest`.
    const topicConfig: ConsumerTopicConfig = { 'auto.offset.reset': 'earliest' };
    const consumer = new KafkaConsumer(global, topicConfig);
    await new Promise<void>((resolve, reject) =>
      consumer.connect({}, (error) => (error ? reject(asError(error)) : resolve())),
    );
    // Once a call has a message it returns what is already fetched instead of waiting for more, up to the
    // batch size; the library's own kafkajs-style consumer does the same (lib/kafkajs/_consumer.js). Not in
    // the binding's types.
    (
      consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void }
    ).setDefaultIsTimeoutOnlyForFirstMessage(true);
    consumer.setDefaultConsumeTimeout(consumeTimeoutMillis);
    let timer: NodeJS.Timeout | undefined;
    const assigned = new Promise<void>((resolve, reject) => {
      consumer.on('rebalance', (event: LibrdKafkaError) => {
        if (event.code === assignPartitionsCode) resolve();
      });
      timer = setTimeout(
        () => reject(new Error(`no partitions of ${topic} assigned after ${assignmentTimeoutMillis} ms`)),
        assignmentTimeoutMillis,
      );
    });
    consumer.subscribe([topic]);
    const reader = new LibrdkafkaConsumer(consumer, onMessage);
    // Rebalances are served inside consume calls: the loop must run before the assignment can come.
    reader.running = reader.loop();
    try {
      await assigned;
    } catch (error) {
      await reader.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return reader;
  }

  /** Stops the loop after the call in progress, then leaves the group and disconnects. */
  async close(): Promise<void> {
    this.closing = true;
    await this.running;
    if (!this.consumer.isConnected()) return;
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }

  private async loop(): Promise<void> {
    while (!this.closing) {
      try {
        const messages = await this.consumeBatch();
        const now = process.hrtime.bigint();
        for (const message of messages) this.onMessage(message.value, now);
      } catch (error) {
        this.failedCalls++;
        this.lastFailure = asError(error).message;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMillis));
      }
    }
  }

  private consumeBatch(): Promise<Message[]> {
    return new Promise((resolve, reject) =>
      this.consumer.consume(consumeBatchMessages, (error, messages) => (error ? reject(error) : resolve(messages))),
    );
  }
}
