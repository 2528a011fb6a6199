import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { silentLogger } from '@herald/logging';
import type { ConsumerConfig, ConsumerRunConfig, EachBatchPayload, Kafka } from 'kafkajs';
import type { ConsumedRecord } from '../consumed-record';
import type { PartitionReaderOptions } from '../partition-reader';
import { KafkajsPartitionReader } from './partition-reader';

const topic = 'orders';
const endBatchProcess = 'consumer.end_batch_process';

/** A kafkajs consumer that records calls; the test plays the fetch loop with `fetched`. */
class FakeConsumer {
  readonly events = { END_BATCH_PROCESS: endBatchProcess, CRASH: 'consumer.crash' };
  readonly emitter = new EventEmitter();
  readonly seeks: Array<{ partition: number; offset: string }> = [];
  readonly pauses: number[][] = [];
  readonly resumes: number[][] = [];
  readonly resolved: Array<{ partition: number; offset: string }> = [];
  disconnects = 0;
  private runConfig: ConsumerRunConfig | undefined;

  constructor(readonly config: ConsumerConfig) {}

  on(event: string, listener: (event: unknown) => void): void {
    this.emitter.on(event, listener);
  }
  async connect(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async run(config: ConsumerRunConfig): Promise<void> {
    this.runConfig = config;
  }
  seek({ partition, offset }: { partition: number; offset: string }): void {
    this.seeks.push({ partition, offset });
  }
  pause([entry]: Array<{ partitions?: number[] }>): void {
    this.pauses.push(entry!.partitions!);
  }
  resume([entry]: Array<{ partitions?: number[] }>): void {
    this.resumes.push(entry!.partitions!);
  }
  async disconnect(): Promise<void> {
    this.disconnects++;
  }

  /**
   * What kafkajs's runner does with one fetched batch: records at `offsets`
   * (after `markers` control records, which never reach eachBatch), then the
   * end-of-batch event.
   */
  async fetched(partition: number, offsets: number[], highWatermark: number, markers: number[] = []): Promise<void> {
    const within = [...markers, ...offsets].sort((a, b) => a - b);
    const messages = offsets.map((offset) => ({
      key: null,
      value: Buffer.from(`v${offset}`),
      timestamp: '1700000000000',
      attributes: 0,
      offset: String(offset),
      headers: {},
    }));
    const lastOffset = String(within[within.length - 1]);
    if (messages.length > 0) {
      const batch = {
        topic,
        partition,
        highWatermark: String(highWatermark),
        messages,
        firstOffset: () => String(within[0]),
        lastOffset: () => lastOffset,
      };
      await this.runConfig!.eachBatch!({
        batch,
        resolveOffset: (offset: string) => this.resolved.push({ partition, offset }),
        heartbeat: async () => undefined,
        isRunning: () => true,
        isStale: () => false,
      } as unknown as EachBatchPayload);
    }
    this.emitter.emit(endBatchProcess, {
      payload: { topic, partition, highWatermark: String(highWatermark), batchSize: messages.length, lastOffset },
    });
  }
}

class FakeKafka {
  consumer: FakeConsumer | undefined;
  readonly deletedGroups: string[] = [];

