/**
 * Fakes for the CLI's unit tests: a terminal that records what is written,
 * and clients that record calls and answer what a test set up.
 */
import { EventEmitter } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import {
  type PeekDeadLettersRequest,
  type PeekDeadLettersResponse,
  type ReceivedMessage as ReceivedMessageProto,
  type RedriveDeadLettersRequest,
  Subscription,
  type SubscriptionStats,
  type TailRequest,
  Topic,
} from '@herald/api';
import { ReceivedMessage } from '@herald/client';
import type { AdminApi, HeraldClients, PublisherApi, RedriveCall, SubscriberApi, TailCall } from '../clients';
import type { Endpoints, ServiceKind } from '../endpoints';
import { run } from '../program';
import type { Terminal } from '../terminal';

/** What a run of the CLI left behind. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The stdout lines parsed as JSON. */
  json(): unknown[];
}

/** A topic as the registry answers it. */
export function topic(name: string, partitions = 3): Topic {
  return Topic.fromPartial({
    name,
    partitions,
    replicationFactor: 3,
    retention: { seconds: String(7 * 86_400), nanos: 0 },
    createTime: new Date('2026-05-01T10:00:00Z'),
    revision: '7',
  });
}

/** A subscription as the registry answers it. */
export function subscription(name: string, topicName: string): Subscription {
  return Subscription.fromPartial({
    name,
    topic: topicName,
    ackDeadlineSeconds: 10,
    retryPolicy: { minimumBackoff: { seconds: '1', nanos: 0 }, maximumBackoff: { seconds: '60', nanos: 0 } },
    startOffsets: [
      { partition: 0, offset: '0' },
      { partition: 1, offset: '4' },
    ],
    createTime: new Date('2026-05-01T10:00:00Z'),
    revision: '8',
  });
}

/** A message as the dispatcher sends it. */
export function messageProto(
  id: string,
  data: string,
  extra: Partial<ReceivedMessageProto> = {},
): ReceivedMessageProto {
  return {
    ackId: `ack-${id}`,
    messageId: id,
    data: Buffer.from(data),
    attributes: {},
    orderingKey: '',
    publishTime: new Date('2026-05-01T10:00:00Z'),
    deliveryAttempt: 1,
    idempotencyKey: '',
    ...extra,
  };
}

/** What a settled message gets from a subscriber without exactly-once delivery. */
const sent = Promise.resolve({ ok: true, confirmed: false } as const);

/** A subscriber that delivers what the test emits, and records how messages were settled. */
export class FakeSubscriber extends EventEmitter {
  readonly acked: string[] = [];
  readonly givenBack: string[] = [];
  closed = false;

