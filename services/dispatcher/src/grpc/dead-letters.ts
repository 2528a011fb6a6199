import type { ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type {
  DeadLetterSelection,
  PeekDeadLettersRequest,
  PeekDeadLettersResponse,
  RedriveDeadLettersRequest,
  RedriveDeadLettersResponse,
  Subscription,
  Topic,
} from '@herald/api';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@herald/errors';
import { parseFilter } from '@herald/filter';
import type { KafkaNames } from '@herald/kafka';
import type { RegistryWatcher } from '@herald/registry-watch';
import { validateResourceName } from '@herald/resource-names';
import type { DispatcherService } from '../dispatcher-service';
import { tailStartAtTime } from '../domain/tail-start';
import { redriveTarget } from '../kafka/redrive-record';
import { decodePageToken, encodePageToken } from '../redrive/page-token';
import { redriveTopicId } from '../redrive/redrive-state';
import { type DeadLetterSource, type RedriveDeps, type RedriveProgress, peek } from '../redrive/redriver';
import type { Redrives } from '../redrive/redrives';
import { messageToProto } from './proto-mapping';
import { type StreamForwarder, forwardedByHeader } from './stream-forwarder';

/** Bounds of the two rpcs' numbers. */
export const DeadLetterLimits = {
  defaultPeekMessages: 100,
  maxPeekMessages: 1_000,
  defaultPerSecond: 100,
  maxPerSecond: 10_000,
  /** Least time between two progress responses. */
  progressIntervalMillis: 500,
} as const;

/** What PeekDeadLetters and RedriveDeadLetters need from the dispatcher process. */
export interface DeadLetterDeps {
  watcher: RegistryWatcher;
  names: KafkaNames;
  redrive: RedriveDeps;
  redrives: Redrives;
  dispatcher: Pick<DispatcherService, 'locate'>;
  forwarder: StreamForwarder;
}

/** PeekDeadLetters: reads the dead-letter topic on whichever dispatcher is asked; moves nothing. */
export async function peekDeadLetters(
  call: ServerUnaryCall<PeekDeadLettersRequest, PeekDeadLettersResponse>,
  deps: DeadLetterDeps,
): Promise<PeekDeadLettersResponse> {
  const { request } = call;
  const max = bounded(
    'max_messages',
    request.maxMessages,
    DeadLetterLimits.defaultPeekMessages,
    DeadLetterLimits.maxPeekMessages,
  );
  const after = decodePageToken(request.pageToken);
  const { source } = await resolve(request.selection, deps);
  const page = await peek(deps.redrive, source, max, after);
  return {
    messages: page.messages.map((message) => messageToProto(message)),
    nextPageToken: page.next ? encodePageToken(page.next) : '',
  };
}

/**
 * RedriveDeadLetters: runs on the dispatcher serving the subscription (the
 * call is relayed there from any other), so that one redrive of it runs at a
 * time; progress goes out at most every `progressIntervalMillis`, and once
 * more at the end. A cancelled call stops after its batch under way.
 */
export async function redriveDeadLetters(
  call: ServerWritableStream<RedriveDeadLettersRequest, RedriveDeadLettersResponse>,
  deps: DeadLetterDeps,
): Promise<void> {
  const { request } = call;
  const perSecond = bounded(
    'max_messages_per_second',
    request.maxMessagesPerSecond,
    DeadLetterLimits.defaultPerSecond,
    DeadLetterLimits.maxPerSecond,
  );
  const name = request.selection?.subscription ?? '';
  validateResourceName('selection.subscription', name);
  const forwarded = call.metadata.get(forwardedByHeader).length > 0;
  const { remote } = deps.dispatcher.locate([name], forwarded);
  const [address] = remote.keys();
  if (address !== undefined) return deps.forwarder.relayRedrive(call, address);
  const { source, subscription, sourceTopic } = await resolve(request.selection, deps);
  const controller = new AbortController();
  // Cancelled by the caller, or ended by the server (Kafka lost, the dispatcher stopping).
  call.on('cancelled', () => controller.abort());
  call.on('error', () => controller.abort());
  const send = (progress: RedriveProgress) => {
    if (!call.writableEnded) call.write(progressToProto(progress));
  };
  let lastSent = 0;
  const final = await deps.redrives.run(
    {
      ...source,
      target: redriveTarget(subscription.name, subscription.createRevision),
      sourceTopic: deps.names.topic(sourceTopic.name),
      sourcePartitions: sourceTopic.partitions,
      perSecond,
    },
    (progress) => {
      const now = Date.now();
      if (now - lastSent < DeadLetterLimits.progressIntervalMillis) return;
      lastSent = now;
      send(progress);
    },
    controller.signal,
  );
  send(final);
}

function progressToProto(progress: RedriveProgress): RedriveDeadLettersResponse {
  return {
    examined: String(progress.examined),
    toExamine: String(progress.toExamine),
    moved: String(progress.moved),
    recovered: String(progress.recovered),
    done: progress.done,
  };
}

/** A count a request may leave at zero for its default. */
function bounded(field: string, value: number, fallback: number, max: number): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(field, `must be 1 to ${max} (0 for ${fallback}), not ${value}`);
  }
  return value;
}

