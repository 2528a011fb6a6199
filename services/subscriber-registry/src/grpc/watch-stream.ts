import type { RegistryEvent, ResourcePolicy, WatchRequest, WatchResponse } from '@herald/api';
import { principalOf } from '@herald/grpc-server';
import { ResourceExhaustedError } from '@herald/errors';
import type { Logger } from '@herald/logging';
import type { ServerWritableStream, ServiceDefinition } from '@grpc/grpc-js';
import type { StoredPolicy, Subscription, Topic } from '../domain/registry-model';
import type { AppliedChange } from '../domain/registry-state';
import type { RegistryService } from '../registry-service';
import { subscriptionToProto, topicToProto } from './proto-mapping';
import type { Visibility } from './visibility';

/** Entities per snapshot part, so that no message nears gRPC's 4 MB default. */
const snapshotChunk = 500;
/** Responses a watcher may leave unread before it is dropped (it resumes by revision). */
const maxBuffered = 20_000;

/**
 * Every watcher at a revision gets the same snapshot, and every watcher the
 * same response for a change: built once and, through
 * {@link withSharedWatchEncoding}, encoded once. Thousands of watchers each
 * encoding the whole registry kept the event loop from answering a health
 * check for over 3 s (make chaos, fuzz: 2,000 Watch streams at once).
 */
const snapshots = new WeakMap<RegistryService, { revision: string; responses: WatchResponse[] }>();
const changeResponses = new WeakMap<AppliedChange, WatchResponse>();
const encodedResponses = new WeakMap<WatchResponse, Buffer>();

function snapshotResponses(registry: RegistryService): WatchResponse[] {
  const revision = registry.state.revision;
  const cached = snapshots.get(registry);
  if (cached?.revision === revision) return cached.responses;
  const { topics, subscriptions, policies } = registry.state.all();
  const responses = snapshotParts(
    revision,
    topics,
    subscriptions,
    policies.map((policy) => policyToProto(registry, policy)),
  );
  snapshots.set(registry, { revision, responses });
  return responses;
}

/**
 * A snapshot in parts of at most {@link snapshotChunk} entities: topics, then
 * subscriptions, then policies (a policy per topic and subscription is as
 * many again, and a policy may name a thousand members).
 */
export function snapshotParts(
  revision: string,
  topics: Topic[],
  subscriptions: Subscription[],
  policies: ResourcePolicy[],
): WatchResponse[] {
  const parts = Math.max(1, Math.ceil((topics.length + subscriptions.length + policies.length) / snapshotChunk));
  const slice = <T>(items: T[], offset: number, from: number, to: number) =>
    items.slice(Math.max(0, from - offset), Math.max(0, to - offset));
  const responses: WatchResponse[] = [];
  for (let part = 0; part < parts; part++) {
    const from = part * snapshotChunk;
    const to = from + snapshotChunk;
    responses.push({
      revision,
      kind: {
        $case: 'snapshot',
        value: {
          reset: part === 0,
          topics: slice(topics, 0, from, to).map(topicToProto),
          subscriptions: slice(subscriptions, topics.length, from, to).map(subscriptionToProto),
          last: part === parts - 1,
          policies: slice(policies, topics.length + subscriptions.length, from, to),
        },
      },
    });
  }
  return responses;
}

function policyToProto(registry: RegistryService, policy: StoredPolicy): ResourcePolicy {
  return {
    resource: policy.resource,
    policy: { bindings: policy.bindings, etag: registry.etagOf(policy) },
  };
}

function sharedChangeResponse(applied: AppliedChange, registry: RegistryService): WatchResponse {
  let response = changeResponses.get(applied);
  if (!response) {
    response = changeResponse(applied, registry);
    changeResponses.set(applied, response);
  }
  return response;
}

/** The registry's service definition with a Watch serializer that encodes a shared response once. */
export function withSharedWatchEncoding<S extends ServiceDefinition>(service: S): S {
  const watch = service.watch;
  if (!watch) throw new Error('the service has no watch method');
  const serialize = watch.responseSerialize as (value: WatchResponse) => Buffer;
  return {
    ...service,
    watch: {
      ...watch,
      responseSerialize: (value: WatchResponse) => {
        let bytes = encodedResponses.get(value);
        if (!bytes) {
          bytes = serialize(value);
          encodedResponses.set(value, bytes);
        }
        return bytes;
      },
    },
  };
}

