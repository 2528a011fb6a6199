import { type HeraldError, UnavailableError } from '@herald/errors';
import type { KafkaClient, OutgoingRecord, TopicAdmin, TransactionalWriter } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import { performance } from 'node:perf_hooks';
import { OwnershipProof } from '../domain/ownership-proof';
import { type SettledRecord, decodeSettled, encodeSettled } from '../domain/settled-record';

/** An exactly-once subscription served here, as the store sees it. */
export interface ExactlyOnceMember {
  readonly name: string;
  /** Its state now, and what to do once that is stored (or could not be). */
  snapshot(): { record: SettledRecord; stored(ok: boolean): void };
  /** The slot's writer failed or was fenced: stop serving (end the streams, drop the leases). */
  lost(error: HeraldError): void;
  /** Leasing may be allowed again: deliver what waits. */
  resume(): void;
}

/** Options of {@link ExactlyOnceStore}. */
export interface ExactlyOnceStoreOptions {
  kafka: KafkaClient;
  admin: TopicAdmin;
  logger: Logger;
  /** `<prefix>_acks`: one partition per slot, like the cursor topic. */
  topic: string;
  /** Transactional ids are this plus the slot number: one writer per slot in the whole deployment. */
  transactionalIdPrefix: string;
  /** See {@link OwnershipProof}. */
  proofMillis: number;
}

interface SlotState {
  slot: number;
  writer: TransactionalWriter;
  proof: OwnershipProof;
  members: Set<ExactlyOnceMember>;
  /** Snapshots of members that left, stored with the next commit. */
  parting: Array<{ name: string; record: SettledRecord; stored(ok: boolean): void }>;
  /** The latest stored record per subscription: what was read after the fence, then what this writer committed. */
  records: Map<string, SettledRecord>;
  ready: Promise<void>;
  /**
   * Every commit of the slot runs on this chain, one after the other: a
   * transactional producer has one transaction open at a time, and a second
   * `beginTransaction` while one is open never completes.
   */
  chain: Promise<void>;
  /** A commit is queued on the chain and has not taken its snapshots yet: later requests join it. */
  scheduled: boolean;
  /** Handed over (or handing over): nothing more is committed. */
  closed: boolean;
  leasable: boolean;
}

/** The key of the hand-over mark: no subscription name is empty. */
const handoverKey = '';
/** How long reading a slot's stored state back may take before the join fails (the client reconnects). */
const loadTimeoutMillis = 20_000;
/** How long a hand-over may wait for its commit before the slot is given up without one (the next owner waits). */
const handoverTimeoutMillis = 15_000;

/**
 * Stores exactly-once subscriptions' settled state in `<prefix>_acks`, one
 * transactional writer per slot with a subscription of that kind, so that an
 * ack is confirmed only once it is durable (acks=all) and only while this
 * dispatcher still owns the slot: a new owner's writer fences this one first,
 * and reads the slot back after that. Commits are grouped: every ack that
 * arrives while one commit is in flight goes in the next.
 */
export class ExactlyOnceStore {
  private readonly slots = new Map<number, SlotState>();
  private readonly now = () => performance.now();

  constructor(private readonly options: ExactlyOnceStoreOptions) {}

  /**
   * Serves `member` from `slot`: starts the slot's writer (fencing any earlier
   * owner) and reads the slot's state back when this is its first member.
   * @returns the member's stored state, if any.
   * @throws UnavailableError when Kafka cannot be reached or the slot was lost meanwhile.
   */
  async join(slot: number, member: ExactlyOnceMember): Promise<SettledRecord | undefined> {
    let state = this.slots.get(slot);
    if (!state) state = this.open(slot);
    await state.ready;
    // A slot handing over leases nothing more: a member joining it now would wait forever.
    if (this.slots.get(slot) !== state || state.closed) {
      throw new UnavailableError('the subscription moved while starting; retry');
    }
    state.members.add(member);
    // A writer idle for a while must renew its window before anything is leased.
    if (!state.proof.mayLease(this.now())) this.flushSoon(slot);
    return state.records.get(member.name);
  }

  /** `member` stops being served here: its last state goes with the next commit. */
  leave(slot: number, member: ExactlyOnceMember): void {
    const state = this.slots.get(slot);
    if (!state?.members.delete(member)) return;
    state.parting.push({ name: member.name, ...member.snapshot() });
    this.flushSoon(slot);
  }

  /** Whether members of `slot` may lease messages now. */
  mayLease(slot: number): boolean {
    return this.slots.get(slot)?.proof.mayLease(this.now()) ?? false;
  }

