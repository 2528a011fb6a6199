import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type ServiceError, status } from '@grpc/grpc-js';
import { CloudEventsMode, type PushConfig, type PushStats, Subscription, millisToDuration } from '@herald/api';
import { rpc, waitFor } from '@herald/testkit';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { GrpcReceiver, HttpReceiver, type Received } from './push-receiver';
import { PullStream } from './pull-stream';

const one = { 'subscriber-registry': 1, publisher: 1, dispatcher: 1 };

function httpPush(url: string, options: Partial<PushConfig> & { mode?: CloudEventsMode } = {}): PushConfig {
  return {
    endpoint: {
      $case: 'http',
      value: { endpoint: url, mode: options.mode ?? CloudEventsMode.CLOUD_EVENTS_MODE_BINARY, audience: '' },
    },
    maxOutstanding: options.maxOutstanding ?? 8,
  };
}

async function pushStats(f: DispatchFixture, subscription: string): Promise<PushStats | undefined> {
  const { stats } = await rpc(f.dispatchers[0]!, f.dispatchers[0]!.getSubscriptionStats, {
    subscriptions: [subscription],
  });
  return stats[0]?.push;
}

function of(received: Received[], messageId: string): Received[] {
  return received.filter((r) => r.messageId === messageId);
}

describe('push subscriptions (real Kafka, services and receivers)', function () {
  this.timeout(180_000);
  let f: DispatchFixture;
  let receiver: HttpReceiver;
  let grpcReceiver: GrpcReceiver;

  before(async () => {
    receiver = await HttpReceiver.start();
    grpcReceiver = await GrpcReceiver.start();
    f = await startDispatchFixture(
      'push',
      {
        REGISTRY_PUSH_ALLOW_INSECURE: 'true',
        REGISTRY_PUSH_ALLOW_PRIVATE: 'true',
        DISPATCHER_PUSH_ALLOW_PRIVATE: 'true',
        DISPATCHER_PUSH_TOKEN_ISSUER: 'https://herald.test',
      },
      {
        instances: one,
        // Traced, spans on its standard output (its log): each push is a `deliver` span, its context sent along.
        serviceEnv: { dispatcher: { OTEL_TRACES_EXPORTER: 'console' } },
      },
    );
  });
  after(async () => {
    await f?.close();
    await receiver?.close();
    await grpcReceiver?.close();
  });
  beforeEach(() => {
    receiver.respond = () => ({ status: 200 });
  });
  afterEach(() => {
    assert.deepEqual(receiver.unreadable.splice(0), [], 'every request was a readable CloudEvent');
  });

  it('pushes each message as a CloudEvent with a token the JWKS verifies; 2xx acknowledges; the filter applies', async () => {
    await f.createTopic('push-ack', 2);
    const url = receiver.url('/ack');
    await f.createSubscription({
      name: 'push-ack-sub',
      topic: 'push-ack',
      filter: 'attributes.kind = "keep"',
      pushConfig: httpPush(url),
    });
    await f.createSubscription({
      name: 'push-ack-structured',
      topic: 'push-ack',
      filter: 'attributes.kind = "keep"',
      pushConfig: httpPush(receiver.url('/structured'), { mode: CloudEventsMode.CLOUD_EVENTS_MODE_STRUCTURED }),
    });
    const ids = await f.publish('push-ack', 8, (i) => ({
      data: Buffer.from(`payload ${i} ✓`),
      attributes: { kind: i < 6 ? 'keep' : 'drop', n: String(i), note: 'ünïcode "quoted" 100%' },
    }));
    const kept = new Set(ids.slice(0, 6));
    await waitFor(() => receiver.received.filter((r) => r.answer === 200).length >= 12, {
      timeoutMillis: 60_000,
      description: '12 pushes acknowledged',
    });
    const binary = receiver.received.filter((r) => !String(r.headers['content-type']).includes('cloudevents'));
    const structured = receiver.received.filter((r) => String(r.headers['content-type']).includes('cloudevents'));
    for (const [mode, requests] of [
      ['binary', binary],
      ['structured', structured],
    ] as const) {
      assert.deepEqual(new Set(requests.map((r) => r.messageId)), kept, `${mode}: the kept messages, once each`);
      assert.equal(requests.length, 6, `${mode}: no redelivery`);
      for (const r of requests) {
        const n = Number(r.attributes.n);
        assert.equal(r.messageId, ids[n]);
        assert.equal(r.data.toString(), `payload ${n} ✓`);
        assert.deepEqual(r.attributes, { kind: 'keep', n: String(n), note: 'ünïcode "quoted" 100%' });
        assert.equal(r.attempt, 1);
        assert.equal(r.event!.type, 'dev.herald.message.v1');
        assert.equal(r.event!.specversion, '1.0');
      }
    }
    assert.match(String(binary[0]!.headers['content-type']), /^application\/octet-stream/);
    for (const r of receiver.received) {
      assert.match(String(r.event!.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/, 'the deliver span travels');
    }
    await waitFor(
      () => readFileSync(f.stack.dispatchers[0]!.options.logFile, 'utf8').includes('deliver push-ack-sub'),
      {
        description: "the dispatcher's deliver spans",
      },
    );
    assert.equal(binary[0]!.event!.source, '//herald/subscriptions/push-ack-sub');

    const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', f.stack.dispatchers[0]!.metricsUrl));
    const { payload } = await jwtVerify(binary[0]!.token, jwks, { issuer: 'https://herald.test', audience: url });
    assert.equal(payload.sub, 'push-ack-sub');
    await assert.rejects(jwtVerify(structured[0]!.token, jwks, { audience: url }), /unexpected "aud" claim value/);

    await waitFor(async () => (await pushStats(f, 'push-ack-sub'))?.succeeded === '6', {
      description: 'stats count 6 successes',
    });
    const stats = await pushStats(f, 'push-ack-sub');
    assert.equal(stats!.state, 'ready');
    assert.equal(stats!.endpoint, url);
  });

  it('nacks a 500 and pushes again after the retry backoff, until a 2xx', async () => {
    await f.createTopic('push-nack', 1);
    await f.createSubscription({
      name: 'push-nack-sub',
      topic: 'push-nack',
      retryPolicy: { minimumBackoff: millisToDuration(1_000), maximumBackoff: millisToDuration(4_000) },
      pushConfig: httpPush(receiver.url('/nack')),
    });
    receiver.respond = (r) => ({ status: r.attempt < 3 ? 500 : 204 });
    const [id] = await f.publish('push-nack', 1);
    await waitFor(() => receiver.acked.has(id!), { timeoutMillis: 60_000, description: 'acked on the third attempt' });
    const attempts = of(receiver.received, id!);
    assert.deepEqual(
      attempts.map((r) => [r.attempt, r.answer]),
      [
        [1, 500],
        [2, 500],
        [3, 204],
      ],
    );
    // min(maximum, minimum × 2^(attempt-1)): 1 s after the first, 2 s after the second (less a tick).
    assert.ok(attempts[1]!.startedAt - attempts[0]!.startedAt >= 950, 'first backoff');
    assert.ok(attempts[2]!.startedAt - attempts[1]!.startedAt >= 1_950, 'second backoff');
    const stats = await pushStats(f, 'push-nack-sub');
    assert.equal(stats!.serverErrors, '2');
    assert.match(stats!.lastError, /HTTP 500/);
  });

  it('pushes again after a request timed out at the ack deadline', async () => {
    await f.createTopic('push-timeout', 1);
    await f.createSubscription({
      name: 'push-timeout-sub',
      topic: 'push-timeout',
      ackDeadlineSeconds: 10,
      retryPolicy: { minimumBackoff: millisToDuration(0), maximumBackoff: millisToDuration(0) },
      pushConfig: httpPush(receiver.url('/timeout')),
    });
    receiver.respond = (r) => (r.attempt === 1 ? { status: 200, delayMillis: 14_000 } : { status: 200 });
    const [id] = await f.publish('push-timeout', 1);
    await waitFor(() => of(receiver.received, id!).some((r) => r.attempt === 2), {
      timeoutMillis: 40_000,
      description: 'the second attempt',
    });
    const [first, second] = of(receiver.received, id!);
    const waited = second!.startedAt - first!.startedAt;
    assert.ok(waited >= 9_900 && waited < 13_000, `pushed again ${waited} ms after the first request`);
    await waitFor(async () => (await pushStats(f, 'push-timeout-sub'))?.timedOut === '1', {
      description: 'one timeout counted',
    });
  });

  it('halves its concurrency on 429 and grows it again on success', async () => {
    await f.createTopic('push-throttle', 2);
    await f.createSubscription({
      name: 'push-throttle-sub',
      topic: 'push-throttle',
      retryPolicy: { minimumBackoff: millisToDuration(100), maximumBackoff: millisToDuration(500) },
      pushConfig: httpPush(receiver.url('/throttle'), { maxOutstanding: 16 }),
    });
    let phase: 'grow' | 'throttle' | 'recover' = 'grow';
    const byPhase = { grow: [] as Received[], throttle: [] as Received[], recover: [] as Received[] };
    receiver.respond = (r) => {
      byPhase[phase].push(r);
      return phase === 'throttle' ? { status: 429, delayMillis: 20 } : { status: 200, delayMillis: 50 };
    };
    const ids = await f.publish('push-throttle', 3_000, (i) => ({ data: Buffer.from(`m${i}`) }), 500);
    await waitFor(() => byPhase.grow.some((r) => r.concurrent >= 16), {
      timeoutMillis: 60_000,
      description: '16 requests in flight',
    });
    phase = 'throttle';
    const throttledFrom = Date.now();
    await waitFor(() => Date.now() - throttledFrom > 3_000, { timeoutMillis: 10_000 });
    const late = byPhase.throttle.filter((r) => r.startedAt - throttledFrom > 1_500);
    assert.ok(late.length > 0, 'requests kept coming while throttled');
    assert.ok(
      Math.max(...late.map((r) => r.concurrent)) <= 2,
      `at most 2 in flight once throttled, saw ${Math.max(...late.map((r) => r.concurrent))}`,
    );
    const throttledStats = await pushStats(f, 'push-throttle-sub');
    assert.ok(Number(throttledStats!.throttled) > 0);
    assert.ok(throttledStats!.concurrency <= 2, `concurrency ${throttledStats!.concurrency} while throttled`);
    phase = 'recover';
    await waitFor(() => byPhase.recover.some((r) => r.concurrent >= 8), {
      timeoutMillis: 60_000,
      description: 'concurrency grown again',
    });
    await waitFor(
      () => {
        const acked = receiver.acked;
        return ids.every((id) => acked.has(id));
      },
      {
        timeoutMillis: 120_000,
        description: 'every message acknowledged',
      },
    );
  });

  it('keeps one request in flight per ordering key, in publish order, across a failed attempt', async () => {
    await f.createTopic('push-ordered', 2);
    await f.createSubscription({
      name: 'push-ordered-sub',
      topic: 'push-ordered',
      enableMessageOrdering: true,
      retryPolicy: { minimumBackoff: millisToDuration(200), maximumBackoff: millisToDuration(200) },
      pushConfig: httpPush(receiver.url('/ordered'), { maxOutstanding: 32 }),
    });
    const keys = ['a', 'b', 'c', 'd'];
    receiver.respond = (r) => ({ status: r.attributes.n === '3' && r.attempt === 1 ? 503 : 200, delayMillis: 20 });
    const ids = await f.publish(
      'push-ordered',
      40,
      (i) => ({ data: Buffer.from(`o${i}`), orderingKey: keys[i % 4]!, attributes: { n: String(i) } }),
      40,
    );
    await waitFor(
      () => {
        const acked = receiver.acked;
        return ids.every((id) => acked.has(id));
      },
      {
        timeoutMillis: 60_000,
        description: 'all 40 acknowledged',
      },
    );
    const mine = receiver.received.filter((r) => ids.includes(r.messageId));
    assert.equal(Math.max(...mine.map((r) => r.concurrentForKey)), 1, 'one in flight per key');
    assert.ok(Math.max(...mine.map((r) => r.concurrent)) > 1, 'keys went in parallel');
    for (const key of keys) {
      const acked = mine.filter((r) => r.orderingKey === key && r.answer === 200).map((r) => Number(r.attributes.n));
      const expected = ids.map((_, i) => i).filter((i) => keys[i % 4] === key);
      assert.deepEqual(acked, expected, `key ${key} in publish order`);
    }
    assert.deepEqual(
      mine.filter((r) => r.attributes.n === '3').map((r) => [r.attempt, r.answer]),
      [
        [1, 503],
        [2, 200],
      ],
    );
  });

  it('dead-letters after max_delivery_attempts; the dead letter carries its origin through StreamingPull', async () => {
    await f.createTopic('push-dead', 1);
    await f.createTopic('push-dead-letters', 1);
    await f.createSubscription({ name: 'push-dead-letters-sub', topic: 'push-dead-letters' });
    await f.createSubscription({
      name: 'push-dead-sub',
      topic: 'push-dead',
      retryPolicy: { minimumBackoff: millisToDuration(0), maximumBackoff: millisToDuration(100) },
      deadLetterPolicy: { deadLetterTopic: 'push-dead-letters', maxDeliveryAttempts: 5 },
      pushConfig: httpPush(receiver.url('/dead')),
    });
    receiver.respond = () => ({ status: 500 });
    const stream = new PullStream(f.dispatchers[0]!, { subscription: 'push-dead-letters-sub' });
    try {
      const [id] = await f.publish('push-dead', 1, () => ({ data: Buffer.from('poison'), attributes: { p: '1' } }));
      await waitFor(() => stream.deliveries.length >= 1, { timeoutMillis: 60_000, description: 'the dead letter' });
      assert.deepEqual(
        of(receiver.received, id!).map((r) => r.attempt),
        [1, 2, 3, 4, 5],
      );
      const dead = stream.deliveries[0]!.message;
      assert.equal(dead.data.toString(), 'poison');
      assert.equal(dead.attributes.p, '1');
      assert.equal(dead.attributes['herald-dead-letter-subscription'], 'push-dead-sub');
      assert.equal(dead.attributes['herald-dead-letter-attempts'], '5');
      assert.equal(dead.attributes['herald-dead-letter-message-id'], id);
      assert.ok(dead.attributes['herald-dead-letter-publish-time']);
    } finally {
      stream.close();
    }
  });

  it('pushes over gRPC to a PushEndpointService; a status other than OK nacks', async () => {
    await f.createTopic('push-grpc', 1);
    const target = `grpc://127.0.0.1:${grpcReceiver.port}`;
    await f.createSubscription({
      name: 'push-grpc-sub',
      topic: 'push-grpc',
      retryPolicy: { minimumBackoff: millisToDuration(100), maximumBackoff: millisToDuration(100) },
      pushConfig: { endpoint: { $case: 'grpc', value: { target } }, maxOutstanding: 4 },
    });
    grpcReceiver.respond = (r) => ({
      status: r.attempt === 1 && r.attributes.n === '0' ? status.UNAVAILABLE : status.OK,
    });
    const ids = await f.publish('push-grpc', 3, (i) => ({
      data: Buffer.from(`g${i}`),
      attributes: { n: String(i) },
      orderingKey: 'k',
    }));
    await waitFor(() => ids.every((id) => grpcReceiver.received.some((r) => r.messageId === id && r.answer === 0)), {
      timeoutMillis: 60_000,
      description: 'three gRPC pushes answered OK',
    });
    const first = of(grpcReceiver.received, ids[0]!);
    assert.deepEqual(
      first.map((r) => [r.attempt, r.answer]),
      [
        [1, status.UNAVAILABLE],
        [2, status.OK],
      ],
    );
    assert.equal(first[1]!.data.toString(), 'g0');
    assert.equal(first[1]!.orderingKey, 'k');
    const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', f.stack.dispatchers[0]!.metricsUrl));
    const { payload } = await jwtVerify(first[0]!.token, jwks, { audience: target, issuer: 'https://herald.test' });
    assert.equal(payload.sub, 'push-grpc-sub');
    const stats = await pushStats(f, 'push-grpc-sub');
    assert.equal(stats!.networkErrors, '1');
  });

  it('switches pull to push to pull with UpdateSubscription', async () => {
    await f.createTopic('push-switch', 1);
    await f.createSubscription({ name: 'push-switch-sub', topic: 'push-switch' });
    const update = (pushConfig: PushConfig | undefined) =>
      rpc(f.registry, f.registry.updateSubscription, {
        subscription: Subscription.fromPartial({ name: 'push-switch-sub', pushConfig }),
        updateMask: ['push_config'],
      });
    const pull = new PullStream(f.dispatchers[0]!, { subscription: 'push-switch-sub' });
    const [pulled] = await f.publish('push-switch', 1, () => ({ data: Buffer.from('pulled') }));
    await waitFor(() => pull.acked.has(pulled!), { description: 'pulled and acked' });
    pull.close();

    const updated = await update(httpPush(receiver.url('/switch')));
    assert.equal(updated.subscription?.pushConfig?.endpoint?.$case, 'http');
    const [pushed] = await f.publish('push-switch', 1, () => ({ data: Buffer.from('pushed') }));
    await waitFor(() => receiver.acked.has(pushed!), { timeoutMillis: 60_000, description: 'pushed' });

    const back = await update(undefined);
    assert.equal(back.subscription?.pushConfig, undefined);
    await waitFor(async () => (await pushStats(f, 'push-switch-sub')) === undefined, {
      description: 'no longer pushed',
    });
    const [pulledAgain] = await f.publish('push-switch', 1, () => ({ data: Buffer.from('pulled again') }));
    const again = new PullStream(f.dispatchers[0]!, { subscription: 'push-switch-sub' });
    try {
      await waitFor(() => again.acked.has(pulledAgain!), { timeoutMillis: 30_000, description: 'pulled again' });
      assert.equal(of(receiver.received, pulledAgain!).length, 0, 'not pushed once switched back');
      assert.ok(!again.messageIds.has(pulled!) && !again.messageIds.has(pushed!), 'nothing acknowledged came back');
    } finally {
      again.close();
    }
  });

  it('refuses an invalid push configuration with INVALID_ARGUMENT', async () => {
    await f.createTopic('push-invalid', 1);
    const error = await f
      .createSubscription({ name: 'push-invalid-sub', topic: 'push-invalid', pushConfig: httpPush('ftp://x.example/') })
      .then(
        () => undefined,
        (e: ServiceError) => e,
      );
    assert.equal(error?.code, status.INVALID_ARGUMENT);
    assert.match(error!.details, /subscription\.push_config\.http\.endpoint/);
  });
});

describe('push SSRF guard (real Kafka and services)', function () {
  this.timeout(180_000);
  let f: DispatchFixture;
  let receiver: HttpReceiver;

  before(async () => {
    receiver = await HttpReceiver.start();
    // The registry takes the endpoint (a host name, not a literal address); the dispatcher is not allowed private ones.
    f = await startDispatchFixture(
      'push-ssrf',
      {},
      {
        instances: one,
        serviceEnv: {
          'subscriber-registry': { REGISTRY_PUSH_ALLOW_INSECURE: 'true', REGISTRY_PUSH_ALLOW_PRIVATE: 'true' },
        },
      },
    );
  });
  after(async () => {
    await f?.close();
    await receiver?.close();
  });

  it('sends nothing to an endpoint resolving to loopback, and says so in its log, stats and metrics', async () => {
    await f.createTopic('ssrf', 1);
    await f.createSubscription({
      name: 'ssrf-sub',
      topic: 'ssrf',
      pushConfig: httpPush(`http://localhost:${receiver.port}/push`),
    });
    const stats = await waitFor(
      async () => {
        const push = await pushStats(f, 'ssrf-sub');
        return push?.state === 'refused' ? push : undefined;
      },
      { timeoutMillis: 60_000, description: 'the endpoint refused' },
    );
    assert.ok(Number(stats.refused) >= 1);
    assert.match(stats.lastError, /resolves to (127\.0\.0\.1|::1).*DISPATCHER_PUSH_ALLOW_PRIVATE/);
    await f.publish('ssrf', 3);
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(f.stack.dispatchers[0]!.metricsUrl)).text();
        return /herald_subscription_backlog_messages\{subscription="ssrf-sub"\} 3/.test(text) ? text : undefined;
      },
      { description: 'the backlog of 3 in the metrics' },
    );
    assert.match(metrics, /herald_subscription_push_refused\{subscription="ssrf-sub"\} 1/);
    assert.match(metrics, /herald_subscription_deliveries_total\{subscription="ssrf-sub"\} 0/);
    assert.equal(receiver.received.length, 0, 'nothing reached the receiver');
    const log = readFileSync(f.stack.dispatchers[0]!.options.logFile, 'utf8');
    assert.match(log, /"subscription":"ssrf-sub".*"msg":"push endpoint refused"/);
  });
});
