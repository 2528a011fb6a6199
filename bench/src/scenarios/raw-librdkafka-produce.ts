import { rawProduceSettings } from '../closed-loop-produce';
import { LibrdkafkaProducer } from '../librdkafka-producer';
import { measureRawProduce } from '../raw-produce-measurement';
import type { Scenario } from '../scenario';
import { rawKafkajsProduce } from './raw-kafkajs-produce';

/** What the native client Herald moves to reaches with Herald's durability, under the baseline's load. */
export const rawLibrdkafkaProduce: Scenario = {
  name: 'raw-librdkafka-produce',
  baselines: [{ scenario: rawKafkajsProduce.name }],
  description:
    'librdkafka (@confluentinc/kafka-javascript, its native Producer API) in this process: one producer, ' +
    "enable.idempotence, acks=all, linger.ms 5, delivery reports polled on librdkafka's background thread; " +
    `the load of \`${rawKafkajsProduce.name}\`: ${rawProduceSettings.lanes} batches of up to ` +
    `${rawProduceSettings.batchMessages} messages and 1 MiB in flight, each resolved by the delivery reports ` +
    'of all its messages, onto one topic; latency is per batch.',
  async run(context) {
    const rows = await measureRawProduce(context, {
      name: 'librdkafka',
      connect: (brokers) => LibrdkafkaProducer.connect(brokers, 'herald-bench-raw-librdkafka'),
    });
    return { kind: 'throughput', rows };
  },
};
