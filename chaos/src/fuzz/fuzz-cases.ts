import { randomBytes } from 'node:crypto';
import type { ChannelCredentials } from '@grpc/grpc-js';
import {
  CreateSubscriptionRequest,
  CreateTopicRequest,
  DeleteSubscriptionRequest,
  DeleteTopicRequest,
  GetSubscriptionRequest,
  GetTopicRequest,
  ListSubscriptionsRequest,
  ListTopicsRequest,
  Position,
  PublishRequest,
  PublishStreamRequest,
  SeekRequest,
  StreamingPullRequest,
  TailRequest,
  UpdateSubscriptionRequest,
  WatchRequest,
} from '@herald/api';
import { RawProto, Wire, garbage, mutate } from './protobuf';
import { RawGrpc, codeName } from './raw-client';

/** Where the fuzz goes: an endpoint of each service, and a topic and subscription of its own. */
export interface FuzzTarget {
  publisher: string;
  registry: string;
  dispatcher: string;
  /** A Herald topic only the fuzz uses. */
  topic: string;
  /** A subscription of that topic only the fuzz uses. */
  subscription: string;
  /** How the fuzz reaches the services (TLS with a client certificate on a secured deployment). */
  credentials: ChannelCredentials;
}

/** One rpc as the fuzz sees it. */
interface RpcSpec {
  name: string;
  service: 'publisher' | 'registry' | 'dispatcher';
  path: string;
  kind: 'unary' | 'server' | 'bidi';
  /** A well-formed request. */
  valid: Buffer;
  /** Highest field number of the request. */
  fields: number;
  /** Whether random mutations of the valid request are safe to send (they cannot create or delete things). */
  mutable: boolean;
}

/** What one fuzz family did. */
export interface FuzzResult {
  family: string;
  requests: number;
  /** How the calls ended: status name (or OPEN: the stream was still open) to count. */
  outcomes: Record<string, number>;
  /** Labelled requests that ended notably (accepted extremes, INTERNAL or UNKNOWN on a well-formed request...). */
  notable: string[];
  millis: number;
}

