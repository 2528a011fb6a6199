import {
  type DeliveryReport,
  type LibrdKafkaError,
  Producer,
  type ProducerGlobalConfig,
  type ProducerTopicConfig,
} from '@confluentinc/kafka-javascript';
import { rawProduceSettings } from './closed-loop-produce';
import { asError } from './librdkafka-error';
import type { RawProducerClient } from './raw-produce-measurement';

/** Messages of one send still waiting for their delivery reports. */
interface PendingSend {
  remaining: number;
  error: LibrdKafkaError | Error | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** How long closing waits for messages still queued to be delivered. */
const flushTimeoutMillis = 10_000;

/**
 * One native librdkafka producer (`@confluentinc/kafka-javascript`) with
 * Herald's durability: idempotent, acks=all. librdkafka batches by itself
 * (linger.ms 5), with up to 5 requests in flight per broker even when
 * idempotent, so one producer serves every lane; the lanes only keep the load
 * the same as the other raw clients get. A send resolves once the delivery
 * report of each of its messages came back without an error.
 */
export class LibrdkafkaProducer implements RawProducerClient {
  private constructor(
    private readonly producer: Producer,
    readonly lanes: number,
  ) {}

  /** Connects, and has librdkafka's own thread poll for delivery reports instead of a timer on the event loop. */
  static async connect(brokers: string[], clientId: string, lanes = rawProduceSettings.lanes) {
    const global: ProducerGlobalConfig = {
      'bootstrap.servers': brokers.join(','),
      'client.id': clientId,
      'enable.idempotence': true,
      'linger.ms': 5,
      dr_cb: true,
    };
    // A topic config object given to the constructor replaces whatever topic settings the global one held.
    const topic: ProducerTopicConfig = { acks: -1 };
    const producer = new Producer(global, topic);
    producer.on('delivery-report', settle);
    await new Promise<void>((resolve, reject) =>
      producer.connect({}, (error) => (error ? reject(asError(error)) : resolve())),
    );
    producer.setPollInBackground(true);
    return new LibrdkafkaProducer(producer, lanes);
  }

  /** Queues every value for `topic` (partitions chosen by librdkafka); resolves once all are delivered. */
  sendBatch(_lane: number, topic: string, values: Buffer[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const pending: PendingSend = { remaining: values.length, error: undefined, resolve, reject };
      let queued = 0;
      try {
        for (const value of values) {
          this.producer.produce(topic, null, value, null, null, pending);
          queued++;
        }
      } catch (error) {
        // Reports come on a later turn of the event loop: none has been counted yet.
        pending.error = asError(error);
        pending.remaining -= values.length - queued;
        if (pending.remaining === 0) reject(pending.error);
      }
    });
  }

  /** Queues one value; resolves once it is delivered (open-loop sends). */
  send(topic: string, value: Buffer): Promise<void> {
    return this.sendBatch(0, topic, [value]);
  }

  notes(): string[] {
    return [];
  }

  /** Waits for what is still queued (up to {@link flushTimeoutMillis}), then disconnects. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.producer.flush(flushTimeoutMillis, () => resolve()));
    await new Promise<void>((resolve) => this.producer.disconnect(() => resolve()));
  }
}

/** A delivery report: counts the message off its send, settling the send with its last report. */
function settle(error: LibrdKafkaError | null, report: DeliveryReport): void {
  const pending = report.opaque as PendingSend;
  if (error) pending.error ??= error;
  if (--pending.remaining > 0) return;
  if (pending.error) pending.reject(asError(pending.error));
  else pending.resolve();
}
