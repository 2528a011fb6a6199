import { type LibrdKafkaError, Producer } from '@confluentinc/kafka-javascript';
import { type LibrdkafkaContext, promised } from './librdkafka-client';

/**
 * A probe for {@link KafkaConnectivity} on librdkafka: a metadata request
 * for the broker list (no topics) on a producer handle that never produces,
 * kept for the process's life. A failed connect is retried at the next probe.
 */
export function librdkafkaConnectivityProbe(context: LibrdkafkaContext): {
  probe: (timeoutMillis: number) => Promise<void>;
  close: () => Promise<void>;
} {
  let client: Promise<Producer> | undefined;
  const connected = (timeoutMillis: number) =>
    (client ??= (async () => {
      const producer = new Producer({ ...context.config });
      context.watch(producer, 'connectivity');
      await promised((done) => producer.connect({ timeout: timeoutMillis }, (error) => done(error)));
      return producer;
    })().catch((error: unknown) => {
      client = undefined;
      throw error;
    }));
  return {
    async probe(timeoutMillis) {
      const producer = await connected(timeoutMillis);
      await promised((done) => producer.getMetadata({ timeout: timeoutMillis }, done)).catch(
        (error: LibrdKafkaError) => {
          throw new Error(`metadata request failed: ${error.message}`);
        },
      );
    },
    async close() {
      const producer = await client?.catch(() => undefined);
      if (producer) await promised((done) => producer.disconnect(2_000, done)).catch(() => undefined);
    },
  };
}