/**
 * Watch: a snapshot (unless the watcher can resume from its revision), then
 * every change in log order. Everything from the snapshot on is taken in one
 * synchronous step, so no change falls between the snapshot and the feed.
 *
 * A caller who sees everything (Herald's services, admins on Herald) gets the
 * shared responses, policies included. Any other caller gets only the topics
 * and subscriptions it may get, no policies, and a new snapshot of what it
 * may see whenever a policy changes (policies change rarely, and a snapshot
 * is the one answer that is right for a grant and a revocation alike).
 */
export function streamWatch(
  call: ServerWritableStream<WatchRequest, WatchResponse>,
  registry: RegistryService,
  logger: Logger,
  visibility: Visibility,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const principal = principalOf(call);
    const after = call.request.afterRevision;
    let everything = visibility.seesEverything(principal);
    /** What a filtered stream was sent and still holds, so that it hears of the deletion of those only. */
    const held = { topics: new Set<string>(), subscriptions: new Set<string>() };
    let buffered = 0;
    let done = false;
    let unsubscribe = () => {};
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      unsubscribe();
      if (error) reject(error);
      else resolve();
    };
    const send = (response: WatchResponse) => {
      if (done) return;
      buffered++;
      call.write(response, () => buffered--);
      if (buffered > maxBuffered) {
        finish(
          new ResourceExhaustedError(
            'watch buffer',
            `watcher fell ${buffered} responses behind; resume with after_revision`,
          ),
        );
      }
    };
    const sendFilteredSnapshot = () => {
      const { topics, subscriptions } = registry.state.all();
      const shownTopics = topics.filter(visibility.topics(principal));
      const shownSubscriptions = subscriptions.filter(visibility.subscriptions(principal));
      held.topics = new Set(shownTopics.map((topic) => topic.name));
      held.subscriptions = new Set(shownSubscriptions.map((subscription) => subscription.name));
      for (const response of snapshotParts(registry.state.revision, shownTopics, shownSubscriptions, [])) {
        send(response);
      }
    };
    const onChange = (applied: AppliedChange) => {
      const change = applied.change;
      if (change.kind === 'policy-set' || change.kind === 'policy-dropped') {
        const now = visibility.seesEverything(principal);
        if (now && everything) send(sharedChangeResponse(applied, registry));
        else if (now) for (const response of snapshotResponses(registry)) send(response);
        else sendFilteredSnapshot();
        everything = now;
        return;
      }
      if (everything) return send(sharedChangeResponse(applied, registry));
      const response = () => sharedChangeResponse(applied, registry);
      switch (change.kind) {
        case 'topic-created':
          if (!visibility.topics(principal)(change.topic)) return;
          held.topics.add(change.topic.name);
          return send(response());
        case 'topic-deleted':
          if (held.topics.delete(change.name)) send(response());
          return;
        case 'subscription-created':
        case 'subscription-updated':
          if (!visibility.subscriptions(principal)(change.subscription)) return;
          held.subscriptions.add(change.subscription.name);
          return send(response());
        case 'subscription-deleted':
          if (held.subscriptions.delete(change.name)) send(response());
          return;
      }
    };
    if (!everything) {
      sendFilteredSnapshot();
    } else {
      const missed = after !== '0' ? registry.feed.since(after) : undefined;
      if (missed) {
        for (const change of missed) send(sharedChangeResponse(change, registry));
      } else {
        for (const response of snapshotResponses(registry)) send(response);
      }
    }
    unsubscribe = registry.feed.subscribe(onChange);
    call.on('cancelled', () => finish());
    call.on('close', () => finish());
    call.on('error', (error) => {
      logger.debug({ err: error }, 'watch stream error');
      finish();
    });
  });
}

function changeResponse(applied: AppliedChange, registry: RegistryService): WatchResponse {
  const event: RegistryEvent = { revision: applied.revision, time: new Date(applied.timeMillis), change: undefined };
  const change = applied.change;
  switch (change.kind) {
    case 'topic-created':
      event.change = { $case: 'topicCreated', value: topicToProto(change.topic) };
      break;
    case 'topic-deleted':
      event.change = { $case: 'topicDeleted', value: change.name };
      break;
    case 'subscription-created':
      event.change = { $case: 'subscriptionCreated', value: subscriptionToProto(change.subscription) };
      break;
    case 'subscription-updated':
      event.change = { $case: 'subscriptionUpdated', value: subscriptionToProto(change.subscription) };
      break;
    case 'subscription-deleted':
      event.change = { $case: 'subscriptionDeleted', value: change.name };
      break;
    case 'policy-set':
      event.change = { $case: 'policyChanged', value: policyToProto(registry, change.policy) };
      break;
    case 'policy-dropped':
      event.change = { $case: 'policyChanged', value: { resource: change.resource, policy: undefined } };
      break;
  }
  return { revision: applied.revision, kind: { $case: 'event', value: event } };
}