  asKafka(): Kafka {
    return {
      consumer: (config: ConsumerConfig) => (this.consumer = new FakeConsumer(config)),
      admin: () => ({
        connect: async () => undefined,
        disconnect: async () => undefined,
        deleteGroups: async (groups: string[]) => void this.deletedGroups.push(...groups),
      }),
    } as unknown as Kafka;
  }
}

interface Started {
  kafka: FakeKafka;
  consumer: FakeConsumer;
  reader: KafkajsPartitionReader;
  records: ConsumedRecord[];
  caughtUp: Array<[number, number]>;
}

async function started(options: Partial<PartitionReaderOptions> = {}): Promise<Started> {
  const kafka = new FakeKafka();
  const records: ConsumedRecord[] = [];
  const caughtUp: Array<[number, number]> = [];
  const reader = new KafkajsPartitionReader(kafka.asKafka(), silentLogger(), 'herald-reader.test.1', {
    topic,
    start: [
      { partition: 0, offset: 5 },
      { partition: 1, offset: 0 },
    ],
    records: (_partition, batch) => void records.push(...batch),
    caughtUp: (partition, offset) => void caughtUp.push([partition, offset]),
    ...options,
  });
  await reader.start();
  return { kafka, consumer: kafka.consumer!, reader, records, caughtUp };
}

const offsetsOf = (records: ConsumedRecord[]) => records.map((r) => `${r.partition}:${r.offset}`);

describe('KafkajsPartitionReader', () => {
  describe('start', () => {
    it('reads uncommitted records unless told otherwise', async () => {
      assert.equal((await started()).consumer.config.readUncommitted, true);
      assert.equal((await started({ readCommitted: true })).consumer.config.readUncommitted, false);
    });
  });

  describe('reading', () => {
    it('seeks a partition whose first batch begins before its start, and hands over nothing of it', async () => {
      const { consumer, records } = await started();
      await consumer.fetched(0, [0, 1, 2, 3, 4, 5, 6], 20);
      assert.deepEqual(consumer.seeks, [{ partition: 0, offset: '5' }]);
      assert.deepEqual(records, []);
      assert.deepEqual(consumer.resolved, [], 'the skipped batch is not resolved');
      await consumer.fetched(0, [5, 6, 7], 20);
      assert.deepEqual(offsetsOf(records), ['0:5', '0:6', '0:7']);
      assert.deepEqual(consumer.resolved, [{ partition: 0, offset: '7' }]);
    });

    it('reads a partition already at its start without seeking', async () => {
      const { consumer, records } = await started();
      await consumer.fetched(1, [0, 1], 2);
      assert.deepEqual(consumer.seeks, []);
      assert.deepEqual(offsetsOf(records), ['1:0', '1:1']);
    });

    it('seeks back to its position when a restarted consumer fetches from the beginning again', async () => {
      const { consumer, records } = await started();
      await consumer.fetched(1, [0, 1, 2], 10);
      await consumer.fetched(1, [0, 1], 10);
      assert.deepEqual(consumer.seeks, [{ partition: 1, offset: '3' }]);
      assert.deepEqual(offsetsOf(records), ['1:0', '1:1', '1:2']);
    });

    it('pauses a partition not named in start, and hands over nothing of it', async () => {
      const { consumer, records } = await started();
      await consumer.fetched(2, [0, 1], 2);
      assert.deepEqual(consumer.pauses, [[2]]);
      assert.deepEqual(records, []);
    });

    it('takes no batch while paused, leaving it to be fetched again after resume', async () => {
      const { consumer, reader, records } = await started();
      reader.pause();
      await consumer.fetched(1, [0, 1], 2);
      assert.deepEqual(records, []);
      assert.deepEqual(consumer.resolved, []);
      reader.resume();
      assert.deepEqual(consumer.pauses, [[0, 1], [1]]);
      assert.deepEqual(consumer.resumes, [[0, 1]]);
      await consumer.fetched(1, [0, 1], 2);
      assert.deepEqual(offsetsOf(records), ['1:0', '1:1']);
    });

    it('pauses and resumes the partitions named, and reads the others meanwhile', async () => {
      const { consumer, reader, records } = await started();
      reader.pause([0]);
      await consumer.fetched(0, [5, 6], 7);
      await consumer.fetched(1, [0], 2);
      assert.deepEqual(offsetsOf(records), ['1:0']);
      reader.resume([0]);
      await consumer.fetched(0, [5, 6], 7);
      assert.deepEqual(consumer.pauses, [[0], [0]]);
      assert.deepEqual(consumer.resumes, [[0]]);
      assert.deepEqual(offsetsOf(records), ['1:0', '0:5', '0:6']);
    });
  });

  describe('caughtUp', () => {
    it('reports a partition read up to the high watermark', async () => {
      const { consumer, caughtUp } = await started();
      await consumer.fetched(1, [0, 1], 5);
      await consumer.fetched(1, [2, 3, 4], 5);
      assert.deepEqual(caughtUp, [[1, 5]]);
    });

    it('reports the end of a batch of only transaction markers', async () => {
      const { consumer, caughtUp } = await started();
      await consumer.fetched(1, [0, 1], 3, [2]);
      await consumer.fetched(1, [], 5, [3, 4]);
      assert.deepEqual(caughtUp, [
        [1, 3],
        [1, 5],
      ]);
    });

    it('ignores markers before the start', async () => {
      const { consumer, caughtUp } = await started();
      await consumer.fetched(0, [], 3, [0, 1, 2]);
      assert.deepEqual(caughtUp, []);
    });

    it('ignores a batch it skipped to seek', async () => {
      const { consumer, caughtUp } = await started();
      await consumer.fetched(0, [0, 1, 2, 3, 4, 5, 6], 7);
      assert.deepEqual(caughtUp, []);
    });

    it('reports after every batch when reading committed records, whose end kafkajs does not show', async () => {
      const { consumer, caughtUp } = await started({ readCommitted: true });
      await consumer.fetched(1, [0, 1], 10);
      await consumer.fetched(1, [2], 10, [3]);
      assert.deepEqual(caughtUp, [
        [1, 2],
        [1, 4],
      ]);
    });
  });

  describe('stop', () => {
    it('disconnects and deletes its group', async () => {
      const { kafka, consumer, reader } = await started();
      await reader.stop();
      assert.equal(consumer.disconnects, 1);
      assert.deepEqual(kafka.deletedGroups, ['herald-reader.test.1']);
    });
  });
});