function rpcs(target: FuzzTarget): RpcSpec[] {
  const bytes = (message: { finish(): Uint8Array }) => Buffer.from(message.finish());
  const publisher = (name: string) => `/herald.v1.PublisherService/${name}`;
  const registry = (name: string) => `/herald.v1.SubscriberRegistryService/${name}`;
  const dispatcher = (name: string) => `/herald.v1.DispatcherService/${name}`;
  const message = { data: Buffer.from('fuzz'), attributes: {}, orderingKey: '', idempotencyKey: '' };
  return [
    {
      name: 'Publish',
      service: 'publisher',
      path: publisher('Publish'),
      kind: 'unary',
      valid: bytes(PublishRequest.encode({ topic: target.topic, messages: [message] })),
      fields: 2,
      mutable: true,
    },
    {
      name: 'PublishStream',
      service: 'publisher',
      path: publisher('PublishStream'),
      kind: 'bidi',
      valid: bytes(PublishStreamRequest.encode({ requestId: '1', topic: target.topic, messages: [message] })),
      fields: 3,
      mutable: true,
    },
    {
      name: 'CreateTopic',
      service: 'registry',
      path: registry('CreateTopic'),
      kind: 'unary',
      valid: bytes(CreateTopicRequest.encode(CreateTopicRequest.fromPartial({ topic: { name: 'x', partitions: 1 } }))),
      fields: 1,
      mutable: false,
    },
    {
      name: 'GetTopic',
      service: 'registry',
      path: registry('GetTopic'),
      kind: 'unary',
      valid: bytes(GetTopicRequest.encode({ name: target.topic })),
      fields: 1,
      mutable: true,
    },
    {
      name: 'ListTopics',
      service: 'registry',
      path: registry('ListTopics'),
      kind: 'unary',
      valid: bytes(ListTopicsRequest.encode({ pageSize: 10, pageToken: '' })),
      fields: 2,
      mutable: true,
    },
    {
      name: 'DeleteTopic',
      service: 'registry',
      path: registry('DeleteTopic'),
      kind: 'unary',
      valid: bytes(DeleteTopicRequest.encode({ name: 'fuzz-absent-topic' })),
      fields: 1,
      mutable: false,
    },
    {
      name: 'CreateSubscription',
      service: 'registry',
      path: registry('CreateSubscription'),
      kind: 'unary',
      valid: bytes(
        CreateSubscriptionRequest.encode(
          CreateSubscriptionRequest.fromPartial({ subscription: { name: 'x', topic: target.topic } }),
        ),
      ),
      fields: 1,
      mutable: false,
    },
    {
      name: 'GetSubscription',
      service: 'registry',
      path: registry('GetSubscription'),
      kind: 'unary',
      valid: bytes(GetSubscriptionRequest.encode({ name: target.subscription })),
      fields: 1,
      mutable: true,
    },
    {
      name: 'ListSubscriptions',
      service: 'registry',
      path: registry('ListSubscriptions'),
      kind: 'unary',
      valid: bytes(ListSubscriptionsRequest.encode({ pageSize: 10, pageToken: '', topic: '' })),
      fields: 3,
      mutable: true,
    },
    {
      name: 'UpdateSubscription',
      service: 'registry',
      path: registry('UpdateSubscription'),
      kind: 'unary',
      valid: bytes(
        UpdateSubscriptionRequest.encode(
          UpdateSubscriptionRequest.fromPartial({
            subscription: { name: target.subscription, ackDeadlineSeconds: 20 },
            updateMask: ['ack_deadline_seconds'],
          }),
        ),
      ),
      fields: 2,
      mutable: true,
    },
    {
      name: 'DeleteSubscription',
      service: 'registry',
      path: registry('DeleteSubscription'),
      kind: 'unary',
      valid: bytes(DeleteSubscriptionRequest.encode({ name: 'fuzz-absent-subscription' })),
      fields: 1,
      mutable: false,
    },
    {
      name: 'Seek',
      service: 'registry',
      path: registry('Seek'),
      kind: 'unary',
      valid: bytes(
        SeekRequest.encode({
          subscription: target.subscription,
          target: { $case: 'position', value: Position.POSITION_EARLIEST },
        }),
      ),
      fields: 3,
      mutable: true,
    },
    {
      name: 'Watch',
      service: 'registry',
      path: registry('Watch'),
      kind: 'server',
      valid: bytes(WatchRequest.encode({ afterRevision: '0' })),
      fields: 1,
      mutable: true,
    },
    {
      name: 'StreamingPull',
      service: 'dispatcher',
      path: dispatcher('StreamingPull'),
      kind: 'bidi',
      valid: bytes(
        StreamingPullRequest.encode(
          StreamingPullRequest.fromPartial({ subscription: target.subscription, maxOutstandingMessages: '10' }),
        ),
      ),
      fields: 9,
      mutable: true,
    },
    {
      name: 'Tail',
      service: 'dispatcher',
      path: dispatcher('Tail'),
      kind: 'server',
      valid: bytes(TailRequest.encode(TailRequest.fromPartial({ topic: target.topic }))),
      fields: 4,
      mutable: false,
    },
  ];
}

/** The fuzz families, in the order they run. Each returns its result. */
export interface FuzzFamily {
  name: string;
  run(): Promise<FuzzResult>;
}

/**
 * Builds every fuzz family against a target: malformed frames for every rpc,
 * extreme values, floods of unknown ack ids, stream churn, and thousands of
 * concurrent streams. `scale` is 1 for the full suite, smaller for the short one.
 */
