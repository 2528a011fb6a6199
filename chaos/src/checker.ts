import type { DeliveryRecord, FanoutHistory, FaultEvent, History, PublishRecord, SubscriptionRecord } from './history';
import type { KafkaAudit } from './kafka-audit';

/** Options of {@link check}. */
export interface CheckOptions {
  /**
   * A message is "in flight" at a fault if it was delivered and not yet acked
   * then, or acked less than this long before (its ack may not be committed).
   * @defaultValue 1000 (the dispatchers' commit interval)
   */
  inflightWindowMillis?: number;
  /** Fail when duplicates exceed the in-flight bound (rolling restart). @defaultValue false */
  enforceDuplicateBound?: boolean;

  /** End-to-end times above this count as a disturbance; the default is max(2 s, 3 x the pre-fault p99). */
  slowThresholdMillis?: number;
  /** When the load stopped (the last fault window ends there). @defaultValue the last publish */
  loadStoppedAt?: number;
}

/** What one subscription received, judged against what it had to receive. */
export interface SubscriptionVerdict {
  name: string;
  ordered: boolean;
  /** Acknowledged messages it had to receive. */
  expected: number;
  /** Distinct messages it received (acknowledged or not). */
  delivered: number;
  /** Expected messages it never received. */
  lost: number;
  lostIds: string[];
  deliveries: number;
  /** Deliveries beyond the first of a message, replays a seek asked for excepted. */
  duplicates: number;
  /** Deliveries again of a message delivered before a seek that covered it: asked for, not duplicates. */
  replays: number;
  /** Duplicates that came after the subscriber had acked an earlier delivery. */
  duplicatesAfterAck: number;
  /** Ordering keys whose order was broken (ordered subscriptions only). */
  reorderedKeys: number;
  reorderExamples: string[];
  /** Exactly-once subscriptions only: what their acks were answered, and what came after a confirmation. */
  exactlyOnce?: ExactlyOnceVerdict;
}

/** How an exactly-once subscription kept its promise. */
export interface ExactlyOnceVerdict {
  /** Distinct messages with at least one confirmed ack. */
  confirmed: number;
  /** Deliveries of a message received after an ack of it had been confirmed (a seek's replays excepted): must be 0. */
  deliveriesAfterConfirm: number;
  /** A few of them: `chaos id (subscriber, attempt n) after the confirmation at t`. */
  afterConfirmExamples: string[];
  /** Duplicates that came before any confirmation (a lease that expired, moved, or was lost with its dispatcher). */
  duplicatesBeforeConfirm: number;
  /** Expected messages delivered whose ack was never confirmed (the last answer unavailable, or none). */
  neverConfirmed: number;
  /** Acks answered with a failure, by reason; `unanswered` when no answer came before the run ended. */
  ackFailures: Record<string, number>;
}

/** How one fault event disturbed the clients. */
export interface FaultVerdict {
  action: string;
  kind: 'inject' | 'repair';
  /** Milliseconds since the load began. */
  at: number;
  /** How long the action took (a restart waits for SERVING). */
  actionMillis: number;
  /** From the event until the last client-visible disturbance it caused ended; 0 when none. */
  healMillis: number;
  /** Publishes sent in its window that failed. */
  publishFailures: number;
  /** Longest time without a publish acknowledgement in its window. */
  maxPublishGapMillis: number;
  /** Longest time without a delivery in its window. */
  maxDeliveryGapMillis: number;
  /** Messages in flight at the event (the duplicate bound's share). */
  inflight: number;
}

