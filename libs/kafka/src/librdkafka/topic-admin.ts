import {
  AdminClient,
  type GroupResults,
  type IAdminClient,
  IsolationLevel,
  type LibrdKafkaError,
  OffsetSpec,
  Producer,
} from '@confluentinc/kafka-javascript';
import { UnavailableError } from '@herald/errors';
import { retry } from '@herald/retry';
import type { PartitionOffset } from '../consumed-record';
import { isTopicExistsError, isTransientKafkaError, toHeraldError } from '../kafka-errors';
import type { CommittedOffset, TopicAdmin, TopicSpec } from '../topic-admin';
import { connectProducer } from './durable-producer';
import { type LibrdkafkaContext, promised } from './librdkafka-client';

const requestTimeoutMillis = 10_000;
const unknownTopic = 3; // UNKNOWN_TOPIC_OR_PART
const isUnknownTopic = (error: unknown) => (error as LibrdKafkaError | undefined)?.code === unknownTopic;
/** How long a topic may stay unknown to the broker asked (or its leader unapplied) after it was created elsewhere. */
const propagationRetry = { initialMillis: 100, maxMillis: 1_000, totalTimeoutMillis: 5_000 };

/**
 * Topic administration on librdkafka's admin client. Cluster metadata (the
 * broker count) comes from a producer handle that never produces: the admin
 * client has no call for it.
 */
export class LibrdkafkaTopicAdmin implements TopicAdmin {
  private admin: IAdminClient | undefined;
  private metadataClient: Promise<Producer> | undefined;

  constructor(private readonly context: LibrdkafkaContext) {}

  async brokerCount(): Promise<number> {
    this.metadataClient ??= (async () => {
      const producer = new Producer({ ...this.context.config });
      this.context.watch(producer, 'metadata');
      await connectProducer(producer, 'reading cluster metadata', this.context);
      return producer;
    })().catch((error: unknown) => {
      this.metadataClient = undefined;
      throw error;
    });
    const producer = await this.metadataClient;
    try {
      const metadata = await promised<{ brokers: unknown[] }>((done) =>
        producer.getMetadata({ timeout: requestTimeoutMillis }, done),
      );
      return metadata.brokers.length;
    } catch (error) {
      throw toHeraldError(error, 'describing the cluster');
    }
  }

  async effectiveReplicationFactor(requested: number): Promise<number> {
    return requested > 0 ? requested : Math.min(3, await this.brokerCount());
  }

  async createTopic(spec: TopicSpec): Promise<boolean> {
    const replicationFactor = await this.effectiveReplicationFactor(spec.replicationFactor);
    try {
      await promised((done) =>
        this.client().createTopic(
          {
            topic: spec.name,
            num_partitions: spec.partitions,
            replication_factor: replicationFactor,
            config: spec.configs,
          },
          15_000,
          done,
        ),
      );
    } catch (error) {
      if (isTopicExistsError(error)) return false;
      throw toHeraldError(error, `creating topic ${spec.name}`);
    }
    await this.waitForLeaders(spec.name, spec.partitions, 30_000);
    this.context.logger.info(
      { topic: spec.name, partitions: spec.partitions, replicationFactor },
      'created Kafka topic',
    );
    return true;
  }

  async deleteTopic(name: string): Promise<void> {
    try {
      await promised((done) => this.client().deleteTopic(name, 15_000, done));
      this.context.logger.info({ topic: name }, 'deleted Kafka topic');
    } catch (error) {
      if (isUnknownTopic(error)) return;
      throw toHeraldError(error, `deleting topic ${name}`);
    }
  }

  async listTopics(): Promise<string[]> {
    try {
      return await promised<string[]>((done) => this.client().listTopics({ timeout: requestTimeoutMillis }, done));
    } catch (error) {
      throw toHeraldError(error, 'listing topics');
    }
  }

  async partitionCount(name: string): Promise<number | undefined> {
    return (await this.describe(name))?.partitions.length;
  }

  async latestOffsets(topic: string, options: { committedOnly?: boolean } = {}): Promise<PartitionOffset[]> {
    const partitions = await this.partitionsOf(topic, 'the latest offsets');
    return this.listOffsets(topic, partitions, OffsetSpec.LATEST, 'the latest offsets', options.committedOnly);
  }

  async earliestOffsets(topic: string): Promise<PartitionOffset[]> {
    const partitions = await this.partitionsOf(topic, 'the earliest offsets');
    return this.listOffsets(topic, partitions, OffsetSpec.EARLIEST, 'the earliest offsets');
  }

  async offsetsForTime(topic: string, timeMillis: number): Promise<PartitionOffset[]> {
    const partitions = await this.partitionsOf(topic, 'the offsets at a time');
    const [atTime, latest] = await Promise.all([
      this.listOffsets(topic, partitions, new OffsetSpec(timeMillis), 'the offsets at a time'),
      this.listOffsets(topic, partitions, OffsetSpec.LATEST, 'the latest offsets'),
    ]);
    // Kafka answers -1 where no record is that recent: the position is then the end.
    return atTime.map((entry, i) => (Number(entry.offset) < 0 ? latest[i]! : entry));
  }