export function fuzzFamilies(target: FuzzTarget, scale: number): FuzzFamily[] {
  const clients = {
    publisher: new RawGrpc(target.publisher, target.credentials),
    registry: new RawGrpc(target.registry, target.credentials),
    dispatcher: new RawGrpc(target.dispatcher, target.credentials),
  };
  const specs = rpcs(target);
  const n = (count: number) => Math.max(1, Math.round(count * scale));
  const holdMillis = scale < 1 ? 150 : 300;
  const send = (spec: RpcSpec, frame: Buffer, hold = holdMillis): Promise<string> => {
    const client = clients[spec.service];
    if (spec.kind === 'unary') return client.unary(spec.path, frame);
    if (spec.kind === 'server') return client.serverStream(spec.path, frame, hold);
    return client.bidi(spec.path, [frame], hold);
  };
  const byName = (name: string) => specs.find((s) => s.name === name)!;

  const families: FuzzFamily[] = [
    family('garbage bytes as every request (raw frames)', async (record) => {
      for (const spec of specs) {
        const frames = Array.from({ length: n(spec.mutable ? 30 : 10) }, () => garbage(2048));
        await pool(frames, 16, async (frame) => record(await send(spec, frame)));
      }
    }),
    family('every field with every wrong wire type', async (record) => {
      for (const spec of specs) {
        for (let field = 1; field <= spec.fields; field++) {
          for (const wire of [Wire.varint, Wire.fixed64, Wire.bytes, Wire.fixed32, Wire.startGroup]) {
            record(await send(spec, new RawProto().anyWire(field, wire).finish()));
          }
        }
        // A length that promises more than the frame holds, and a string that is not UTF-8.
        record(
          await send(
            spec,
            new RawProto()
              .tag(1, Wire.bytes)
              .varint(2 ** 31)
              .raw(randomBytes(5))
              .finish(),
          ),
        );
        record(await send(spec, new RawProto().bytes(1, Buffer.from([0xff, 0xfe, 0xfd, 0xc0, 0x80])).finish()));
      }
    }),
    family("each rpc sent every other rpc's request", async (record) => {
      for (const spec of specs) {
        for (const other of specs) if (other !== spec && spec.mutable) record(await send(spec, other.valid));
      }
    }),
    family('bit-flipped and truncated valid requests', async (record) => {
      for (const spec of specs.filter((s) => s.mutable)) {
        const frames = Array.from({ length: n(40) }, () => mutate(spec.valid));
        await pool(frames, 16, async (frame) => record(await send(spec, frame)));
      }
    }),
    family('extreme values (huge fields, out-of-range numbers, deep filters)', async (record) => {
      const requests = extremeRequests(target, byName);
      await pool(requests, 8, async ([spec, frame, label]) => record(await send(spec, frame, 500), label));
    }),
    family('garbage after a valid first StreamingPull / PublishStream request', async (record) => {
      for (const spec of [byName('StreamingPull'), byName('PublishStream')]) {
        for (let i = 0; i < n(20); i++) {
          record(await clients[spec.service].bidi(spec.path, [spec.valid, garbage(512), mutate(spec.valid)], 300));
        }
      }
    }),
    family('flood of unknown ack ids, nacks and deadline changes', async (record) => {
      const spec = byName('StreamingPull');
      const batch = (count: number, size = 24) =>
        Array.from({ length: count }, () => randomBytes(size).toString('base64url'));
      const frames = [spec.valid];
      for (let i = 0; i < n(20); i++) {
        await new Promise((resolve) => setImmediate(resolve));
        frames.push(
          Buffer.from(
            StreamingPullRequest.encode(StreamingPullRequest.fromPartial({ ackIds: batch(10_000) })).finish(),
          ),
        );
        frames.push(
          Buffer.from(
            StreamingPullRequest.encode(StreamingPullRequest.fromPartial({ nackIds: batch(5_000) })).finish(),
          ),
        );
        const ids = batch(2_000);
        frames.push(
          Buffer.from(
            StreamingPullRequest.encode(
              StreamingPullRequest.fromPartial({
                modifyDeadlineAckIds: ids,
                modifyDeadlineSeconds: ids.map((_, j) => (j % 3 === 0 ? -1 : j % 3 === 1 ? 2 ** 31 - 1 : 0)),
              }),
            ).finish(),
          ),
        );
      }
      // Ack ids of 64 KiB each.
      frames.push(
        Buffer.from(
          StreamingPullRequest.encode(StreamingPullRequest.fromPartial({ ackIds: batch(40, 48_000) })).finish(),
        ),
      );
      // Written 5 ms apart, so that encoding them does not stall the load clients in this process.
      record(await clients.dispatcher.bidi(spec.path, frames, 2_000, 5));
      // Mismatched deadline lists end the stream with INVALID_ARGUMENT.
      const mismatched = StreamingPullRequest.fromPartial({
        modifyDeadlineAckIds: ['a', 'b'],
        modifyDeadlineSeconds: [10],
      });
      record(
        await clients.dispatcher.bidi(
          spec.path,
          [spec.valid, Buffer.from(StreamingPullRequest.encode(mismatched).finish())],
          2_000,
        ),
      );
    }),
    family('streams opened and dropped in a loop', async (record) => {
      const churn = async (count: number, open: () => { cancel(): void }) => {
        await pool(
          Array.from({ length: count }, (_, i) => i),
          50,
          async (i) => {
            const call = open();
            await new Promise((resolve) => setTimeout(resolve, i % 20));
            call.cancel();
            record('DROPPED');
          },
        );
      };
      await churn(n(600), () => {
        const call = clients.dispatcher.openBidi(byName('StreamingPull').path);
        call.on('error', () => undefined);
        call.write(byName('StreamingPull').valid);
        return call;
      });
      await churn(n(300), () => {
        const call = clients.publisher.openBidi(byName('PublishStream').path);
        call.on('error', () => undefined);
        call.write(byName('PublishStream').valid);
        return call;
      });
      await churn(n(300), () => {
        const call = clients.registry.openServerStream(byName('Watch').path, byName('Watch').valid);
        call.on('error', () => undefined);
        return call;
      });
      await churn(n(40), () => {
        const call = clients.dispatcher.openServerStream(byName('Tail').path, byName('Tail').valid);
        call.on('error', () => undefined);
        return call;
      });
    }),
    family('thousands of concurrent streams', async (record) => {
      const hold = n(10_000);
      await concurrent(n(2_000), hold, record, () => {
        const call = clients.dispatcher.openBidi(byName('StreamingPull').path);
        call.write(
          Buffer.from(
            StreamingPullRequest.encode(
              StreamingPullRequest.fromPartial({ subscription: target.subscription, maxOutstandingMessages: '1' }),
            ).finish(),
          ),
        );
        return call;
      });
      await concurrent(n(2_000), hold, record, () =>
        clients.registry.openServerStream(byName('Watch').path, byName('Watch').valid),
      );
      await concurrent(n(1_000), hold, record, () => {
        const call = clients.publisher.openBidi(byName('PublishStream').path);
        call.write(byName('PublishStream').valid);
        return call;
      });
      await concurrent(n(100), hold, record, () =>
        clients.dispatcher.openServerStream(byName('Tail').path, byName('Tail').valid),
      );
    }),
  ];
  return families.map((f) => ({
    name: f.name,
    run: async () => {
      try {
        return await f.run();
      } finally {
        if (f === families[families.length - 1]) Object.values(clients).forEach((c) => c.close());
      }
    },
  }));
}

