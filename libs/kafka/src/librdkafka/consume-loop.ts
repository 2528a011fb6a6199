import type { KafkaConsumer, LibrdKafkaError, Message } from '@confluentinc/kafka-javascript';
import type { Logger } from '@herald/logging';
import type { ConsumedRecord } from '../consumed-record';

/** Records per consume call: one call, one hop from librdkafka's queue to the event loop. */
const batchSize = 1000;
/**
 * An idle loop sleeps until librdkafka says its queue is no longer empty, but
 * that wake-up is sometimes missed (measured: deliveries held up to the
 * fallback, 1.4 s at p99 with a 1 s fallback at 2,000 msg/s). So it also looks
 * again after a short sleep that doubles while the queue stays empty: soon
 * after traffic, rarely when idle.
 */
const firstIdleCheckMillis = 2;
const lastIdleCheckMillis = 200;

/** How long a seek may take to reach the fetcher. */
const seekTimeoutMillis = 5_000;

/** A seek as the loop follows it. */
interface PendingSeek {
  offset: number;
  settled: boolean;
  /** The consume call under way when it was issued, or -1. */
  issuedDuringCall: number;
}

/** The parts of ckjs's KafkaConsumer its typings omit. */
interface ConsumerExtras {
  setDefaultIsTimeoutOnlyForFirstMessage(value: boolean): void;
}

/**
 * Pulls batches from a librdkafka consumer and hands them over partition by
 * partition, the next call only after the handler is done: a slow handler
 * slows the fetch instead of growing memory.
 *
 * A consume call takes only what librdkafka already fetched and never waits:
 * a waiting call would hold one of libuv's four pool threads, and a few idle
 * consumers would then starve every other (a dispatcher runs one per
 * subscription). When the queue is empty the loop sleeps until the consumer's
 * `queue_non_empty_cb` ({@link ConsumeLoop.wakeUp}) fires.
 */
export class ConsumeLoop {
  private running = false;
  private stopped: Promise<void> = Promise.resolve();
  private finish: (() => void) | undefined;
  /** Wake-ups so far: one that came while a call was under way means its empty answer is stale. */
  private wakeUps = 0;
  private sleeping: { resume: () => void; timer: NodeJS.Timeout } | undefined;
  /** The next sleep while the queue stays empty. */
  private idleCheckMillis = firstIdleCheckMillis;
  /** Whether a consume call or its handlers are under way (the loop is not sleeping or parked). */
  private busy = false;
  /** Consume calls started so far: tells a seek issued during a call from one issued before it. */
  private calls = 0;
  /** Seeks not yet known to be reflected in what consume calls return, by partition. */
  private readonly seeks = new Map<number, PendingSeek>();

  constructor(
    private readonly consumer: KafkaConsumer,
    private readonly topic: string,
    private readonly logger: Logger,
    private readonly handle: (partition: number, records: ConsumedRecord[]) => Promise<void> | void,
  ) {
    consumer.setDefaultConsumeTimeout(0);
    (consumer as unknown as ConsumerExtras).setDefaultIsTimeoutOnlyForFirstMessage(true);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = new Promise((resolve) => (this.finish = resolve));
    this.next();
  }

  /**
   * Moves a partition's position. librdkafka settles a seek (with a timeout)
   * only once nothing fetched before it can reach a later consume call, so no
   * call starts while a seek is unsettled, and what a call that was already
   * under way returns for the partition is dropped (and the seek made again
   * should that call have ended after it settled: it may have taken records
   * from the new position).
   */
  seek(partition: number, offset: number): void {
    const seek: PendingSeek = { offset, settled: false, issuedDuringCall: this.busy ? this.calls : -1 };
    this.seeks.set(partition, seek);
    this.issue(partition, seek);
  }

  /** Resolves once no consume call or handler is running any more. */
  stop(): Promise<void> {
    if (!this.running) return this.stopped;
    this.running = false;
    this.wakeUp();
    return this.stopped;
  }

  /** librdkafka's queue has something (records, a rebalance, an error), or a seek settled: consume again. */
  wakeUp(): void {
    this.wakeUps++;
    const sleeping = this.sleeping;
    if (!sleeping) return;
    this.sleeping = undefined;
    clearTimeout(sleeping.timer);
    sleeping.resume();
  }

