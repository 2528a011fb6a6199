import type { RegistryEvent, WatchRequest, WatchResponse } from '@herald/api';
import { ResourceExhaustedError } from '@herald/errors';
import type { Logger } from '@herald/logging';
import type { ServerWritableStream, ServiceDefinition } from '@grpc/grpc-js';
import type { AppliedChange } from '../domain/registry-state';
import type { RegistryService } from '../registry-service';
import { subscriptionToProto, topicToProto } from './proto-mapping';

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
  const { topics, subscriptions } = registry.state.all();
  const parts = Math.max(1, Math.ceil((topics.length + subscriptions.length) / snapshotChunk));
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
          topics: topics.slice(from, to).map(topicToProto),
          subscriptions: subscriptions
            .slice(Math.max(0, from - topics.length), Math.max(0, to - topics.length))
            .map(subscriptionToProto),
          last: part === parts - 1,
        },
      },
    });
  }
  snapshots.set(registry, { revision, responses });
  return responses;
}

function sharedChangeResponse(applied: AppliedChange): WatchResponse {
  let response = changeResponses.get(applied);
  if (!response) {
    response = changeResponse(applied);
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
 */
export function streamWatch(
  call: ServerWritableStream<WatchRequest, WatchResponse>,
  registry: RegistryService,
  logger: Logger,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const after = call.request.afterRevision;
    const missed = after !== '0' ? registry.feed.since(after) : undefined;
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
    if (missed) {
      for (const change of missed) send(sharedChangeResponse(change));
    } else {
      for (const response of snapshotResponses(registry)) send(response);
    }
    unsubscribe = registry.feed.subscribe((change) => send(sharedChangeResponse(change)));
    call.on('cancelled', () => finish());
    call.on('close', () => finish());
    call.on('error', (error) => {
      logger.debug({ err: error }, 'watch stream error');
      finish();
    });
  });
}

function changeResponse(applied: AppliedChange): WatchResponse {
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
  }
  return { revision: applied.revision, kind: { $case: 'event', value: event } };
}
