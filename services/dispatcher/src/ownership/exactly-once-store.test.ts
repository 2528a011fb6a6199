import assert from 'node:assert/strict';
import { UnavailableError } from '@herald/errors';
import type {
  ConsumedRecord,
  KafkaClient,
  OutgoingRecord,
  PartitionReaderOptions,
  TopicAdmin,
  TransactionalWriter,
  TransactionalWriterOptions,
} from '@herald/kafka';
import { createLogger } from '@herald/logging';
import type { SettledRecord } from '../domain/settled-record';
import { type ExactlyOnceMember, ExactlyOnceStore } from './exactly-once-store';

/**
 * Kafka's transactions as far as the store relies on them: a writer's start
 * bumps its id's epoch (fencing older writers), a commit of an older epoch
 * fails, and only committed records are read. A commit takes a turn of the
 * event loop, and two at once on one writer are an error (librdkafka never
 * completes the second).
 */
class FakeTransactions {
  readonly log = new Map<number, ConsumedRecord[]>();
  private readonly epochs = new Map<string, number>();
  overlappingCommits = 0;

  writer(options: TransactionalWriterOptions): TransactionalWriter {
    let epoch = -1;
    let open = false;
    return {
      start: async () => {
        epoch = (this.epochs.get(options.transactionalId) ?? 0) + 1;
        this.epochs.set(options.transactionalId, epoch);
      },
      commit: async (records: OutgoingRecord[]) => {
        if (open) this.overlappingCommits++;
        open = true;
        await new Promise((resolve) => setImmediate(resolve));
        open = false;
        if (this.epochs.get(options.transactionalId) !== epoch) throw new UnavailableError('fenced');
        const partition = this.log.get(options.partition ?? 0) ?? [];
        this.log.set(options.partition ?? 0, partition);
        for (const record of records) {
          partition.push({
            partition: options.partition ?? 0,
            offset: partition.length,
            key: Buffer.from(record.key ?? ''),
            value: record.value,
            headers: {},
            timestampMillis: record.timestamp,
          });
        }
        return BigInt(partition.length - 1);
      },
      stop: async () => undefined,
    };
  }

  reader(options: PartitionReaderOptions) {
    return {
      start: async () => {
        for (const { partition } of options.start) {
          const records = this.log.get(partition) ?? [];
          if (records.length > 0) await options.records(partition, records);
          options.caughtUp?.(partition, records.length);
        }
      },
      pause: () => undefined,
      resume: () => undefined,
      stop: async () => undefined,
    };
  }

  latest(topic: string) {
    return [...this.log].map(([partition, records]) => ({ topic, partition, offset: String(records.length) }));
  }
}

const slot = 3;

function store(kafka: FakeTransactions, proofMillis = 60_000): ExactlyOnceStore {
  return new ExactlyOnceStore({
    kafka: {
      transactionalWriter: (options: TransactionalWriterOptions) => kafka.writer(options),
      partitionReader: (options: PartitionReaderOptions) => kafka.reader(options),
    } as unknown as KafkaClient,
    admin: { latestOffsets: async (topic: string) => kafka.latest(topic) } as unknown as TopicAdmin,
    logger: createLogger({ service: 'test', level: 'silent' }),
    topic: 'herald._acks',
    transactionalIdPrefix: 'herald.dispatcher-slot-',
    proofMillis,
  });
}

/** A subscription whose state is `settled` offsets of partition 0, recording what became of its snapshots. */
class FakeMember implements ExactlyOnceMember {
  settled: number[] = [];
  readonly outcomes: boolean[] = [];
  lostWith: Error | undefined;
  resumed = 0;

  constructor(readonly name: string) {}

  snapshot(): { record: SettledRecord; stored(ok: boolean): void } {
    return {
      record: {
        createRevision: '1',
        partitions: new Map([[0, { offset: 0, seekRevision: '-1', settled: [...this.settled] }]]),
      },
      stored: (ok) => this.outcomes.push(ok),
    };
  }

  lost(error: Error): void {
    this.lostWith = error;
  }