  private issue(partition: number, seek: PendingSeek): void {
    seek.settled = false;
    this.consumer.seek({ topic: this.topic, partition, offset: seek.offset }, seekTimeoutMillis, (error) => {
      seek.settled = true;
      if (error) {
        this.logger.warn({ partition, offset: seek.offset, code: error.code }, `seek failed: ${error.message}`);
      }
      this.wakeUp();
    });
  }

  private next(): void {
    this.busy = false;
    if (!this.running) {
      this.finish?.();
      return;
    }
    if ([...this.seeks.values()].some((seek) => !seek.settled)) {
      this.sleep(); // a settling seek wakes the loop
      return;
    }
    this.busy = true;
    const call = ++this.calls;
    const wakeUpsBefore = this.wakeUps;
    this.consumer.consume(batchSize, (error: LibrdKafkaError, messages: Message[]) => {
      const dropped = this.droppedBy(call);
      if (error) {
        if (this.running) this.logger.debug({ code: error.code }, `consume failed: ${error.message}`);
        setTimeout(() => this.next(), 100);
        return;
      }
      if (messages.length === 0 && this.wakeUps === wakeUpsBefore) {
        this.sleep();
        return;
      }
      if (messages.length > 0) this.idleCheckMillis = firstIdleCheckMillis;
      this.dispatch(messages, dropped).then(
        () => this.next(),
        (failure: unknown) => {
          this.logger.error({ err: failure }, 'a handler of fetched records failed');
          this.next();
        },
      );
    });
  }

  /**
   * Partitions whose records in the answer to consume call `call` predate a
   * seek. Seeks settled before the call started are done with.
   */
  private droppedBy(call: number): Set<number> {
    const dropped = new Set<number>();
    for (const [partition, seek] of this.seeks) {
      if (seek.issuedDuringCall !== call) {
        if (seek.settled) this.seeks.delete(partition);
        continue;
      }
      dropped.add(partition);
      seek.issuedDuringCall = -1;
      if (seek.settled) this.issue(partition, seek);
    }
    return dropped;
  }

  private sleep(): void {
    const timer = setTimeout(() => this.wakeUp(), this.idleCheckMillis);
    this.idleCheckMillis = Math.min(lastIdleCheckMillis, this.idleCheckMillis * 2);
    this.sleeping = { resume: () => this.next(), timer };
  }

  /**
   * Hands records over run by run. Records of a partition sought meanwhile
   * (by a handler, or before) are from the old position: left out.
   */
  private async dispatch(messages: Message[], dropped: Set<number>): Promise<void> {
    const callOfThisBatch = this.calls;
    let start = 0;
    while (start < messages.length && this.running) {
      const partition = messages[start]!.partition;
      let end = start + 1;
      while (end < messages.length && messages[end]!.partition === partition) end++;
      const seek = this.seeks.get(partition);
      if (dropped.has(partition) || (seek && seek.issuedDuringCall === callOfThisBatch)) {
        start = end;
        continue;
      }
      const records: ConsumedRecord[] = new Array(end - start);
      for (let i = start; i < end; i++) records[i - start] = toConsumedRecord(messages[i]!);
      await this.handle(partition, records);
      start = end;
    }
  }
}

/**
 * Settings every consumer a {@link ConsumeLoop} drives shares: nothing is
 * committed or stored unless asked, a fetch returns as soon as a record
 * arrives (500 ms only bounds how often an idle partition is asked), the
 * prefetch per partition is enough for full batches yet small enough for many
 * consumers per process, and librdkafka wakes the loop through
 * `queue_non_empty_cb` (which ckjs's typings omit).
 */
export function loopConsumerSettings(wakeUp: () => void): object {
  return {
    'enable.auto.commit': false,
    'enable.auto.offset.store': false,
    'fetch.wait.max.ms': 500,
    'queued.max.messages.kbytes': 16_384,
    queue_non_empty_cb: wakeUp,
  };
}

/** A librdkafka message in Herald's shape. */
export function toConsumedRecord(message: Message): ConsumedRecord {
  const headers: Record<string, Buffer> = {};
  if (message.headers) {
    for (const header of message.headers) {
      for (const name in header) {
        const value = header[name]!;
        headers[name] = typeof value === 'string' ? Buffer.from(value) : value;
      }
    }
  }
  const key = message.key;
  return {
    partition: message.partition,
    offset: message.offset,
    key: key === undefined || key === null ? null : typeof key === 'string' ? Buffer.from(key) : key,
    value: message.value,
    headers,
    timestampMillis: message.timestamp ?? 0,
  };
}
