import { OffsetRanges } from './offset-ranges';

/**
 * What is known about moving one subscription's dead letters out of one
 * dead-letter topic, kept between redrive calls so that each dead letter is
 * moved once, whatever filters, time ranges and interruptions came between.
 */
export interface RedriveState {
  /**
   * Per partition of the dead-letter topic, offsets a redrive is done with:
   * dead letters it moved, and records that are not this subscription's.
   * Dead letters a filter or time range left out are not in it.
   */
  done: Map<number, OffsetRanges>;
  /** A batch being written back, recorded before it is: set only while a call runs, or after one was cut off. */
  pending?: PendingBatch;
}

/** A batch of dead letters written back to the source topic, recorded before the writes. */
export interface PendingBatch {
  /** Dead-letter topic positions of the batch, as their copies name them (`herald-redrive-source`). */
  sources: string[];
  /** Per partition of the source topic, its end before the batch was written: its copies can only be after. */
  sourceEnds: Map<number, number>;
}

/**
 * The key of a state in the redrive topic. The dead-letter topic's creation
 * is part of it ({@link redriveTopicId}): a topic deleted and created again
 * starts its offsets over, and what was done with the old one says nothing
 * about the new one.
 */
export function redriveStateKey(subscription: string, deadLetterTopicId: string): string {
  return `${subscription}/${deadLetterTopicId}`;
}

/** A dead-letter topic as redrives name it: its name and creation time, one incarnation of the name. */
export function redriveTopicId(deadLetterTopic: string, topicCreateMillis: number): string {
  return `${deadLetterTopic}@${topicCreateMillis}`;
}

/** Format of the stored value; a reader meeting another refuses it rather than redrive twice. */
const stateVersion = 1;

interface StoredState {
  v: number;
  done: Record<string, Array<[number, number]>>;
  pending?: { sources: string[]; sourceEnds: Record<string, number> };
}

export function encodeRedriveState(state: RedriveState): Buffer {
  const stored: StoredState = {
    v: stateVersion,
    done: Object.fromEntries([...state.done].map(([partition, ranges]) => [String(partition), ranges.toJSON()])),
  };
  if (state.pending) {
    stored.pending = {
      sources: state.pending.sources,
      sourceEnds: Object.fromEntries([...state.pending.sourceEnds].map(([p, offset]) => [String(p), offset])),
    };
  }
  return Buffer.from(JSON.stringify(stored));
}

/** @throws Error when the value is not a state this build can read. */
export function decodeRedriveState(value: Buffer): RedriveState {
  const stored = JSON.parse(value.toString('utf8')) as Partial<StoredState>;
  if (stored.v !== stateVersion || typeof stored.done !== 'object' || stored.done === null) {
    throw new Error(`redrive state of format ${JSON.stringify(stored.v)}; this build reads ${stateVersion}`);
  }
  const state: RedriveState = {
    done: new Map(
      Object.entries(stored.done).map(([partition, ranges]) => [Number(partition), new OffsetRanges(ranges)]),
    ),
  };
  if (stored.pending) {
    state.pending = {
      sources: stored.pending.sources,
      sourceEnds: new Map(Object.entries(stored.pending.sourceEnds).map(([p, offset]) => [Number(p), offset])),
    };
  }
  return state;
}

/**
 * Where a copy came from: the dead letter's topic (its name and creation, see
 * {@link redriveTopicId}) and position. Unique per dead letter, so it is also
 * the key the source subscription deduplicates copies by.
 */
export function redriveSource(deadLetterTopicId: string, partition: number, offset: number): string {
  return `${deadLetterTopicId}/${partition}/${offset}`;
}

/** The partition and offset of a {@link redriveSource}, if it is one of that topic's. */
export function parseRedriveSource(
  source: string,
  deadLetterTopicId: string,
): { partition: number; offset: number } | undefined {
  const prefix = `${deadLetterTopicId}/`;
  if (!source.startsWith(prefix)) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(source.slice(prefix.length));
  return match ? { partition: Number(match[1]), offset: Number(match[2]) } : undefined;
}