  async committedOffsets(groupId: string, topic: string): Promise<CommittedOffset[]> {
    const described = await this.describe(topic);
    if (!described) return [];
    const partitions = described.partitions.map(({ partition }) => ({ topic, partition }));
    try {
      const [result] = await promised<GroupResults[]>((done) =>
        this.client().listConsumerGroupOffsets([{ groupId, partitions }], { timeout: requestTimeoutMillis }, done),
      );
      if (result?.error) throw result.error;
      return (result?.partitions ?? []).map(({ partition, offset, metadata }) => ({
        partition,
        offset: String(offset),
        metadata: metadata ?? null,
      }));
    } catch (error) {
      throw toHeraldError(error, `reading the committed offsets of ${groupId}`);
    }
  }

  async deleteGroup(groupId: string): Promise<void> {
    try {
      await promised((done) => this.client().deleteGroups([groupId], { timeout: requestTimeoutMillis }, done));
    } catch (error) {
      this.context.logger.debug({ err: error, groupId }, 'consumer group not deleted');
    }
  }

  topicDeleted(): void {
    // librdkafka forgets a deleted topic's metadata by itself.
  }

  async close(): Promise<void> {
    this.admin?.disconnect();
    this.admin = undefined;
    const metadataClient = this.metadataClient;
    this.metadataClient = undefined;
    const producer = await metadataClient?.catch(() => undefined);
    if (producer) await promised((done) => producer.disconnect(2_000, done)).catch(() => undefined);
  }

  private client(): IAdminClient {
    this.admin ??= AdminClient.create({ ...this.context.config });
    return this.admin;
  }

  /** A topic's partitions and their leaders, or undefined when it does not exist. */
  private async describe(
    topic: string,
  ): Promise<{ partitions: Array<{ partition: number; leader: unknown }> } | undefined> {
    try {
      const [description] = await promised<
        Array<{ error?: LibrdKafkaError; partitions: Array<{ partition: number; leader: unknown }> }>
      >((done) => this.client().describeTopics([topic], { timeout: requestTimeoutMillis }, done));
      if (description?.error?.code === unknownTopic) return undefined;
      if (description?.error) throw description.error;
      return description;
    } catch (error) {
      if (isUnknownTopic(error)) return undefined;
      throw toHeraldError(error, `describing topic ${topic}`);
    }
  }

  /**
   * A topic's partition numbers. A topic created a moment ago through another
   * client is not known to every broker yet (KRaft brokers learn of it from the
   * controller in their own time), and a broker that has not caught up calls it
   * unknown: seen in `make chaos`, a subscription created by one registry right
   * after the other created its topic. So an unknown topic is asked about again
   * for a few seconds before it counts as missing.
   * @throws a Herald error (INTERNAL) when the topic does not exist.
   */
  private async partitionsOf(topic: string, what: string): Promise<number[]> {
    try {
      const described = await retry(
        async () => {
          const found = await this.describe(topic);
          if (!found) throw Object.assign(new Error(`topic ${topic} does not exist`), { code: unknownTopic });
          return found;
        },
        { ...propagationRetry, retryable: isUnknownTopic },
      );
      return described.partitions.map(({ partition }) => partition);
    } catch (error) {
      throw toHeraldError(error, `reading ${what} of ${topic}`);
    }
  }

  private async listOffsets(
    topic: string,
    partitions: number[],
    spec: OffsetSpec,
    what: string,
    committedOnly = false,
  ): Promise<PartitionOffset[]> {
    const request = partitions.map((partition) => ({ topic, partition, offset: spec }));
    // A topic created a moment ago may have a leader the broker has not applied yet ('Leader epoch is newer
    // than broker epoch', seen in make bench), or be unknown to the leader asked even though the broker that
    // described it knew it (seen in make test's chaos fuzz: a subscription created on a topic made a moment
    // before failed INTERNAL): such answers are asked again for a few seconds.
    try {
      return await retry(() => this.listOffsetsOnce(request, committedOnly), {
        ...propagationRetry,
        retryable: (error) => isTransientKafkaError(error) || isUnknownTopic(error),
      });
    } catch (error) {
      throw toHeraldError(error, `reading ${what} of ${topic}`);
    }
  }

  private async listOffsetsOnce(
    request: Array<{ topic: string; partition: number; offset: OffsetSpec }>,
    committedOnly: boolean,
  ): Promise<PartitionOffset[]> {
    const offsets = await promised<Array<{ partition: number; offset: number; error?: LibrdKafkaError }>>((done) =>
      this.client().listOffsets(
        request,
        {
          timeout: requestTimeoutMillis,
          isolationLevel: committedOnly ? IsolationLevel.READ_COMMITTED : IsolationLevel.READ_UNCOMMITTED,
        },
        done,
      ),
    );
    const failed = offsets.find((entry) => entry.error);
    if (failed) throw failed.error;
    return offsets
      .map(({ partition, offset }) => ({ partition, offset: String(offset) }))
      .sort((a, b) => a.partition - b.partition);
  }

  private async waitForLeaders(topic: string, partitions: number, timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    for (;;) {
      const described = await this.describe(topic).catch(() => undefined);
      if (described && described.partitions.filter((p) => p.leader).length === partitions) return;
      if (Date.now() > deadline) throw new UnavailableError(`topic ${topic} has no leader for every partition yet`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