/** What the fan-out set received, judged against what each of its subscriptions had to receive. */
export interface FanoutVerdict {
  topic: string;
  subscriptions: number;
  /** Publishes to the fan-out topic the publisher answered with a message id. */
  acknowledged: number;
  /** (subscription, acknowledged message) pairs that had to be delivered. */
  expected: number;
  deliveries: number;
  /** Distinct acknowledged messages that at least one subscription which had to receive them never received. */
  lost: number;
  /** (subscription, message) pairs never delivered. */
  lostPairs: number;
  subscriptionsWithLoss: number;
  /** A few `subscription: chaos id` pairs never delivered. */
  lostExamples: string[];
  /** {@link FanoutVerdict.lost} by the way the messages were published. */
  lostByVia: Record<string, number>;
  /** Acknowledged fan-out messages Kafka does not hold. */
  notInKafka: number;
  /** Deliveries beyond the first of a message to a subscription, summed over the set. */
  duplicates: number;
  /** The most duplicates one subscription got, and which. */
  maxDuplicates: number;
  maxDuplicatesSubscription: string;
  subscriptionsWithDuplicates: number;
  /** Deliveries of chaos ids never sent to the fan-out topic: must be 0. */
  phantoms: number;
  /** Failed (or unanswered) fan-out publishes delivered to some subscription all the same. */
  uncertainDelivered: number;
  /** Send to first delivery on the last subscription to get it, over the messages every subscription got. */
  fanoutMillis: { p50: number; p99: number; max: number; messages: number };
  /** Subscription streams opened first on each dispatcher (index 0 is dispatcher-1). */
  firstDispatchers: number[];
  /** Where the streams were when each fault action began: per dispatcher, index 0 is dispatcher-1. */
  streamsAtFaults: Array<{ action: string; streams: number[] }>;
}

/** The checker's whole judgement of one scenario. */
export interface Verdict {
  scenario: string;
  sent: number;
  acknowledged: number;
  failed: number;
  /** Failed publishes by their error (status and message, cut short). */
  failedByError: Record<string, number>;
  pending: number;
  /** Acknowledged messages Kafka does not hold: lost by the storage itself. */
  notInKafka: number;
  notInKafkaIds: string[];
  kafkaRecords: number;
  /** Records that repeat a chaos id already in Kafka (publisher retries). */
  kafkaCopies: number;
  /** Failed (or unanswered) publishes that were delivered all the same. */
  uncertainDelivered: number;
  /** Delivered chaos ids that no publisher sent: must be 0, or the checker is broken. */
  phantoms: number;
  /** Keys whose acknowledged messages sit in Kafka out of publish order. */
  kafkaReorderedKeys: number;
  /**
   * Acknowledged messages whose first delivery carries another message id than the publisher gave: a
   * copy written by an earlier attempt (a resend the broker could not deduplicate) won. Fails the scenario.
   */
  messageIdMismatches: number;
  subscriptions: SubscriptionVerdict[];
  /** Distinct acknowledged messages missing from Kafka or from at least one subscription that had to get them. */
  lost: number;
  /** {@link Verdict.lost} by the way the messages were published. */
  lostByVia: Record<string, number>;
  /** Distinct messages delivered to at least one subscription. */
  delivered: number;
  duplicates: number;
  reorderedKeys: number;
  /** Sum of the messages in flight at every fault event. */
  duplicateBound: number;
  slowThresholdMillis: number;
  /** The longest heal time of any event. */
  healMillis: number;
  faults: FaultVerdict[];
  /** The fan-out set, when the scenario ran one; its losses are in {@link Verdict.lost} too. */
  fanout?: FanoutVerdict;
  failures: string[];
  ok: boolean;
}

/**
 * Judges a scenario from the records the load clients kept and from what
 * Kafka holds. See the README for the definitions.
 */
