import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Partitioners } from 'kafkajs';
import { keyPartitioner, murmur2 } from './key-partitioner';

describe('keyPartitioner', () => {
  const metadata = (count: number) =>
    Array.from({ length: count }, (_, partitionId) => ({
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
      partitionErrorCode: 0,
    }));

  it('puts every key on the partition kafkajs (and the Java client) would', () => {
    const ours = keyPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 5_000; i++) {
      const key = i % 2 === 0 ? randomBytes(i % 37) : `customer-${i}-ü`;
      for (const count of [1, 3, 6, 7, 100]) {
        const args = { topic: 't', partitionMetadata: metadata(count), message: { key, value: null } };
        assert.equal(ours(args), theirs(args), `key ${key.toString()} on ${count} partitions`);
      }
    }
  });

  it('matches known murmur2 values of the Java client', () => {
    // Values from Kafka's UtilsTest.testMurmur2.
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ];
    for (const [key, expected] of cases) assert.equal(murmur2(Buffer.from(key)), expected, key);
  });

  it('rotates records without a key over partitions that have a leader', () => {
    const partitioner = keyPartitioner();
    const partitions = metadata(4);
    partitions[2]!.leader = -1;
    const chosen = new Set<number>();
    for (let i = 0; i < 40; i++)
      chosen.add(partitioner({ topic: 't', partitionMetadata: partitions, message: { value: null } }));
    assert.deepEqual([...chosen].sort(), [0, 1, 3]);
  });
});
