import { randomBytes } from 'node:crypto';
import { UnavailableError } from '@herald/errors';
import type { DurableProducer, KafkaClient, PartitionOffset, TopicAdmin } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import type { InboundMessage } from '../domain/inbound-message';
import { toInboundMessages } from '../kafka/inbound-record';
import { redriveAddressOf, redriveCopy } from '../kafka/redrive-record';
import { OffsetRanges } from './offset-ranges';
import { readPartitionRange } from './partition-range';
import { RateLimit, batchSizeFor } from './rate-limit';
import { type RedriveState, parseRedriveSource, redriveSource, redriveStateKey } from './redrive-state';
import type { RedriveStore } from './redrive-store';
import { type Selection, judge } from './selection';

/** What a peek or a redrive works with. */
export interface RedriveDeps {
  kafka: KafkaClient;
  admin: TopicAdmin;
  producer: DurableProducer;
  store: RedriveStore;
  logger: Logger;
  now?: () => number;
}

/** One subscription's dead letters in one dead-letter topic, resolved from the registry. */
export interface DeadLetterSource {
  selection: Selection;
  /** The Kafka topic of the dead letters. */
  deadLetterTopic: string;
  /** The dead-letter topic as redrive states and copies name it ({@link redriveTopicId}). */
  deadLetterTopicId: string;
}

/** A redrive: which dead letters, where they go back to, how fast. */
export interface RedriveJob extends DeadLetterSource {
  /** The subscription's address on copies ({@link redriveTarget}). */
  target: string;
  /** The Kafka topic of the subscription. */
  sourceTopic: string;
  sourcePartitions: number;
  perSecond: number;
}

/** How far a redrive is. */
export interface RedriveProgress {
  examined: number;
  toExamine: number;
  moved: number;
  recovered: number;
  done: boolean;
}

/**
 * Moves a subscription's dead letters back to its topic, as copies only that
 * subscription delivers, each dead letter once.
 *
 * The redrive state (done offsets of the dead-letter topic) makes a restart
 * go on where a call stopped. Each batch is three acknowledged writes: the
 * batch's intent (its dead letters, and the source topic's end) in the state;
 * the copies; the state with the batch done. A call cut off between the first
 * and the last leaves the intent behind, and the next call reads the source
 * topic from the recorded end for copies of the batch: those found count as
 * moved, the others are moved again. So no dead letter is lost or written
 * back twice, however the call ended, without Kafka transactions (which every
 * reader of every topic would have to read committed for). The source
 * subscription's dedup window, keyed by the dead letter a copy comes from,
 * drops a copy written twice anyway.
 *
 * One redrive of a subscription at a time, on the dispatcher serving it
 * ({@link Redrives}): the state is read once and then held.
 */
export async function redrive(
  deps: RedriveDeps,
  job: RedriveJob,
  report: (progress: RedriveProgress) => void,
  signal: AbortSignal,
): Promise<RedriveProgress> {
  const now = deps.now ?? Date.now;
  const key = redriveStateKey(job.selection.subscription, job.deadLetterTopicId);
  const state = await deps.store.load(key);
  const progress: RedriveProgress = { examined: 0, toExamine: 0, moved: 0, recovered: 0, done: false };
  if (state.pending) {
    progress.recovered = await recover(deps, job, state);
    await deps.store.save(key, state);
    deps.logger.info(
      { subscription: job.selection.subscription, recovered: progress.recovered },
      'redrive recovered an interrupted batch',
    );
  }
  const ranges = await rangesToRead(deps, job, state);
  progress.toExamine = ranges.reduce((sum, range) => sum + (range.to - range.from), 0);
  report({ ...progress });

  const limit = new RateLimit(job.perSecond, now());
  const batchSize = batchSizeFor(job.perSecond);
  const publisher = `redrive-${randomBytes(6).toString('hex')}`;
  let batch: InboundMessage[] = [];
  let unsaved = false;

  const flush = async () => {
    if (batch.length === 0) {
      if (unsaved) await deps.store.save(key, state);
      unsaved = false;
      return;
    }
    stopIfAborted(signal);
    const wait = limit.delayFor(batch.length, now());
    if (wait > 0) await sleep(wait, signal);
    stopIfAborted(signal);
    // From here the batch goes through to its end: a stop waits for it.
    const sources = batch.map((message) => redriveSource(job.deadLetterTopicId, message.partition, message.offset));
    state.pending = { sources, sourceEnds: toMap(await deps.admin.latestOffsets(job.sourceTopic)) };
    await deps.store.save(key, state);
    const at = now();
    const copies = batch.map((message, i) =>
      redriveCopy(message, { target: job.target, source: sources[i]! }, publisher, at),
    );
    await deps.producer.send(job.sourceTopic, job.sourcePartitions, copies);
    for (const message of batch) doneOf(state, message.partition).add(message.offset);
    delete state.pending;
    await deps.store.save(key, state);
    unsaved = false;
    progress.moved += batch.length;
    batch = [];
    report({ ...progress });
  };

  for (const { partition, from, to } of ranges) {
    const done = doneOf(state, partition);
    await readPartitionRange(deps.kafka, job.deadLetterTopic, partition, from, to, async (records) => {
      stopIfAborted(signal);
      for (const record of records) {
        progress.examined++;
        if (done.has(record.offset)) continue;
        // An unreadable record (a later format) is left where it is: a later build may move it.
        const [message] = toInboundMessages([record], deps.logger);
        if (!message) continue;
        const verdict = judge(job.selection, message);
        if (verdict === 'foreign') {
          // Never this subscription's: marked done so later calls skip it (and ranges stay whole).
          done.add(record.offset);
          unsaved = true;
        } else if (verdict === 'take') {
          batch.push(message);
          if (batch.length >= batchSize) await flush();
        }
      }
      return 'more';
    });
    await flush();
  }
  progress.done = true;
  return progress;
}

