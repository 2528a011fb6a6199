import { ProduceAcks, Producer } from '@platformatic/kafka';
import type { RawProducerClient } from './raw-produce-measurement';

/**
 * Idempotent `@platformatic/kafka` producers with Herald's durability
 * (acks=all), one lane each with one `send` in flight, as the kafkajs baseline
 * runs. One producer per lane, not one for all: when idempotent the library
 * allows one request in flight per connection, and numbers a batch's records
 * before a second, asynchronous metadata lookup sends it, so concurrent sends
 * of one producer could reach the broker in another order than numbered.
 */
export class PlatformaticProducers implements RawProducerClient {
  private constructor(private readonly producers: Producer[]) {}

  /** Creates `lanes` producers and has each get its producer id now, so that a broker it cannot talk to fails here. */
  static async connect(brokers: string[], clientId: string, lanes: number): Promise<PlatformaticProducers> {
    const producers = new PlatformaticProducers([]);
    try {
      for (let lane = 0; lane < lanes; lane++) {
        const producer = new Producer({
          clientId: `${clientId}-${lane}`,
          bootstrapBrokers: brokers,
          idempotent: true,
          acks: ProduceAcks.ALL,
          // As the kafkajs baseline: a loaded one-broker cluster answers slowly. Idempotent producers otherwise
          // retry forever, which would hang the run on a broker the library cannot work with.
          timeout: 30_000,
          retries: 5,
        });
        producers.producers.push(producer);
        await producer.initIdempotentProducer({});
      }
    } catch (error) {
      await producers.close();
      throw error;
    }
    return producers;
  }

  get lanes(): number {
    return this.producers.length;
  }

  /** Sends one batch on producer `lane`; resolves once every replica has it. */
  async sendBatch(lane: number, topic: string, values: Buffer[]): Promise<void> {
    await this.producers[lane]!.send({ messages: values.map((value) => ({ topic, value })) });
  }

  /** Which CRC32C the library uses: the native one of its optional dependency when installed. */
  notes(): string[] {
    return [`CRC32C of the record batches: ${installed('@node-rs/crc32') ? '@node-rs/crc32 (native)' : 'WebAssembly'}`];
  }

  async close(): Promise<void> {
    await Promise.all(this.producers.map((producer) => producer.close().catch(() => undefined)));
  }
}

function installed(module: string): boolean {
  try {
    require.resolve(module);
    return true;
  } catch {
    return false;
  }
}
