import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { HeraldError, UnavailableError } from '@herald/errors';
import { silentLogger } from '@herald/logging';
import type { ConsumerConfig, ConsumerRunConfig, EachBatchPayload, Kafka } from 'kafkajs';
import type { ConsumedRecord } from '../consumed-record';
import type { GroupConsumerHandlers } from '../group-consumer';
import { KafkajsGroupConsumer } from './group-consumer';

const topic = 'orders';
const events = { GROUP_JOIN: 'consumer.group_join', REBALANCING: 'consumer.rebalancing', CRASH: 'consumer.crash' };

/** A kafkajs consumer that records calls; the test plays kafkajs's part through `emit` and `fetched`. */
class FakeConsumer extends EventEmitter {
  readonly events = events;
  readonly calls: string[] = [];
  readonly commits: unknown[] = [];
  runConfig: ConsumerRunConfig | undefined;
  commitError: unknown;

  constructor(readonly config: ConsumerConfig) {
    super();
  }

  async connect(): Promise<void> {}
  async run(config: ConsumerRunConfig): Promise<void> {
    this.runConfig = config;
    this.calls.push(
      `run autoCommit=${config.autoCommit} autoResolve=${config.eachBatchAutoResolve} concurrently=${config.partitionsConsumedConcurrently}`,
    );
  }
  async subscribe(subscription: { topic: string; fromBeginning: boolean }): Promise<void> {
    this.calls.push(`subscribe ${subscription.topic} fromBeginning=${subscription.fromBeginning}`);
  }
  async commitOffsets(offsets: unknown[]): Promise<void> {
    if (this.commitError) throw this.commitError;
    this.commits.push(...offsets);
  }
  pause([{ partitions }]: Array<{ partitions: number[] }>): void {
    this.calls.push(`pause ${partitions}`);
  }
  resume([{ partitions }]: Array<{ partitions: number[] }>): void {
    this.calls.push(`resume ${partitions}`);
  }
  seek({ partition, offset }: { partition: number; offset: string }): void {
    this.calls.push(`seek ${partition} ${JSON.stringify(offset)}`);
  }
  async disconnect(): Promise<void> {
    this.calls.push('disconnect');
  }

  async fetched(partition: number, offsets: number[], options: { stale?: boolean } = {}): Promise<void> {
    const messages = offsets.map((offset) => ({
      key: Buffer.from('k'),
      value: Buffer.from('v'),
      timestamp: '1700000000000',
      attributes: 0,
      offset: String(offset),
      headers: { h: [Buffer.from('first'), Buffer.from('last')] },
    }));
    const batch = { topic, partition, messages, lastOffset: () => String(offsets[offsets.length - 1]) };
    await this.runConfig!.eachBatch!({
      batch,
      resolveOffset: (offset: string) => this.calls.push(`resolve ${partition} ${offset}`),
      heartbeat: async () => void this.calls.push('heartbeat'),
      isRunning: () => true,
      isStale: () => options.stale ?? false,
    } as unknown as EachBatchPayload);
  }
}

interface Started {
  consumer: FakeConsumer;
  groupConsumer: KafkajsGroupConsumer;
  /** What the handlers were told, in order. */
  told: string[];
  records: ConsumedRecord[];
}

async function started(): Promise<Started> {
  let consumer: FakeConsumer | undefined;
  const kafka = { consumer: (config: ConsumerConfig) => (consumer = new FakeConsumer(config)) } as unknown as Kafka;
  const told: string[] = [];
  const records: ConsumedRecord[] = [];
  const handlers: GroupConsumerHandlers = {
    assigned: (partitions) => void told.push(`assigned ${partitions}`),
    revoking: async () => void told.push('revoking'),
    records: async (partition, batch) => {
      told.push(`records ${partition}`);
      records.push(...batch);
    },
  };
  const groupConsumer = new KafkajsGroupConsumer(kafka, silentLogger(), {
    groupId: 'herald.sub.s',
    topic,
    sessionTimeoutMillis: 10_000,
    handlers,
  });
  await groupConsumer.start();
  return { consumer: consumer!, groupConsumer, told, records };
}

