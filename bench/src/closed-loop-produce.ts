import type { LatencyHistogram } from './latency-histogram';

/**
 * How the raw clients produce: the most messages per second one Node.js
 * process got from kafkajs on the 2-core benchmark machine with Herald's
 * durability (idempotent, acks=all), among 2 to 8 producers and batches of 250
 * to 2000 messages. Small messages gain most from big batches (100 B: 2000 per
 * send ran about twice as fast as 500); from 1 KB on, the 1 MiB cap decides.
 * The other raw clients get the same load, so that their rows compare with it.
 *
 * One send in flight per lane, as Herald's publisher does: with two sends
 * in flight, kafkajs idempotent producers failed with
 * OUT_OF_ORDER_SEQUENCE_NUMBER within seconds in the tuning runs.
 */
export const rawProduceSettings = {
  /** Batches in flight at once (kafkajs: idempotent producers, each with its own connection). */
  lanes: 4,
  /** Messages per batch, unless that would exceed {@link rawProduceSettings.maxBatchBytes}. */
  batchMessages: 2000,
  /** Payload bytes per batch: the broker takes at most 1 MiB per partition in one request. */
  maxBatchBytes: 1024 * 1024,
};

/** Messages per batch for one message size. */
export function rawBatchMessages(messageBytes: number): number {
  return Math.max(
    1,
    Math.min(rawProduceSettings.batchMessages, Math.floor(rawProduceSettings.maxBatchBytes / messageBytes)),
  );
}

/** A raw Kafka client as {@link produce} drives it: `lanes` batches in flight at once, one per lane. */
export interface BatchSender {
  readonly lanes: number;
  /** Sends `values` to `topic` on lane `lane` (0 to lanes - 1); resolves once every replica has all of them. */
  sendBatch(lane: number, topic: string, values: Buffer[]): Promise<void>;
}

/** Where {@link produce} sends, and what. */
export interface ProduceLoad {
  sender: BatchSender;
  topic: string;
  messageBytes: number;
  /** The value of the `index`-th message of this call (0 to count - 1), made when its batch is sent. */
  valueOf: (index: number) => Buffer;
}

/**
 * Sends up to `count` messages in batches, every lane taking the next batch as
 * soon as its last one is acknowledged, for at most `maxSeconds`. Resolves
 * with the messages acknowledged.
 */
export async function produce(
  load: ProduceLoad,
  count: number,
  maxSeconds: number,
  latency: LatencyHistogram | undefined,
): Promise<number> {
  const batchMessages = rawBatchMessages(load.messageBytes);
  const deadline = Date.now() + maxSeconds * 1000;
  let next = 0;
  let acknowledged = 0;
  const sendLoop = async (lane: number) => {
    while (next < count && Date.now() < deadline) {
      const first = next;
      const size = Math.min(batchMessages, count - first);
      next += size;
      const values = Array.from({ length: size }, (_, i) => load.valueOf(first + i));
      const started = process.hrtime.bigint();
      await load.sender.sendBatch(lane, load.topic, values);
      latency?.recordSince(started);
      acknowledged += size;
    }
  };
  await Promise.all(Array.from({ length: load.sender.lanes }, (_, lane) => sendLoop(lane)));
  return acknowledged;
}
