import { rawProduceSettings } from '../closed-loop-produce';
import { PlatformaticProducers } from '../platformatic-producers';
import { measureRawProduce } from '../raw-produce-measurement';
import type { Scenario } from '../scenario';
import { rawKafkajsProduce } from './raw-kafkajs-produce';

/** The pure TypeScript client weighed against the native one: the same load, the same durability. */
export const rawPlatformaticProduce: Scenario = {
  name: 'raw-platformatic-produce',
  baselines: [{ scenario: rawKafkajsProduce.name }],
  description:
    `@platformatic/kafka in this process: ${rawProduceSettings.lanes} idempotent producers (acks=all), each ` +
    `with one send of up to ${rawProduceSettings.batchMessages} messages and 1 MiB in flight, onto one topic, ` +
    `as \`${rawKafkajsProduce.name}\`; latency is per send.`,
  async run(context) {
    const rows = await measureRawProduce(context, {
      name: 'platformatic',
      connect: (brokers) =>
        PlatformaticProducers.connect(brokers, 'herald-bench-raw-platformatic', rawProduceSettings.lanes),
    });
    return { kind: 'throughput', rows };
  },
};