type Recorder = (outcome: string, label?: string) => void;

/** Outcomes worth naming when a labelled request ends with them. */
const notableOutcomes = new Set(['OK', 'OPEN', 'INTERNAL', 'UNKNOWN', 'DEADLINE_EXCEEDED', 'UNAVAILABLE']);

function family(name: string, body: (record: Recorder) => Promise<void>): FuzzFamily {
  return {
    name,
    run: async () => {
      const started = Date.now();
      const outcomes: Record<string, number> = {};
      const notable: string[] = [];
      let requests = 0;
      await body((outcome, label) => {
        requests++;
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        // A bidi stream the server keeps open is its normal state, not news.
        const bidiOpen = outcome === 'OPEN' && /^(PublishStream|StreamingPull):/.test(label ?? '');
        if (label && notableOutcomes.has(outcome) && !bidiOpen) notable.push(`${label}: ${outcome}`);
      });
      return { family: name, requests, outcomes, notable, millis: Date.now() - started };
    },
  };
}

/** Opens `count` streams at once, holds them, then cancels them; records how each stood at the end. */
async function concurrent(
  count: number,
  holdMillis: number,
  record: (outcome: string) => void,
  open: () => {
    cancel(): void;
    on(event: 'error', listener: (error: { code?: number }) => void): unknown;
    on(event: 'data', listener: () => void): unknown;
  },
): Promise<void> {
  const states: string[] = [];
  const calls = Array.from({ length: count }, (_, i) => {
    states[i] = 'OPEN';
    const call = open();
    call.on('data', () => undefined);
    call.on('error', (error) => {
      if (states[i] === 'OPEN') states[i] = codeName(error.code);
    });
    return call;
  });
  await new Promise((resolve) => setTimeout(resolve, holdMillis));
  const snapshot = [...states];
  for (const call of calls) call.cancel();
  for (const state of snapshot) record(state);
}