  /** Delivers messages as the SDK would. */
  deliver(...protos: ReceivedMessageProto[]): void {
    for (const proto of protos) {
      const message = new ReceivedMessage(
        proto,
        {
          ack: (m) => (this.acked.push(m.id), sent),
          nack: (m) => (this.givenBack.push(m.id), sent),
          modifyAckDeadline: (m) => (this.givenBack.push(m.id), sent),
        },
        1,
      );
      this.emit('message', message);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A Tail call that streams what the test writes. */
export class FakeTailCall extends EventEmitter implements TailCall {
  cancelled = false;

  cancel(): void {
    this.cancelled = true;
    queueMicrotask(() => this.emit('error', Object.assign(new Error('cancelled'), { code: 1, details: 'Cancelled' })));
  }
}

/** A RedriveDeadLetters call that streams what the test emits. */
export class FakeRedriveCall extends EventEmitter implements RedriveCall {
  cancelled = false;

  cancel(): void {
    this.cancelled = true;
    queueMicrotask(() => this.emit('error', Object.assign(new Error('cancelled'), { code: 1, details: 'Cancelled' })));
  }
}

/** Clients whose calls are recorded and answered by the test's functions. */
export class FakeClients implements HeraldClients {
  readonly calls: Array<[string, ...unknown[]]> = [];
  admin: () => AdminApi;
  publisher: () => PublisherApi;
  readonly subscribers: FakeSubscriber[] = [];
  readonly tails: Array<{ request: TailRequest; call: FakeTailCall }> = [];
  readonly redrives: Array<{ request: RedriveDeadLettersRequest; attempt: number; call: FakeRedriveCall }> = [];
  /** Answers PeekDeadLetters; by default with nothing. */
  peekAnswer: (request: PeekDeadLettersRequest, attempt: number) => Promise<PeekDeadLettersResponse> = async () => ({
    messages: [],
    nextPageToken: '',
  });
  dispatcherCount = 1;
  /** What {@link FakeClients.unreachable} answers, by service. */
  readonly unreachableLines: Partial<Record<ServiceKind, string>> = {};
  /** What {@link FakeClients.subscriptionStats} answers, by subscription; an Error fails the call. */
  stats: Map<string, SubscriptionStats> | Error = new Map();
  /** What {@link FakeClients.dispatchersNotServing} answers. */
  notServing: string | undefined;
  closed = false;

  constructor(
    /** Answers admin calls by method name. */
    answers: Partial<Record<keyof AdminApi, (...args: unknown[]) => unknown>> = {},
    /** Answers publishes; by default with `id-<data>`. */
    publish: (topic: string, message: { data?: unknown }) => Promise<string> = async (_t, m) => `id-${String(m.data)}`,
  ) {
    const record =
      (name: string) =>
      (...args: unknown[]) => {
        this.calls.push([name, ...args]);
        const answer = answers[name as keyof AdminApi];
        if (!answer) throw new Error(`unexpected admin call ${name}`);
        return answer(...args);
      };
    const names: Array<keyof AdminApi> = [
      'createTopic',
      'getTopic',
      'listTopics',
      'deleteTopic',
      'createSubscription',
      'getSubscription',
      'listSubscriptions',
      'updateSubscription',
      'deleteSubscription',
      'seek',
      'getIamPolicy',
      'setIamPolicy',
      'grantRole',
      'revokeRole',
      'testIamPermissions',
    ];
    const admin = Object.fromEntries(names.map((name) => [name, record(name)])) as unknown as AdminApi;
    this.admin = () => admin;
    const publisher: PublisherApi = {
      publish: (topicName, message) => {
        this.calls.push(['publish', topicName, message]);
        return publish(topicName, message);
      },
    };
    this.publisher = () => publisher;
  }

  subscriber(options: unknown): SubscriberApi {
    this.calls.push(['subscriber', options]);
    const subscriber = new FakeSubscriber();
    this.subscribers.push(subscriber);
    return subscriber as unknown as SubscriberApi;
  }

  tail(request: TailRequest, attempt: number): TailCall {
    this.calls.push(['tail', request, attempt]);
    const call = new FakeTailCall();
    this.tails.push({ request, call });
    return call;
  }

  peekDeadLetters(request: PeekDeadLettersRequest, attempt: number): Promise<PeekDeadLettersResponse> {
    this.calls.push(['peekDeadLetters', request, attempt]);
    return this.peekAnswer(request, attempt);
  }

  redriveDeadLetters(request: RedriveDeadLettersRequest, attempt: number): RedriveCall {
    this.calls.push(['redriveDeadLetters', request, attempt]);
    const call = new FakeRedriveCall();
    this.redrives.push({ request, attempt, call });
    return call;
  }

  async subscriptionStats(names: string[]): Promise<SubscriptionStats[]> {
    this.calls.push(['subscriptionStats', names]);
    const { stats } = this;
    if (stats instanceof Error) throw stats;
    return names.flatMap((name) => stats.get(name) ?? []);
  }

  async unreachable(kind: ServiceKind): Promise<string | undefined> {
    return this.unreachableLines[kind];
  }

  async dispatchersNotServing(): Promise<string | undefined> {
    return this.notServing;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  env?: Record<string, string>;
  /** Text on stdin, or a stream (one that never ends stands for an open pipe). */
  stdin?: string | NodeJS.ReadableStream;
  /** Called once the command started (to emit messages on fakes, say); `interrupt` is Ctrl-C. */
  whileRunning?: (controls: { interrupt(): void }) => Promise<void>;
}

/** Runs the CLI with `argv` on a fake terminal and `clients`; records the endpoints it connected to. */
export async function runCli(
  argv: string[],
  clients: FakeClients,
  options: RunCliOptions = {},
): Promise<RunResult & { endpoints: Endpoints | undefined }> {
  let stdout = '';
  let stderr = '';
  let endpoints: Endpoints | undefined;
  const interruptHandlers = new Set<() => void>();
  const terminal: Terminal = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin:
      options.stdin === undefined
        ? new PassThrough()
        : typeof options.stdin === 'string'
          ? Readable.from([options.stdin])
          : options.stdin,
    stdinIsTTY: false,
    stdoutIsTTY: false,
    progressStream: new PassThrough(),
    env: options.env ?? {},
    onInterrupt: (handler) => {
      interruptHandlers.add(handler);
      return () => interruptHandlers.delete(handler);
    },
  };
  const running = run(argv, {
    terminal,
    connect: (resolved) => {
      endpoints = resolved;
      return clients;
    },
  });
  await options.whileRunning?.({ interrupt: () => [...interruptHandlers].forEach((handler) => handler()) });
  const code = await running;
  return {
    code,
    stdout,
    stderr,
    endpoints,
    json: () =>
      stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as unknown),
  };
}

/** Resolves once `condition` holds, checking on each turn of the event loop (for fakes driven by a test). */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition never held');
}