  resume(): void {
    this.resumed++;
  }
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('ExactlyOnceStore', () => {
  describe('join', () => {
    it('reads back what an earlier owner committed, after fencing it; the earlier owner’s next commit fails', async () => {
      const kafka = new FakeTransactions();
      const old = store(kafka);
      const oldMember = new FakeMember('orders-once');
      assert.equal(await old.join(slot, oldMember), undefined);
      oldMember.settled = [4, 5];
      old.flushSoon(slot);
      await turns();
      assert.deepEqual(oldMember.outcomes, [true]);

      const next = store(kafka);
      const record = await next.join(slot, new FakeMember('orders-once'));
      assert.deepEqual(record?.partitions.get(0)?.settled, [4, 5]);

      oldMember.settled = [4, 5, 6];
      old.flushSoon(slot);
      await turns();
      assert.deepEqual(oldMember.outcomes, [true, false], 'the fenced owner’s ack is not confirmed');
      assert.ok(oldMember.lostWith, 'and its subscription stops');
      assert.equal(old.mayLease(slot), false);
    });

    it('refuses a slot whose stored state it cannot read, rather than forget the acks in it', async () => {
      const kafka = new FakeTransactions();
      const first = store(kafka);
      const member = new FakeMember('orders-once');
      await first.join(slot, member);
      member.settled = [4, 5];
      first.flushSoon(slot);
      await turns();
      kafka.log.get(slot)!.push({
        partition: slot,
        offset: kafka.log.get(slot)!.length,
        key: Buffer.from('orders-once'),
        value: Buffer.from('{"v":2}'),
        headers: {},
        timestampMillis: Date.now(),
      });
      await assert.rejects(store(kafka).join(slot, new FakeMember('orders-once')), /cannot be read/);
    });

    it('after a crash, leases nothing until the window passed; after a clean hand-over, at once', async () => {
      const kafka = new FakeTransactions();
      const crashed = store(kafka);
      await crashed.join(slot, new FakeMember('a'));
      const afterCrash = store(kafka);
      await afterCrash.join(slot, new FakeMember('a'));
      assert.equal(afterCrash.mayLease(slot), false);

      const leaving = store(kafka);
      const member = new FakeMember('a');
      await leaving.join(slot, member);
      await leaving.handOver();
      const afterHandover = store(kafka);
      await afterHandover.join(slot, new FakeMember('a'));
      await turns();
      assert.equal(afterHandover.mayLease(slot), true);
    });

    it('refuses to join a slot that is handing over', async () => {
      const kafka = new FakeTransactions();
      const owner = store(kafka);
      await owner.join(slot, new FakeMember('a'));
      const handingOver = owner.handOver();
      await assert.rejects(owner.join(slot, new FakeMember('b')), /moved while starting/);
      await handingOver;
    });
  });

  describe('commits', () => {
    it('never runs two transactions of a slot at once, whatever asks for them', async () => {
      const kafka = new FakeTransactions();
      const owner = store(kafka, 1_000);
      const member = new FakeMember('a');
      await owner.join(slot, member);
      for (let i = 0; i < 20; i++) {
        member.settled.push(i);
        owner.flushSoon(slot);
        owner.tick();
        if (i % 3 === 0) await turns(1);
      }
      await owner.handOver();
      assert.equal(kafka.overlappingCommits, 0);
      assert.ok(member.outcomes.every((ok) => ok));
      const last = kafka.log.get(slot)!.at(-1)!;
      assert.equal(last.key?.toString(), '', 'the hand-over mark comes last');
      assert.equal(last.value?.toString(), 'handover');
    });

    it('groups the requests made before a commit takes its snapshot into that commit', async () => {
      const kafka = new FakeTransactions();
      const owner = store(kafka);
      const member = new FakeMember('a');
      await owner.join(slot, member);
      await turns();
      const before = member.outcomes.length;
      owner.flushSoon(slot);
      owner.flushSoon(slot);
      owner.flushSoon(slot);
      await turns();
      assert.equal(member.outcomes.length - before, 1);
    });
  });
});