/** Runs `work` over `items`, `width` at a time. */
async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Well-formed requests with values at and past every limit, each with a label for the report. */
function extremeRequests(target: FuzzTarget, rpc: (name: string) => RpcSpec): Array<[RpcSpec, Buffer, string]> {
  const out: Array<[RpcSpec, Buffer, string]> = [];
  const add = (name: string, label: string, message: { finish(): Uint8Array }) =>
    out.push([rpc(name), Buffer.from(message.finish()), `${name}: ${label}`]);
  const big = (size: number) => 'x'.repeat(size);
  const msg = (
    fields: Partial<{ data: Buffer; attributes: Record<string, string>; orderingKey: string; idempotencyKey: string }>,
  ) => ({ data: Buffer.from('x'), attributes: {}, orderingKey: '', idempotencyKey: '', ...fields });
  const publish = (label: string, topic: string, messages: ReturnType<typeof msg>[]) =>
    add('Publish', label, PublishRequest.encode({ topic, messages }));
  publish('1 MiB topic name', big(1 << 20), [msg({})]);
  publish('no messages', target.topic, []);
  publish(
    '1,001 messages',
    target.topic,
    Array.from({ length: 1_001 }, () => msg({})),
  );
  publish('a message with no data and no attributes', target.topic, [msg({ data: Buffer.alloc(0) })]);
  publish('10,000 attributes', target.topic, [
    msg({ attributes: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v'])) }),
  ]);
  publish('1 MiB attribute key', target.topic, [msg({ attributes: { [big(1 << 20)]: 'v' } })]);
  publish('reserved attribute herald-message-id', target.topic, [
    msg({ attributes: { 'herald-message-id': 'forged' } }),
  ]);
  publish('1 MiB ordering key', target.topic, [msg({ orderingKey: big(1 << 20) })]);
  publish('1 MiB idempotency key', target.topic, [msg({ idempotencyKey: big(1 << 20) })]);
  publish('10 MiB + 1 byte of data', target.topic, [msg({ data: Buffer.alloc(10 * 1024 * 1024 + 1) })]);
  publish('12 MiB of data (past the frame limit)', target.topic, [msg({ data: Buffer.alloc(12 * 1024 * 1024) })]);
  publish('topic ../../etc/passwd', '../../etc/passwd', [msg({})]);
  publish('reserved topic name herald.internal', 'herald.internal', [msg({})]);
  publish('topic name with NUL', 'nul\u0000name', [msg({})]);
  add(
    'PublishStream',
    '1 MiB request id',
    PublishStreamRequest.encode({ requestId: big(1 << 20), topic: target.topic, messages: [msg({})] }),
  );
  add('PublishStream', 'empty request', PublishStreamRequest.encode({ requestId: '', topic: '', messages: [] }));

  const topic = (
    label: string,
    partitions: number,
    retention?: { seconds: string; nanos: number },
    name = 'fuzz-extreme',
  ) =>
    add(
      'CreateTopic',
      label,
      CreateTopicRequest.encode(CreateTopicRequest.fromPartial({ topic: { name, partitions, retention } })),
    );
  topic('2^31-1 partitions', 2 ** 31 - 1);
  topic('-1 partitions', -1);
  topic('1,001 partitions', 1_001);
  topic('retention of 2^63-1 s', 1, { seconds: '9223372036854775807', nanos: 0 });
  topic('negative retention', 1, { seconds: '-5', nanos: 0 });
  topic('retention nanos 2e9', 1, { seconds: '1', nanos: 2_000_000_000 });
  topic('300-character name', 1, undefined, big(300));
  topic('reserved name herald-reserved', 1, undefined, 'herald-reserved');
  topic('empty name', 1, undefined, '');
  add('CreateTopic', 'no topic', CreateTopicRequest.encode({ topic: undefined }));

  const subscription = (label: string, fields: Record<string, unknown>) =>
    add(
      'CreateSubscription',
      label,
      CreateSubscriptionRequest.encode(
        CreateSubscriptionRequest.fromPartial({
          subscription: { name: 'fuzz-extreme-sub', topic: target.topic, ...fields },
        }),
      ),
    );
  subscription('filter nested 20,000 deep', { filter: '('.repeat(20_000) + 'attributes:a' + ')'.repeat(20_000) });
  subscription('filter of 50,000 NOTs', { filter: 'NOT '.repeat(50_000) + 'attributes:a' });
  subscription('filter of 50,000 ORs', {
    filter: Array.from({ length: 50_000 }, (_, i) => `attributes.k${i} = "v"`).join(' OR '),
  });
  subscription('filter with an unterminated 1 MiB string', { filter: 'attributes.a = "' + big(1 << 20) });
  subscription('ack deadline -1', { ackDeadlineSeconds: -1 });
  subscription('ack deadline 2^31-1', { ackDeadlineSeconds: 2 ** 31 - 1 });
  subscription('retry minimum above a negative maximum', {
    retryPolicy: { minimumBackoff: { seconds: '100', nanos: 0 }, maximumBackoff: { seconds: '-1', nanos: 0 } },
  });
  subscription('dead letter to a missing topic, -1 attempts', {
    deadLetterPolicy: { deadLetterTopic: 'fuzz-absent-topic', maxDeliveryAttempts: -1 },
  });
  subscription('dead letter with 2^31-1 attempts', {
    deadLetterPolicy: { deadLetterTopic: target.topic, maxDeliveryAttempts: 2 ** 31 - 1 },
  });
  subscription('start time in year 275760', { start: { $case: 'startTime', value: new Date(8.64e15) } });
  subscription('start position 99', { start: { $case: 'startPosition', value: 99 } });
  subscription('missing topic', { topic: 'fuzz-absent-topic' });
  subscription('one-character name', { name: 'x' });

  add('ListTopics', 'page size -1', ListTopicsRequest.encode({ pageSize: -1, pageToken: '' }));
  add('ListTopics', 'page size 2^31-1', ListTopicsRequest.encode({ pageSize: 2 ** 31 - 1, pageToken: '' }));
  add('ListTopics', 'forged page token', ListTopicsRequest.encode({ pageSize: 10, pageToken: 'not-a-token' }));
  add('ListTopics', '1 MiB page token', ListTopicsRequest.encode({ pageSize: 10, pageToken: big(1 << 20) }));
  add(
    'ListSubscriptions',
    'bad token, 100 KB topic',
    ListSubscriptionsRequest.encode({ pageSize: 10, pageToken: '%%%', topic: big(100_000) }),
  );
  add(
    'UpdateSubscription',
    '10,000 unknown mask paths',
    UpdateSubscriptionRequest.encode(
      UpdateSubscriptionRequest.fromPartial({
        subscription: { name: target.subscription },
        updateMask: Array.from({ length: 10_000 }, (_, i) => `field_${i}`),
      }),
    ),
  );
  add(
    'UpdateSubscription',
    'mask of fixed fields topic and name',
    UpdateSubscriptionRequest.encode(
      UpdateSubscriptionRequest.fromPartial({
        subscription: { name: target.subscription, topic: 'other' },
        updateMask: ['topic', 'name'],
      }),
    ),
  );
  add(
    'UpdateSubscription',
    'no subscription',
    UpdateSubscriptionRequest.encode(UpdateSubscriptionRequest.fromPartial({ updateMask: ['ack_deadline_seconds'] })),
  );
  const seek = (label: string, seekTarget: SeekRequest['target']) =>
    add('Seek', label, SeekRequest.encode({ subscription: target.subscription, target: seekTarget }));
  seek('to year 275760', { $case: 'time', value: new Date(8.64e15) });
  seek('to year -271821', { $case: 'time', value: new Date(-8.64e15) });
  seek('to position 99', { $case: 'position', value: 99 as Position });
  seek('to nowhere', undefined);
  add('Watch', 'after revision -1', WatchRequest.encode({ afterRevision: '-1' }));
  add('Watch', 'after revision 2^63-1', WatchRequest.encode({ afterRevision: '9223372036854775807' }));
  const tail = (label: string, fields: Partial<TailRequest>) =>
    add('Tail', label, TailRequest.encode(TailRequest.fromPartial({ topic: target.topic, ...fields })));
  tail('position 99', { start: { $case: 'position', value: 99 as Position } });
  tail('from year -271821', { start: { $case: 'time', value: new Date(-8.64e15) } });
  tail('filter of 20,000 open parentheses', { filter: '('.repeat(20_000) });
  tail('missing topic', { topic: 'fuzz-absent-topic' });
  const pull = (label: string, fields: Record<string, unknown>) =>
    add(
      'StreamingPull',
      label,
      StreamingPullRequest.encode(StreamingPullRequest.fromPartial({ subscription: target.subscription, ...fields })),
    );
  pull('max outstanding messages 2^63-1', { maxOutstandingMessages: '9223372036854775807' });
  pull('max outstanding messages -1', { maxOutstandingMessages: '-1' });
  pull('max outstanding bytes -2^63', { maxOutstandingBytes: '-9223372036854775808' });
  pull('stream ack deadline -5', { streamAckDeadlineSeconds: -5 });
  pull('stream ack deadline 2^31-1', { streamAckDeadlineSeconds: 2 ** 31 - 1 });
  pull('empty subscription', { subscription: '' });
  pull('1 MiB subscription name', { subscription: big(1 << 20) });
  pull('missing subscription', { subscription: 'fuzz-absent-subscription' });
  pull('1 MiB client id', { clientId: big(1 << 20) });
  return out;
}
