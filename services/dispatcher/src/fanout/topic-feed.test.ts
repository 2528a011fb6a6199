import assert from 'node:assert/strict';
import {
  type ConsumedRecord,
  type KafkaClient,
  type PartitionReader,
  type PartitionReaderOptions,
  encodeHeraldRecord,
} from '@herald/kafka';
import { silentLogger } from '@herald/logging';
import { TopicFeed } from './topic-feed';

/** A reader that records pauses and resumes, fed by hand. */
class FakeReader implements PartitionReader {
  readonly calls: string[] = [];
  constructor(readonly options: PartitionReaderOptions) {}
  async start(): Promise<void> {}
  pause(partitions?: number[]): void {
    this.calls.push(`pause ${partitions ?? 'all'}`);
  }
  resume(partitions?: number[]): void {
    this.calls.push(`resume ${partitions ?? 'all'}`);
  }
  async stop(): Promise<void> {}
}

function record(partition: number, offset: number, bytes: number): ConsumedRecord {
  const encoded = encodeHeraldRecord({
    messageId: `${partition}-${offset}`,
    data: Buffer.alloc(bytes),
    attributes: {},
    orderingKey: '',
    idempotencyKey: '',
    publishTimeMillis: 1_764_000_000_000,
  });
  return {
    partition,
    offset,
    key: null,
    value: encoded.value,
    headers: Object.fromEntries(Object.entries(encoded.headers).map(([k, v]) => [k, Buffer.from(v)])),
    timestampMillis: encoded.timestamp,
  };
}

function feed(windowBytes: number): { feed: TopicFeed; reader: FakeReader } {
  let reader: FakeReader | undefined;
  const kafka = {
    partitionReader: (options: PartitionReaderOptions) => (reader = new FakeReader(options)),
  } as unknown as KafkaClient;
  const topicFeed = new TopicFeed({
    kafka,
    logger: silentLogger(),
    topic: 't',
    start: new Map([
      [0, 0],
      [1, 0],
    ]),
    windowBytes,
  });
  return { feed: topicFeed, reader: reader! };
}

describe('TopicFeed', () => {
  it('pauses only the partition whose window filled, and resumes it when a reader waits at its end', () => {
    const { feed: topicFeed, reader } = feed(2_000); // one message of 600 B and its overhead fits, two do not
    const wakes: number[] = [];
    // A reader waits at the end of partition 1; partition 0 fills with nobody waiting.
    assert.equal(
      topicFeed.read(1, 0, 10, () => wakes.push(1)),
      null,
    );
    void reader.options.records(0, [record(0, 0, 600), record(0, 1, 600)]);
    assert.deepEqual(reader.calls, ['pause 0']);
    void reader.options.records(1, [record(1, 0, 600), record(1, 1, 600)]);
    assert.deepEqual(wakes, [1]);
    assert.deepEqual(reader.calls, ['pause 0'], 'a partition with a reader waiting is not paused');

    // Partition 0's reader catches up and waits: only partition 0 resumes.
    const read = topicFeed.read(0, 1, 10, () => undefined);
    assert.ok(read && read !== 'behind' && read.messages.length === 1, 'the newest message stays');
    assert.equal(
      topicFeed.read(0, 2, 10, () => undefined),
      null,
    );
    assert.deepEqual(reader.calls, ['pause 0', 'resume 0']);
    // Waiting again where nothing is paused asks for nothing.
    assert.equal(
      topicFeed.read(1, 2, 10, () => undefined),
      null,
    );
    assert.deepEqual(reader.calls, ['pause 0', 'resume 0']);
  });
});