describe('KafkajsGroupConsumer', () => {
  describe('start', () => {
    it('joins with the session settings and consumes from the earliest offset, committing nothing by itself', async () => {
      const { consumer } = await started();
      assert.equal(consumer.config.groupId, 'herald.sub.s');
      assert.equal(consumer.config.sessionTimeout, 10_000);
      assert.equal(consumer.config.heartbeatInterval, 2_000);
      assert.equal(consumer.config.rebalanceTimeout, 20_000);
      assert.deepEqual(consumer.calls, [
        'subscribe orders fromBeginning=true',
        'run autoCommit=false autoResolve=false concurrently=4',
      ]);
    });

    it('tells the owner its whole assignment on each join, and to hand over on a rebalance', async () => {
      const { consumer, told } = await started();
      consumer.emit(events.GROUP_JOIN, { payload: { memberAssignment: { [topic]: [0, 2] } } });
      consumer.emit(events.REBALANCING, { payload: {} });
      consumer.emit(events.GROUP_JOIN, { payload: { memberAssignment: {} } });
      assert.deepEqual(told, ['assigned 0,2', 'revoking', 'assigned ']);
    });
  });

  describe('batches', () => {
    it('hands over records, then resolves the batch and heartbeats', async () => {
      const { consumer, told, records } = await started();
      await consumer.fetched(3, [7, 8]);
      assert.deepEqual(told, ['records 3']);
      assert.deepEqual(
        records.map((r) => [r.partition, r.offset, r.headers.h?.toString()]),
        [
          [3, 7, 'last'],
          [3, 8, 'last'],
        ],
      );
      assert.deepEqual(consumer.calls.slice(-2), ['resolve 3 8', 'heartbeat']);
    });

    it('skips a stale batch without resolving it', async () => {
      const { consumer, told } = await started();
      await consumer.fetched(3, [7, 8], { stale: true });
      assert.deepEqual(told, []);
      assert.ok(!consumer.calls.some((call) => call.startsWith('resolve')));
    });
  });

  describe('pause, resume and seek', () => {
    it('map to the consumer, offsets as strings', async () => {
      const { consumer, groupConsumer } = await started();
      groupConsumer.pause([1, 2]);
      groupConsumer.resume([2]);
      groupConsumer.seek(1, 42);
      assert.deepEqual(consumer.calls.slice(-3), ['pause 1,2', 'resume 2', 'seek 1 "42"']);
    });
  });

  describe('commit', () => {
    it('commits offsets as strings with their metadata', async () => {
      const { consumer, groupConsumer } = await started();
      await groupConsumer.commit([{ partition: 1, offset: 10, metadata: 'm' }]);
      assert.deepEqual(consumer.commits, [{ topic, partition: 1, offset: '10', metadata: 'm' }]);
    });

    it('turns a refusal into a Herald error', async () => {
      const { consumer, groupConsumer } = await started();
      consumer.commitError = Object.assign(new Error('The group is rebalancing'), {
        name: 'KafkaJSProtocolError',
        type: 'REBALANCE_IN_PROGRESS',
      });
      await assert.rejects(groupConsumer.commit([{ partition: 1, offset: 10, metadata: 'm' }]), UnavailableError);
    });

    it('refuses after stop', async () => {
      const { groupConsumer } = await started();
      await groupConsumer.stop();
      await assert.rejects(groupConsumer.commit([{ partition: 1, offset: 10, metadata: 'm' }]), HeraldError);
    });
  });

  describe('stop', () => {
    it('lets the owner hand over, then leaves the group', async () => {
      const { consumer, groupConsumer, told } = await started();
      await groupConsumer.stop();
      assert.deepEqual(told, ['revoking']);
      assert.equal(consumer.calls[consumer.calls.length - 1], 'disconnect');
    });
  });
});
