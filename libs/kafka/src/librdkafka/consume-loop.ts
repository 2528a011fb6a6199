import type { KafkaConsumer, LibrdKafkaError, Message } from '@confluentinc/kafka-javascript';
import type { Logger } from '@herald/logging';
import type { ConsumedRecord } from '../consumed-record';

/** Records per consume call: one call, one hop from librdkafka's queue to the event loop. */
const batchSize = 1000;
/** How long a consume call waits for the first record: bounds an idle reader's wake-ups. */
const idleWaitMillis = 500;

/** The parts of ckjs's KafkaConsumer its typings omit. */
interface ConsumerExtras {
  setDefaultIsTimeoutOnlyForFirstMessage(value: boolean): void;
}

/**
 * Pulls batches from a librdkafka consumer and hands them over partition by
 * partition, the next call only after the handler is done: a slow handler
 * slows the fetch instead of growing memory.
 */
export class ConsumeLoop {
  private running = false;
  private stopped: Promise<void> = Promise.resolve();
  private finish: (() => void) | undefined;
  /**
   * Partitions with a seek under way. Their records are dropped until a consume
   * call that started after the seek settled: from then on librdkafka
   * guarantees nothing fetched before the seek reaches the application.
   */
  private readonly seeking = new Map<number, { settled: boolean }>();

  constructor(
    private readonly consumer: KafkaConsumer,
    private readonly logger: Logger,
    private readonly handle: (partition: number, records: ConsumedRecord[]) => Promise<void> | void,
  ) {
    consumer.setDefaultConsumeTimeout(idleWaitMillis);
    // Return as soon as something arrived, with whatever else is already there.
    (consumer as unknown as ConsumerExtras).setDefaultIsTimeoutOnlyForFirstMessage(true);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopped = new Promise((resolve) => (this.finish = resolve));
    this.next();
  }

  /**
   * Drops fetched records of `partition` from now until the seek settles;
   * call the returned function when it has.
   */
  seekStarted(partition: number): () => void {
    const seek = { settled: false };
    this.seeking.set(partition, seek);
    return () => (seek.settled = true);
  }

  /** Resolves once no consume call or handler is running any more. */
  stop(): Promise<void> {
    if (!this.running) return this.stopped;
    this.running = false;
    return this.stopped;
  }

  private next(): void {
    if (!this.running) {
      this.finish?.();
      return;
    }
    const settledBefore = [...this.seeking].filter(([, seek]) => seek.settled);
    this.consumer.consume(batchSize, (error: LibrdKafkaError, messages: Message[]) => {
      for (const [partition, seek] of settledBefore) {
        if (this.seeking.get(partition) === seek) this.seeking.delete(partition);
      }
      if (error) {
        if (this.running) this.logger.debug({ code: error.code }, `consume failed: ${error.message}`);
        setTimeout(() => this.next(), 100);
        return;
      }
      this.dispatch(messages).then(
        () => this.next(),
        (failure: unknown) => {
          this.logger.error({ err: failure }, 'a handler of fetched records failed');
          this.next();
        },
      );
    });
  }

  private async dispatch(messages: Message[]): Promise<void> {
    let start = 0;
    while (start < messages.length && this.running) {
      const partition = messages[start]!.partition;
      let end = start + 1;
      while (end < messages.length && messages[end]!.partition === partition) end++;
      if (this.seeking.has(partition)) {
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
