import { rawProduceSettings } from '../closed-loop-produce';
import { RawProducers } from '../raw-producers';
import { measureRawProduce } from '../raw-produce-measurement';
import { benchKafka } from '../raw-topics';
import type { Scenario } from '../scenario';

/** The baseline: the best one Node.js process gets from kafkajs with acks=all and idempotence. */
export const rawKafkajsProduce: Scenario = {
  name: 'raw-kafkajs-produce',
  description:
    `kafkajs in this process: ${rawProduceSettings.lanes} idempotent producers, each with one sendBatch ` +
    `(acks=-1) of up to ${rawProduceSettings.batchMessages} messages and 1 MiB in flight, onto one topic; ` +
    'latency is per sendBatch.',
  async run(context) {
    const rows = await measureRawProduce(context, {
      name: 'kafkajs',
      connect: (brokers) => RawProducers.connect(benchKafka(brokers, 'herald-bench-raw'), rawProduceSettings.lanes),
    });
    return { kind: 'throughput', rows };
  },
};
