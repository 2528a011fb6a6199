import { UnavailableError } from '@herald/errors';
import type { Logger } from '@herald/logging';
import type { Admin, Kafka } from 'kafkajs';
import type { PartitionOffset } from '../consumed-record';
import { isTopicExistsError, toHeraldError } from '../kafka-errors';
import type { CommittedOffset, TopicAdmin, TopicSpec } from '../topic-admin';

/**
 * {@link TopicAdmin} on a kafkajs admin client, which it replaces with a fresh
 * one whenever a topic it knew of is deleted (see `renew`).
 */
export class KafkajsTopicAdmin implements TopicAdmin {
  private admin: Admin;
  private connected: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
  ) {
    this.admin = kafka.admin();
  }

  /**
   * Starts a fresh admin client. Once a topic it has looked at is deleted, a
   * kafkajs client keeps asking for that topic's metadata and every later call
   * fails, whatever it is about (kafkajs issue #1622); a new client knows
   * nothing of it. Called after deleting a topic, and after such a failure.
   */
  private renew(): void {
    const old = this.admin;
    const wasConnected = this.connected;
    this.admin = this.kafka.admin();
    this.connected = undefined;
    if (wasConnected) void old.disconnect().catch(() => undefined);
  }

  private fail(error: unknown, doing: string): Error {
    if ((error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') this.renew();
    return toHeraldError(error, doing);
  }

  private async ready(): Promise<Admin> {
    this.connected ??= this.admin.connect().catch((error: unknown) => {
      this.connected = undefined;
      throw this.fail(error, 'connecting the admin client');
    });
    await this.connected;
    return this.admin;
  }

  topicDeleted(_topic: string): void {
    this.renew();
  }

  /** Brokers in the cluster now. */
  async brokerCount(): Promise<number> {
    const admin = await this.ready();
    try {
      return (await admin.describeCluster()).brokers.length;
    } catch (error) {
      throw this.fail(error, 'describing the cluster');
    }
  }

  /** The replication factor to use: the requested one, or min(3, brokers) for 0. */
  async effectiveReplicationFactor(requested: number): Promise<number> {
    return requested > 0 ? requested : Math.min(3, await this.brokerCount());
  }

  /**
   * Creates a topic and waits for its partition leaders. Resolves false (and
   * changes nothing) when a topic of that name already exists.
   */
  async createTopic(spec: TopicSpec): Promise<boolean> {
    const admin = await this.ready();
    const replicationFactor = await this.effectiveReplicationFactor(spec.replicationFactor);
    try {
      const created = await admin.createTopics({
        topics: [
          {
            topic: spec.name,
            numPartitions: spec.partitions,
            replicationFactor,
            configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
          },
        ],
        // kafkajs's own wait gives up at once when the broker does not know the topic yet (a busy
        // cluster): wait for the leaders here instead.
        waitForLeaders: false,
        timeout: 15_000,
      });
      if (created) await this.waitForLeaders(spec.name, spec.partitions, 30_000);
      if (created)
        this.logger.info({ topic: spec.name, partitions: spec.partitions, replicationFactor }, 'created Kafka topic');
      return created;
    } catch (error) {
      if (isTopicExistsError(error)) return false;
      throw this.fail(error, `creating topic ${spec.name}`);
    }
  }

  private async waitForLeaders(topic: string, partitions: number, timeoutMillis: number): Promise<void> {
    const deadline = Date.now() + timeoutMillis;
    for (;;) {
      try {
        const metadata = await this.admin.fetchTopicMetadata({ topics: [topic] });
        const led = metadata.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
        if (led === partitions) return;
      } catch {
        // not known yet
      }
      if (Date.now() > deadline) throw new UnavailableError(`topic ${topic} has no leader for every partition yet`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Deletes a topic; a missing one is not an error. */
  async deleteTopic(name: string): Promise<void> {
    const admin = await this.ready();
    try {
      await admin.deleteTopics({ topics: [name], timeout: 15_000 });
      this.logger.info({ topic: name }, 'deleted Kafka topic');
      this.renew();
    } catch (error) {
      if ((error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return;
      throw this.fail(error, `deleting topic ${name}`);
    }
  }

  /** Names of every topic in the cluster. */
  async listTopics(): Promise<string[]> {
    const admin = await this.ready();
    try {
      return await admin.listTopics();
    } catch (error) {
      throw this.fail(error, 'listing topics');
    }
  }

  /** Partition count of a topic, or undefined when it does not exist. */
  async partitionCount(name: string): Promise<number | undefined> {
    const admin = await this.ready();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [name] });
      return metadata.topics[0]?.partitions.length;
    } catch (error) {
      if ((error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') {
        this.renew(); // asking about a missing topic would poison later calls (see renew)
        return undefined;
      }
      throw this.fail(error, `describing topic ${name}`);
    }
  }

  /**
   * The end of each partition. kafkajs's admin lists offsets read_committed
   * whatever it is asked (its ListOffsets request has no isolation option and
   * defaults to it), so this is the last stable offset with or without
   * `committedOnly`. The two differ only while a transaction is open.
   */
  async latestOffsets(topic: string, _options?: { committedOnly?: boolean }): Promise<PartitionOffset[]> {
    const admin = await this.ready();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return sorted(offsets.map(({ partition, high }) => ({ partition, offset: high })));
    } catch (error) {
      throw this.fail(error, `reading the latest offsets of ${topic}`);
    }
  }

  /** The first retained offset on each partition. */
  async earliestOffsets(topic: string): Promise<PartitionOffset[]> {
    const admin = await this.ready();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return sorted(offsets.map(({ partition, low }) => ({ partition, offset: low })));
    } catch (error) {
      throw this.fail(error, `reading the earliest offsets of ${topic}`);
    }
  }

  /** On each partition, the first offset whose record timestamp is at or after `timeMillis` (else the end). */
  async offsetsForTime(topic: string, timeMillis: number): Promise<PartitionOffset[]> {
    const admin = await this.ready();
    try {
      const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, timeMillis);
      return sorted(offsets.map(({ partition, offset }) => ({ partition, offset })));
    } catch (error) {
      throw this.fail(error, `reading the offsets of ${topic} at a time`);
    }
  }

  /** Committed offsets of a consumer group on a topic, with the metadata stored beside them. */
  async committedOffsets(groupId: string, topic: string): Promise<CommittedOffset[]> {
    const admin = await this.ready();
    try {
      const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (result?.partitions ?? []).map(({ partition, offset, metadata }) => ({ partition, offset, metadata }));
    } catch (error) {
      throw this.fail(error, `reading the committed offsets of ${groupId}`);
    }
  }

  /** Deletes a consumer group; missing or still-active groups are left alone. */
  async deleteGroup(groupId: string): Promise<void> {
    const admin = await this.ready();
    try {
      await admin.deleteGroups([groupId]);
    } catch (error) {
      this.logger.debug({ err: error, groupId }, 'consumer group not deleted');
    }
  }

  async close(): Promise<void> {
    if (this.connected) await this.admin.disconnect().catch(() => undefined);
  }
}

function sorted(offsets: PartitionOffset[]): PartitionOffset[] {
  return offsets.sort((a, b) => a.partition - b.partition);
}