/**
 * The selection checked, and what it names looked up: the subscription, its
 * topic, and the dead-letter topic (the one named, else the subscription's).
 */
async function resolve(
  selection: DeadLetterSelection | undefined,
  deps: DeadLetterDeps,
): Promise<{ source: DeadLetterSource; subscription: Subscription; sourceTopic: Topic }> {
  if (!selection) throw new InvalidArgumentError('selection', 'is required');
  validateResourceName('selection.subscription', selection.subscription);
  if (selection.deadLetterTopic) validateResourceName('selection.dead_letter_topic', selection.deadLetterTopic);
  const filter = parseFilter(selection.filter);
  const startMillis = selection.startTime && timeOf('selection.start_time', selection.startTime);
  const endMillis = selection.endTime && timeOf('selection.end_time', selection.endTime);
  if (startMillis !== undefined && endMillis !== undefined && startMillis >= endMillis) {
    throw new InvalidArgumentError('selection.end_time', 'must be after selection.start_time');
  }
  const { watcher } = deps;
  const name = selection.subscription;
  const subscription = watcher.subscription(name) ?? (await watcher.fetchSubscription(name));
  if (!subscription) throw new NotFoundError('subscription', name);
  if (subscription.detached) {
    throw new FailedPreconditionError(`subscription "${name}" is detached: its topic was deleted`);
  }
  const deadLetterTopic = selection.deadLetterTopic || subscription.deadLetterPolicy?.deadLetterTopic;
  if (!deadLetterTopic) {
    throw new FailedPreconditionError(
      `subscription "${name}" has no dead-letter policy; name the dead-letter topic in selection.dead_letter_topic`,
    );
  }
  const [topic, sourceTopic] = await Promise.all([
    watcher.topic(deadLetterTopic) ?? watcher.fetchTopic(deadLetterTopic),
    watcher.topic(subscription.topic) ?? watcher.fetchTopic(subscription.topic),
  ]);
  if (!topic) throw new NotFoundError('topic', deadLetterTopic, 'selection.dead_letter_topic');
  if (!sourceTopic) throw new FailedPreconditionError(`subscription "${name}" is detached: its topic was deleted`);
  return {
    subscription,
    sourceTopic,
    source: {
      selection: { subscription: name, filter, startMillis, endMillis },
      deadLetterTopic: deps.names.topic(deadLetterTopic),
      deadLetterTopicId: redriveTopicId(deadLetterTopic, topic.createTime?.getTime() ?? 0),
    },
  };
}

function timeOf(field: string, time: Date): number {
  const start = tailStartAtTime(field, time.getTime());
  return start.kind === 'time' ? start.timeMillis : 0;
}