  /** Stores the slot's state soon; acks arriving until the commit takes its snapshots join it. */
  flushSoon(slot: number): void {
    const state = this.slots.get(slot);
    if (!state || state.scheduled || state.closed) return;
    state.scheduled = true;
    state.chain = state.chain
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        state.scheduled = false;
        return this.commit(state);
      });
  }

  /** Renews windows about to lapse, and wakes members whose slot may lease again. Called on the dispatcher's tick. */
  tick(): void {
    const now = this.now();
    for (const state of this.slots.values()) {
      if (state.members.size > 0 && state.proof.renewDue(now)) this.flushSoon(state.slot);
      this.wakeIfLeasable(state);
    }
  }

  /**
   * Gives every slot up cleanly (a rebalance, or stopping): no more leases,
   * the final state and a hand-over mark stored (answering the acks it
   * carries), the writers closed. The next owner then needs not wait.
   */
  async handOver(): Promise<void> {
    const states = [...this.slots.values()];
    await Promise.all(
      states.map(async (state) => {
        state.proof.revoke();
        state.closed = true;
        await state.ready.catch(() => undefined);
        if (this.slots.get(state.slot) !== state) return;
        const handedOver = state.chain.then(() => this.commit(state, true));
        state.chain = handedOver;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          handedOver,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, handoverTimeoutMillis))),
        ]);
        clearTimeout(timer);
        if (this.slots.get(state.slot) === state) this.slots.delete(state.slot);
        await state.writer.stop();
      }),
    );
  }

  private open(slot: number): SlotState {
    const { kafka, transactionalIdPrefix, topic, proofMillis } = this.options;
    const writer = kafka.transactionalWriter({
      transactionalId: `${transactionalIdPrefix}${slot}`,
      topic,
      partition: slot,
    });
    const state: SlotState = {
      slot,
      writer,
      proof: new OwnershipProof(proofMillis),
      members: new Set(),
      parting: [],
      records: new Map(),
      ready: Promise.resolve(),
      chain: Promise.resolve(),
      scheduled: false,
      closed: false,
      leasable: false,
    };
    state.ready = (async () => {
      await writer.start();
      const fencedAt = this.now();
      const { records, cleanHandover } = await this.read(slot);
      state.records = records;
      state.proof.fenced(fencedAt, cleanHandover);
      this.options.logger.info(
        { slot, subscriptions: records.size, cleanHandover },
        'exactly-once slot fenced and read back',
      );
    })();
    state.ready.catch((error: unknown) => {
      this.options.logger.warn({ err: error, slot }, 'exactly-once slot not started');
      if (this.slots.get(slot) === state) this.slots.delete(slot);
      void writer.stop();
    });
    this.slots.set(slot, state);
    return state;
  }

  /** One transaction with every member's state; never throws (a failure drops the slot). */
  private async commit(state: SlotState, handover = false): Promise<void> {
    if (this.slots.get(state.slot) !== state || (state.closed && !handover)) return;
    const snapshots = [
      ...state.parting.splice(0),
      ...[...state.members].map((member) => ({ name: member.name, ...member.snapshot() })),
    ];
    const timestamp = Date.now();
    const records: OutgoingRecord[] = snapshots.map(({ name, record }) => ({
      key: name,
      value: encodeSettled(record),
      headers: {},
      timestamp,
    }));
    // A commit with no subscription still proves ownership (a renewal): the mark says whether it is the last.
    if (handover || records.length === 0) {
      records.push({ key: handoverKey, value: Buffer.from(handover ? 'handover' : 'owner'), headers: {}, timestamp });
    }
    const startedAt = this.now();
    try {
      await state.writer.commit(records);
      state.proof.committed(startedAt);
      for (const { name, record } of snapshots) state.records.set(name, record);
      for (const snapshot of snapshots) snapshot.stored(true);
    } catch (error) {
      for (const snapshot of snapshots) snapshot.stored(false);
      this.drop(state, error as Error);
      return;
    }
    this.wakeIfLeasable(state);
  }

  /** The writer failed or was fenced: the slot is not this dispatcher's to serve exactly-once any more. */
  private drop(state: SlotState, error: Error): void {
    if (this.slots.get(state.slot) !== state) return;
    this.slots.delete(state.slot);
    state.proof.revoke();
    void state.writer.stop();
    this.options.logger.warn({ err: error, slot: state.slot }, 'exactly-once state not stored; its subscriptions stop');
    const lost = new UnavailableError(`acknowledgements could not be stored (${error.message}); reconnect`);
    for (const member of state.members) member.lost(lost);
    state.members.clear();
  }

  private wakeIfLeasable(state: SlotState): void {
    const leasable = state.proof.mayLease(this.now());
    if (leasable && !state.leasable) for (const member of state.members) member.resume();
    state.leasable = leasable;
  }

  /** Reads a slot's partition to its end (committed records only): the latest state per subscription. */
  private async read(slot: number): Promise<{ records: Map<string, SettledRecord>; cleanHandover: boolean }> {
    const { kafka, admin, topic } = this.options;
    const end = Number((await admin.latestOffsets(topic)).find((o) => o.partition === slot)?.offset ?? 0);
    const records = new Map<string, SettledRecord>();
    let unreadable: string | undefined;
    let cleanHandover = end === 0;
    if (end === 0) return { records, cleanHandover };
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const advance = (offset: number) => {
      if (offset >= end) finish();
    };
    const reader = kafka.partitionReader({
      topic,
      readCommitted: true,
      start: [{ partition: slot, offset: 0 }],
      records: (_, batch) => {
        for (const record of batch) {
          const name = record.key?.toString('utf8') ?? '';
          if (name === handoverKey) {
            cleanHandover = record.value?.toString('utf8') === 'handover';
            continue;
          }
          cleanHandover = false;
          if (!record.value) {
            records.delete(name);
            continue;
          }
          const settled = decodeSettled(record.value);
          if (settled) records.set(name, settled);
          // Skipping it would forget confirmed acks past the commit point, and deliver them again: refuse instead.
          else unreadable ??= `the record of ${name} at offset ${record.offset} cannot be read (a newer format?)`;
        }
        advance(batch[batch.length - 1]!.offset + 1);
      },
      caughtUp: (_, offset) => advance(offset),
    });
    await reader.start();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        finished,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new UnavailableError(`exactly-once state of slot ${slot} not read within ${loadTimeoutMillis} ms`),
              ),
            loadTimeoutMillis,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      await reader.stop();
    }
    if (unreadable) throw new UnavailableError(`exactly-once state of slot ${slot}: ${unreadable}`);
    return { records, cleanHandover };
  }
}
