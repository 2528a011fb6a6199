import type { ConsumedRecord, KafkaClient } from '@herald/kafka';

/** What a handler of {@link readPartitionRange} wants next. */
export type RangeStep = 'more' | 'stop';

/**
 * Reads one partition from `from` up to `to` (exclusive), handing records over
 * in offset order, a fetched chunk at a time; the next chunk waits for the
 * handler, so a slow handler (a rate limit) slows the read instead of growing
 * memory. Resolves once `to` is reached or the handler says stop; rejects
 * with the handler's error, or the reader's.
 */
export async function readPartitionRange(
  kafka: KafkaClient,
  topic: string,
  partition: number,
  from: number,
  to: number,
  handle: (records: ConsumedRecord[]) => Promise<RangeStep>,
): Promise<void> {
  if (from >= to) return;
  let finish!: (error?: unknown) => void;
  const finished = new Promise<void>((resolve, reject) => {
    let done = false;
    finish = (error?: unknown) => {
      if (done) return;
      done = true;
      if (error === undefined) resolve();
      else reject(error as Error);
    };
  });
  let over = false;
  const reader = kafka.partitionReader({
    topic,
    start: [{ partition, offset: from }],
    records: async (_partition, records) => {
      if (over) return;
      const wanted = records.filter((record) => record.offset >= from && record.offset < to);
      try {
        const step = wanted.length > 0 ? await handle(wanted) : 'more';
        if (step === 'stop' || records[records.length - 1]!.offset + 1 >= to) {
          over = true;
          finish();
        }
      } catch (error) {
        over = true;
        finish(error);
      }
    },
    // Offsets with no record (transaction markers, records removed by retention) still count as read.
    caughtUp: (_partition, offset) => {
      if (!over && offset >= to) {
        over = true;
        finish();
      }
    },
  });
  try {
    await reader.start();
    await finished;
  } finally {
    await reader.stop().catch(() => undefined);
  }
}