export function check(history: History, audit: KafkaAudit, options: CheckOptions = {}): Verdict {
  const publishes = [...history.publishes.values()];
  const acked = publishes.filter((p) => p.outcome === 'acked');
  const failures: string[] = [];

  const notInKafkaIds = acked.filter((p) => !audit.byId.has(p.id)).map((p) => p.id);
  let kafkaCopies = 0;
  for (const records of audit.byId.values()) kafkaCopies += records.length - 1;

  const byId = new Map<string, DeliveryRecord[]>();
  const bySubscription = new Map<string, DeliveryRecord[]>();
  for (const delivery of history.deliveries) {
    push(bySubscription, delivery.subscription, delivery);
    push(byId, delivery.id, delivery);
  }
  const phantoms = [...byId.keys()].filter((id) => !history.publishes.has(id)).length;
  const uncertainDelivered = [...byId.keys()].filter((id) => {
    const outcome = history.publishes.get(id)?.outcome;
    return outcome !== undefined && outcome !== 'acked';
  }).length;
  let messageIdMismatches = 0;
  for (const publish of acked) {
    const first = byId.get(publish.id)?.[0];
    if (first && publish.messageId && first.messageId !== publish.messageId) messageIdMismatches++;
  }

  const kafkaReorderedKeys = countKafkaReorders(acked, audit);
  const lostIds = new Set<string>(notInKafkaIds);
  const fanout = history.fanout ? checkFanout(history.fanout, publishes, audit, history.faults) : undefined;
  fanout?.lostIds.forEach((id) => lostIds.add(id));
  const subscriptions: SubscriptionVerdict[] = [];
  for (const subscription of [...history.subscriptions.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const verdict = judgeSubscription(
      subscription,
      bySubscription.get(subscription.name) ?? [],
      acked.filter((p) => p.topic === subscription.topic && mustReceive(subscription, p)),
      audit,
    );
    verdict.lostIds.forEach((id) => lostIds.add(id));
    subscriptions.push(verdict);
  }

  const first = publishes.reduce((min, p) => Math.min(min, p.sentAt), Infinity);
  const last = options.loadStoppedAt ?? publishes.reduce((max, p) => Math.max(max, p.sentAt), 0);
  // The fan-out set's deliveries are not in `byId`: its messages would look undelivered to the threshold.
  const threshold =
    options.slowThresholdMillis ??
    defaultThreshold(
      history,
      acked.filter((p) => p.topic !== history.fanout?.topic),
      byId,
    );
  const faults = judgeFaults(history, acked, byId, first, last, threshold, options.inflightWindowMillis ?? 1_000);
  const duplicateBound = faults.reduce((sum, f) => sum + f.inflight, 0);
  const duplicates = subscriptions.reduce((sum, s) => sum + s.duplicates, 0);
  for (const s of subscriptions) {
    const once = s.exactlyOnce;
    if (once && once.deliveriesAfterConfirm > 0) {
      failures.push(
        `${s.name}: ${once.deliveriesAfterConfirm} deliveries after a confirmed ack, e.g. ${once.afterConfirmExamples[0]}`,
      );
    }
  }
  const reorderedKeys = subscriptions.reduce((sum, s) => sum + s.reorderedKeys, 0) + kafkaReorderedKeys;

  if (lostIds.size > 0) failures.push(`${lostIds.size} acknowledged message(s) lost, e.g. ${[...lostIds][0]}`);
  if (fanout && fanout.verdict.lost > 0) {
    const f = fanout.verdict;
    failures.push(
      `fan-out: ${f.lost} acknowledged message(s) never reached ${f.subscriptionsWithLoss} of ${f.subscriptions} ` +
        `subscriptions (${f.lostPairs} deliveries missing), e.g. ${f.lostExamples[0]}`,
    );
  }
  if (fanout && fanout.verdict.phantoms > 0) {
    failures.push(`fan-out: ${fanout.verdict.phantoms} delivered message(s) never sent to the fan-out topic`);
  }
  if (reorderedKeys > 0) failures.push(`${reorderedKeys} ordering key(s) out of order`);
  if (phantoms > 0) failures.push(`${phantoms} delivered message(s) no publisher sent`);
  if (messageIdMismatches > 0) {
    failures.push(
      `${messageIdMismatches} acknowledged message(s) first delivered under another message id than the publisher gave`,
    );
  }
  if (options.enforceDuplicateBound && duplicates > duplicateBound) {
    failures.push(`${duplicates} duplicates exceed the ${duplicateBound} messages in flight at the faults`);
  }
  return {
    scenario: history.scenario,
    sent: publishes.length,
    acknowledged: acked.length,
    failed: publishes.filter((p) => p.outcome === 'failed').length,
    failedByError: countBy(
      publishes.filter((p) => p.outcome === 'failed'),
      (p) => (p.error ?? '').slice(0, 100),
    ),
    pending: publishes.filter((p) => p.outcome === 'pending').length,
    notInKafka: notInKafkaIds.length,
    notInKafkaIds: notInKafkaIds.slice(0, 20),
    kafkaRecords: audit.records,
    kafkaCopies,
    uncertainDelivered,
    phantoms,
    kafkaReorderedKeys,
    messageIdMismatches,
    subscriptions,
    lost: lostIds.size,
    lostByVia: countBy([...lostIds], (id) => history.publishes.get(id)?.via ?? 'unknown'),
    delivered: byId.size,
    duplicates,
    reorderedKeys,
    duplicateBound,
    slowThresholdMillis: threshold,
    healMillis: faults.reduce((max, f) => Math.max(max, f.healMillis), 0),
    faults,
    ...(fanout ? { fanout: fanout.verdict } : {}),
    failures,
    ok: failures.length === 0,
  };
}

/**
 * The fan-out set, from its receipt counts: every acknowledged message sent to
 * its topic at or after a subscription was created must have reached that
 * subscription at least once; deliveries beyond the first are duplicates.
 */
export function checkFanout(
  fanout: FanoutHistory,
  publishes: PublishRecord[],
  audit: KafkaAudit,
  faults: FaultEvent[] = [],
): { verdict: FanoutVerdict; lostIds: Set<string> } {
  const sent = publishes.filter((p) => p.topic === fanout.topic);
  const viaOf = new Map(sent.map((p) => [p.id, p.via]));
  const acked = sent.filter((p) => p.outcome === 'acked');
  const indexed = acked
    .map((p) => ({ p, i: fanout.indexOf(p.id) }))
    .filter((m): m is { p: PublishRecord; i: number } => m.i !== undefined);
  const lostIds = new Set<string>();
  const lostExamples: string[] = [];
  let expected = 0;
  let lostPairs = 0;
  let subscriptionsWithLoss = 0;
  let duplicates = 0;
  let maxDuplicates = 0;
  let maxDuplicatesSubscription = '';
  let subscriptionsWithDuplicates = 0;
  fanout.subscriptions.forEach((subscription, s) => {
    const counts = fanout.countsOf(s);
    let lost = 0;
    for (const { p, i } of indexed) {
      if (p.sentAt < subscription.createdAt) continue;
      expected++;
      if ((counts[i] ?? 0) === 0) {
        lost++;
        lostIds.add(p.id);
        if (lostExamples.length < 10) lostExamples.push(`${subscription.name}: ${p.id}`);
      }
    }
    let own = 0;
    for (let i = 0; i < Math.min(counts.length, fanout.ids.length); i++) if (counts[i]! > 1) own += counts[i]! - 1;
    lostPairs += lost;
    if (lost > 0) subscriptionsWithLoss++;
    duplicates += own;
    if (own > 0) subscriptionsWithDuplicates++;
    if (own > maxDuplicates) {
      maxDuplicates = own;
      maxDuplicatesSubscription = subscription.name;
    }
  });
  const times: number[] = [];
  for (const { p } of indexed) {
    const mustReach = fanout.subscriptions.filter((s) => p.sentAt >= s.createdAt).length;
    if (mustReach > 0 && fanout.reached(p.id) >= mustReach) times.push(fanout.lastFirstDelivery(p.id) - p.sentAt);
  }
  times.sort((a, b) => a - b);
  const firstDispatchers: number[] = [];
  for (const s of fanout.subscriptions)
    firstDispatchers[s.firstDispatcher] = (firstDispatchers[s.firstDispatcher] ?? 0) + 1;
  const verdict: FanoutVerdict = {
    topic: fanout.topic,
    subscriptions: fanout.subscriptions.length,
    acknowledged: acked.length,
    expected,
    deliveries: fanout.deliveries,
    lost: lostIds.size,
    lostPairs,
    subscriptionsWithLoss,
    lostExamples,
    lostByVia: countBy([...lostIds], (id) => viaOf.get(id) ?? 'unknown'),
    notInKafka: acked.filter((p) => !audit.byId.has(p.id)).length,
    duplicates,
    maxDuplicates,
    maxDuplicatesSubscription,
    subscriptionsWithDuplicates,
    phantoms: [...fanout.foreign.values()].reduce((sum, n) => sum + n, 0),
    uncertainDelivered: sent.filter((p) => p.outcome !== 'acked' && fanout.reached(p.id) > 0).length,
    fanoutMillis: {
      p50: times[Math.floor(times.length * 0.5)] ?? 0,
      p99: times[Math.floor(times.length * 0.99)] ?? 0,
      max: times.at(-1) ?? 0,
      messages: times.length,
    },
    firstDispatchers: Array.from(firstDispatchers, (n) => n ?? 0),
    streamsAtFaults: faults
      .filter((f) => f.fanoutStreams)
      .map((f) => ({ action: `${f.kind === 'repair' ? 'repair: ' : ''}${f.action}`, streams: f.fanoutStreams! })),
  };
  return { verdict, lostIds };
}

/** Whether an acknowledged publish had to reach a subscription: sent after it existed, or after the time it was seeked to. */
export function mustReceive(subscription: SubscriptionRecord, publish: PublishRecord): boolean {
  return publish.sentAt >= subscription.receiveSentFrom;
}

/** How long a dispatcher may take to apply a seek it learns of through the registry's Watch. */
const seekApplyMillis = 10_000;

function judgeSubscription(
  subscription: SubscriptionRecord,
  deliveries: DeliveryRecord[],
  expected: PublishRecord[],
  audit: KafkaAudit,
): SubscriptionVerdict {
  const firstDelivery = new Map<string, number>();
  const firstAck = new Map<string, number>();
  let duplicates = 0;
  let duplicatesAfterAck = 0;
  let replays = 0;
  const sentAt = new Map(expected.map((p) => [p.id, p.sentAt]));
  const seeks = subscription.seeks ?? [];
  const byMessage = new Map<string, DeliveryRecord[]>();
  for (const delivery of deliveries) {
    const list = byMessage.get(delivery.id);
    if (list) list.push(delivery);
    else byMessage.set(delivery.id, [delivery]);
  }
  for (const [id, list] of byMessage) {
    list.sort((a, b) => a.at - b.at);
    firstDelivery.set(id, list[0]!.at);
    for (const delivery of list) {
      if (delivery.ackedAt !== undefined) firstAck.set(id, Math.min(firstAck.get(id) ?? Infinity, delivery.ackedAt));
    }
    if (list.length === 1) continue;
    // Each seek that covers the message (sent at or after the time the seek went to) entitles it to one
    // delivery more after the seek began, if it had been delivered before the seek returned or within
    // the 10 s a dispatcher may take to apply it: a replay, asked for.
    const sent = sentAt.get(id) ?? Infinity;
    const first = list[0]!.at;
    const last = list[list.length - 1]!.at;
    const granted = seeks.filter(
      (seek) => sent >= seek.replaysSentFrom && first <= seek.at + seekApplyMillis && seek.startedAt <= last,
    ).length;
    const extra = list.length - 1;
    replays += Math.min(extra, granted);
    const unasked = extra - Math.min(extra, granted);
    duplicates += unasked;
    // The latest ones are counted as the duplicates: were they after an ack?
    const ackedAt = firstAck.get(id);
    for (const delivery of list.slice(list.length - unasked)) {
      if (ackedAt !== undefined && ackedAt < delivery.at) duplicatesAfterAck++;
    }
  }
  const lostIds = expected.filter((p) => !firstDelivery.has(p.id)).map((p) => p.id);
  const reorders = subscription.ordered ? findReorders(expected, firstDelivery, firstAck, audit) : [];
  const exactlyOnce = subscription.exactlyOnce
    ? judgeExactlyOnce(byMessage, new Set(expected.map((p) => p.id)), sentAt, seeks)
    : undefined;
  return {
    name: subscription.name,
    ordered: subscription.ordered,
    expected: expected.length,
    delivered: firstDelivery.size,
    lost: lostIds.length,
    lostIds: lostIds.slice(0, 20),
    deliveries: deliveries.length,
    duplicates,
    replays,
    duplicatesAfterAck,
    reorderedKeys: new Set(reorders.map((r) => r.key)).size,
    reorderExamples: reorders.slice(0, 5).map((r) => r.why),
    ...(exactlyOnce ? { exactlyOnce } : {}),
  };
}

/**
 * An exactly-once subscription, from its deliveries (sorted by time, per
 * message): once the subscriber was told an ack of a message was confirmed,
 * no delivery of that message may reach any of its subscribers later, unless a
 * seek that covers the message began in between (a replay the client asked
 * for). Every other delivery beyond the first came before a confirmation: a
 * duplicate of the kind exactly-once delivery allows, counted apart.
 */
export function judgeExactlyOnce(
  byMessage: Map<string, DeliveryRecord[]>,
  expected: Set<string>,
  sentAt: Map<string, number>,
  seeks: NonNullable<SubscriptionRecord['seeks']>,
): ExactlyOnceVerdict {
  let confirmed = 0;
  let deliveriesAfterConfirm = 0;
  let duplicatesBeforeConfirm = 0;
  let neverConfirmed = 0;
  const afterConfirmExamples: string[] = [];
  const ackFailures: Record<string, number> = {};
  for (const [id, list] of byMessage) {
    let confirmedAt = Infinity;
    for (const delivery of list) {
      if (delivery.ackResult === 'confirmed') confirmedAt = Math.min(confirmedAt, delivery.answeredAt ?? Infinity);
      else if (delivery.ackedAt !== undefined) {
        const reason = delivery.ackResult ?? 'unanswered';
        ackFailures[reason] = (ackFailures[reason] ?? 0) + 1;
      }
    }
    if (confirmedAt < Infinity) confirmed++;
    else if (expected.has(id)) neverConfirmed++;
    const sent = sentAt.get(id) ?? Infinity;
    list.forEach((delivery, i) => {
      if (delivery.at > confirmedAt) {
        const replayed = seeks.some(
          (seek) => sent >= seek.replaysSentFrom && seek.startedAt >= confirmedAt && seek.startedAt <= delivery.at,
        );
        if (replayed) return;
        deliveriesAfterConfirm++;
        if (afterConfirmExamples.length < 5) {
          afterConfirmExamples.push(
            `${id} (${delivery.subscriber}, attempt ${delivery.deliveryAttempt}) ${delivery.at - confirmedAt} ms after the confirmation`,
          );
        }
      } else if (i > 0) {
        duplicatesBeforeConfirm++;
      }
    });
  }
  return {
    confirmed,
    deliveriesAfterConfirm,
    afterConfirmExamples,
    duplicatesBeforeConfirm,
    neverConfirmed,
    ackFailures,
  };
}

/**
 * A key is reordered on an ordered subscription when, among the messages it had
 * to receive, taken in the order Kafka holds them (first copy of each):
 * (a) one was delivered for the first time before an earlier one had been, or
 * (b) one was delivered for the first time before the subscriber had acked any
 * delivery of the one before it ("the next only after the previous is acknowledged").
 */
function findReorders(
  expected: PublishRecord[],
  firstDelivery: Map<string, number>,
  firstAck: Map<string, number>,
  audit: KafkaAudit,
): Array<{ key: string; why: string }> {
  const found: Array<{ key: string; why: string }> = [];
  const byKey = new Map<string, PublishRecord[]>();
  for (const publish of expected) if (publish.orderingKey) push(byKey, publish.orderingKey, publish);
  for (const [key, messages] of byKey) {
    const inKafkaOrder = messages
      .map((p) => ({ p, offset: audit.byId.get(p.id)?.[0]?.offset }))
      .filter((m): m is { p: PublishRecord; offset: number } => m.offset !== undefined)
      .sort((a, b) => a.offset - b.offset)
      .map((m) => m.p);
    let latestFirst = -Infinity;
    let latestId = '';
    for (let i = 0; i < inKafkaOrder.length; i++) {
      const current = inKafkaOrder[i]!;
      const at = firstDelivery.get(current.id);
      if (at === undefined) continue; // a loss, counted as such
      if (at < latestFirst) {
        found.push({ key, why: `${key}: ${current.id} first delivered before ${latestId}` });
        break;
      }
      latestFirst = at;
      latestId = current.id;
      const previous = inKafkaOrder[i - 1];
      if (previous && firstDelivery.has(previous.id)) {
        const ackedAt = firstAck.get(previous.id);
        if (ackedAt === undefined || ackedAt > at) {
          found.push({ key, why: `${key}: ${current.id} delivered before ${previous.id} was acked` });
          break;
        }
      }
    }
  }
  return found;
}

/** Keys whose acknowledged messages Kafka holds out of their publish order (sequence numbers). */
function countKafkaReorders(acked: PublishRecord[], audit: KafkaAudit): number {
  const byKey = new Map<string, Array<{ seq: number; offset: number }>>();
  for (const publish of acked) {
    const record = audit.byId.get(publish.id)?.[0];
    if (publish.orderingKey && record) {
      push(byKey, `${publish.topic}/${publish.orderingKey}`, { seq: publish.seq, offset: record.offset });
    }
  }
  let reordered = 0;
  for (const entries of byKey.values()) {
    entries.sort((a, b) => a.seq - b.seq);
    if (entries.some((entry, i) => i > 0 && entry.offset < entries[i - 1]!.offset)) reordered++;
  }
  return reordered;
}

/**
 * max(2 s, 3 x p99 of the end-to-end time of the messages sent from 4 s to 1 s
 * before the first fault: the steady state). A message not delivered when the
 * fault began counts as taking until then, so that the fault cannot inflate it.
 */
function defaultThreshold(history: History, acked: PublishRecord[], byId: Map<string, DeliveryRecord[]>): number {
  const firstFault = history.faults[0]?.at ?? Infinity;
  const times = acked
    .filter((p) => p.sentAt < firstFault - 1_000 && p.sentAt >= firstFault - 4_000)
    .map((p) => Math.min(endToEnd(p, byId, history.subscriptions) ?? Infinity, firstFault - p.sentAt))
    .sort((a, b) => a - b);
  const p99 = times[Math.floor(times.length * 0.99)] ?? 0;
  return Math.max(2_000, 3 * p99);
}

/** Send to first delivery, on the slowest steady subscription that got it. */
function endToEnd(
  publish: PublishRecord,
  byId: Map<string, DeliveryRecord[]>,
  subscriptions: Map<string, SubscriptionRecord>,
): number | undefined {
  const deliveries = byId.get(publish.id);
  if (!deliveries) return undefined;
  const firstPerSubscription = new Map<string, number>();
  for (const d of deliveries) {
    // Only the steady subscriptions: those the load began with, never seeked. Others replay backlogs
    // they asked for, or are still starting.
    const subscription = subscriptions.get(d.subscription);
    if (!subscription || !subscription.steady) continue;
    firstPerSubscription.set(d.subscription, Math.min(firstPerSubscription.get(d.subscription) ?? Infinity, d.at));
  }
  if (firstPerSubscription.size === 0) return undefined;
  return Math.max(...firstPerSubscription.values()) - publish.sentAt;
}

/**
 * Per fault event, over its window (until the next event, or the end of the
 * load): the last moment a client saw a disturbance (a publish failing, a
 * publish or a delivery taking longer than the threshold, an admin call failing
 * or taking longer), the longest gaps, and what was in flight at the event.
 */
function judgeFaults(
  history: History,
  acked: PublishRecord[],
  byId: Map<string, DeliveryRecord[]>,
  loadStart: number,
  loadEnd: number,
  threshold: number,
  inflightWindowMillis: number,
): FaultVerdict[] {
  const events = [...history.faults].sort((a, b) => a.at - b.at);
  const ackTimes = acked.map((p) => p.doneAt ?? p.sentAt).sort((a, b) => a - b);
  const deliveryTimes = history.deliveries.map((d) => d.at).sort((a, b) => a - b);
  const publishes = [...history.publishes.values()];
  return events.map((event, i) => {
    const end = Math.max(event.doneAt, i + 1 < events.length ? events[i + 1]!.at : loadEnd);
    const inWindow = (t: number) => t >= event.at && t < end;
    let lastDisturbance = event.at;
    let publishFailures = 0;
    for (const publish of publishes) {
      if (!inWindow(publish.sentAt)) continue;
      if (publish.outcome === 'failed') {
        publishFailures++;
        lastDisturbance = Math.max(lastDisturbance, publish.doneAt ?? publish.sentAt);
      } else if (publish.outcome === 'acked') {
        const doneAt = publish.doneAt ?? publish.sentAt;
        if (doneAt - publish.sentAt > threshold) lastDisturbance = Math.max(lastDisturbance, doneAt);
        const e2e = endToEnd(publish, byId, history.subscriptions);
        if (e2e !== undefined && e2e > threshold) lastDisturbance = Math.max(lastDisturbance, publish.sentAt + e2e);
      }
    }
    for (const op of history.adminOps) {
      if (inWindow(op.startedAt) && (op.outcome !== 'ok' || op.doneAt - op.startedAt > threshold)) {
        lastDisturbance = Math.max(lastDisturbance, op.doneAt);
      }
    }
    return {
      action: event.action,
      kind: event.kind,
      at: event.at - loadStart,
      actionMillis: event.doneAt - event.at,
      healMillis: lastDisturbance - event.at,
      publishFailures,
      maxPublishGapMillis: maxGap(ackTimes, event.at, end),
      maxDeliveryGapMillis: maxGap(deliveryTimes, event.at, end),
      inflight: inflightAt(history, event.at, inflightWindowMillis),
    };
  });
}

/** (subscription, message) pairs whose latest delivery before `at` was not acked, or acked within the window. */
function inflightAt(history: History, at: number, windowMillis: number): number {
  const latest = new Map<string, DeliveryRecord>();
  for (const d of history.deliveries) {
    if (d.at > at) continue;
    const key = `${d.subscription}\0${d.id}`;
    const seen = latest.get(key);
    if (!seen || seen.at <= d.at) latest.set(key, d);
  }
  let inflight = 0;
  for (const d of latest.values()) if (d.ackedAt === undefined || d.ackedAt > at - windowMillis) inflight++;
  return inflight;
}

/** Longest interval between consecutive times (sorted) within [from, to), counting the edges. */
function maxGap(sorted: number[], from: number, to: number): number {
  let previous = from;
  let gap = 0;
  for (const t of sorted) {
    if (t < from) continue;
    if (t >= to) break;
    gap = Math.max(gap, t - previous);
    previous = t;
  }
  return Math.max(gap, to - previous);
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