/**
 * Settles an intent a cut-off call left: copies of its dead letters written
 * to the source topic after the recorded end are moved; the others are not.
 * Returns how many were found.
 */
async function recover(deps: RedriveDeps, job: RedriveJob, state: RedriveState): Promise<number> {
  const pending = state.pending!;
  const wanted = new Set(pending.sources);
  const found = new Set<string>();
  const ends = toMap(await deps.admin.latestOffsets(job.sourceTopic));
  for (const [partition, from] of pending.sourceEnds) {
    if (found.size === wanted.size) break;
    await readPartitionRange(
      deps.kafka,
      job.sourceTopic,
      partition,
      from,
      ends.get(partition) ?? from,
      async (records) => {
        for (const record of records) {
          const address = redriveAddressOf(record);
          if (address && wanted.has(address.source)) found.add(address.source);
        }
        return found.size === wanted.size ? 'stop' : 'more';
      },
    );
  }
  for (const source of found) {
    const position = parseRedriveSource(source, job.deadLetterTopicId);
    if (position) doneOf(state, position.partition).add(position.offset);
  }
  delete state.pending;
  return found.size;
}

/** One partition's span to read. */
interface PartitionRange {
  partition: number;
  from: number;
  to: number;
}

/**
 * Per partition of the dead-letter topic, in order, where reading starts (the
 * selection's start time, after what is done already) and ends (the end now:
 * dead letters arriving meanwhile wait for the next call); empty when the
 * start is the end.
 */
async function rangesToRead(
  deps: RedriveDeps,
  source: DeadLetterSource,
  state: RedriveState,
): Promise<PartitionRange[]> {
  const { admin } = deps;
  const topic = source.deadLetterTopic;
  const [ends, firsts] = await Promise.all([
    admin.latestOffsets(topic).then(toMap),
    (source.selection.startMillis === undefined
      ? admin.earliestOffsets(topic)
      : admin.offsetsForTime(topic, source.selection.startMillis)
    ).then(toMap),
  ]);
  return [...ends]
    .sort(([a], [b]) => a - b)
    .map(([partition, to]) => {
      const first = firsts.get(partition) ?? 0;
      const from = Math.min(to, state.done.get(partition)?.nextAbsent(first) ?? first);
      return { partition, from, to };
    });
}

/** A page of a peek: dead letters not moved yet, and where the next page starts. */
export interface PeekPage {
  messages: InboundMessage[];
  /** Per partition, the next offset to read; undefined once every partition was read to its end. */
  next: Map<number, number> | undefined;
}

/**
 * Lists dead letters of the selection that no redrive moved yet, from `after`
 * (a previous page's `next`) or the selection's start, partition by partition.
 */
export async function peek(
  deps: RedriveDeps,
  source: DeadLetterSource,
  max: number,
  after: Map<number, number> | undefined,
): Promise<PeekPage> {
  const state = await deps.store.load(redriveStateKey(source.selection.subscription, source.deadLetterTopicId));
  const ranges = await rangesToRead(deps, source, state);
  const messages: InboundMessage[] = [];
  const next = new Map<number, number>();
  for (const { partition, from: start, to } of ranges) {
    const from = Math.max(after?.get(partition) ?? 0, start);
    next.set(partition, Math.max(from, to));
    if (messages.length >= max) {
      next.set(partition, from);
      continue;
    }
    const done = state.done.get(partition) ?? new OffsetRanges();
    await readPartitionRange(deps.kafka, source.deadLetterTopic, partition, from, to, async (records) => {
      for (const record of records) {
        if (messages.length >= max) {
          next.set(partition, record.offset);
          return 'stop';
        }
        next.set(partition, record.offset + 1);
        if (done.has(record.offset)) continue;
        const [message] = toInboundMessages([record], deps.logger);
        if (message && judge(source.selection, message) === 'take') messages.push(message);
      }
      return 'more';
    });
  }
  const finished = ranges.every(({ partition, to }) => next.get(partition)! >= to);
  return { messages, next: finished ? undefined : next };
}

function doneOf(state: RedriveState, partition: number): OffsetRanges {
  let done = state.done.get(partition);
  if (!done) {
    done = new OffsetRanges();
    state.done.set(partition, done);
  }
  return done;
}

function toMap(offsets: PartitionOffset[]): Map<number, number> {
  return new Map(offsets.map((o) => [o.partition, Math.max(0, Number(o.offset))]));
}

function stopIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new UnavailableError('the redrive was stopped; call again to continue');
}

function sleep(millis: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, millis);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
