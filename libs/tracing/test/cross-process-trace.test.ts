import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Metadata, credentials } from '@grpc/grpc-js';
import { PublisherServiceClient, type PublishResponse } from '@herald/api';
import { Admin, Publisher, type ReceivedMessage, Subscriber } from '@herald/client';
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { readKafkaTopic, testKafka, uniqueName, waitFor } from '@herald/testkit';
import { type Tracing, startTracing, trace } from '../src';
import { OtlpKind, OtlpReceiver, type ReceivedSpan } from './otlp-receiver';

/** What a message's handler saw. */
interface Handled {
  message: ReceivedMessage;
  activeTraceId: string | undefined;
  activeSpanId: string | undefined;
}

/** Subscribes, and keeps every message (acked at once) with the span active in its handler. */
function collect(endpoints: string[], subscription: string): { subscriber: Subscriber; handled: Handled[] } {
  const subscriber = new Subscriber({ endpoints, subscription });
  const handled: Handled[] = [];
  subscriber.on('message', (message) => {
    const active = trace.getActiveSpan()?.spanContext();
    handled.push({ message, activeTraceId: active?.traceId, activeSpanId: active?.spanId });
    message.ack();
  });
  return { subscriber, handled };
}

/** Publishes one message over the raw generated client, with a W3C traceparent in the call's metadata: what any gRPC client (the Python one) does. */
function publishWithMetadata(address: string, topic: string, traceparent: string, data: string): Promise<string> {
  const client = new PublisherServiceClient(address, credentials.createInsecure());
  const metadata = new Metadata();
  metadata.set('traceparent', traceparent);
  return new Promise<string>((resolve, reject) =>
    client.publish(
      {
        topic,
        messages: [{ data: Buffer.from(data), attributes: { via: 'metadata' }, orderingKey: '', idempotencyKey: '' }],
      },
      metadata,
      { deadline: Date.now() + 30_000 },
      (error: Error | null, response?: PublishResponse) => {
        client.close();
        if (error) reject(error);
        else resolve(response!.messageIds[0]!);
      },
    ),
  );
}

const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Log lines of a service's log file, parsed. */
function logLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('Traces across processes: SDK → publisher → Kafka → dispatcher → SDK (real Kafka and services)', function () {
  this.timeout(240_000);
  let receiver: OtlpReceiver;
  let stack: HeraldStack;
  let tracing: Tracing;
  let admin: Admin;
  let publisher: Publisher;
  let prefix: string;
  const subscribers: Subscriber[] = [];

  before(async () => {
    receiver = await OtlpReceiver.start();
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    prefix = `${uniqueName('traces')}.`;
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: { HERALD_TOPIC_PREFIX: prefix, ...otel },
      // Debug lines are the ones written for every traced publish and delivery.
      serviceEnv: { publisher: { LOG_LEVEL: 'debug' }, dispatcher: { LOG_LEVEL: 'debug' } },
    });
    // This process is the application: it registers an OpenTelemetry SDK, which the Herald SDK then uses.
    tracing = startTracing({
      service: 'test-app',
      instanceId: 'mocha',
      logger: { info: () => {}, warn: (fields, message) => console.log(`      [tracing] ${message}`, fields) },
      env: otel,
    });
    admin = new Admin({ endpoints: stack.registries.map((p) => p.address) });
    publisher = new Publisher({ endpoints: stack.publishers.map((p) => p.address) });
  });

  after(async () => {
    await Promise.all(subscribers.map((s) => s.close()));
    await publisher?.close();
    admin?.close();
    await tracing?.shutdown();
    await stack?.stop();
    await receiver?.close();
  });

  /** A fresh topic and a subscription of it, and a subscriber collecting what it receives. */
  async function topicWithSubscriber(name: string) {
    const topic = uniqueName(`${name}-topic`);
    const subscription = uniqueName(`${name}-sub`);
    await admin.createTopic({ name: topic, partitions: 1 });
    await admin.createSubscription({ name: subscription, topic });
    const { subscriber, handled } = collect(
      stack.dispatchers.map((p) => p.address),
      subscription,
    );
    subscribers.push(subscriber);
    return { topic, subscription, handled };
  }

  /** Waits until the receiver holds a trace's spans of these names. */
  async function spansOf(traceId: string, names: string[]): Promise<Map<string, ReceivedSpan>> {
    const found = () => new Map(receiver.trace(traceId).map((span) => [span.name, span]));
    try {
      return await waitFor(() => (names.every((name) => found().has(name)) ? found() : undefined), {
        timeoutMillis: 30_000,
      });
    } catch {
      const have = receiver.spans.map((s) => `${s.service}/${s.name} (trace ${s.traceId})`);
      throw new Error(
        `trace ${traceId} lacks some of ${names.join(', ')} after 30 s; received: ${have.join(', ') || 'nothing'}; refused exports: ${receiver.refused.join('; ') || 'none'}`,
      );
    }
  }

  it('follows a message published and received through the SDK in one trace, across all three processes', async () => {
    const { topic, subscription, handled } = await topicWithSubscriber('sdk');
    const id = await publisher.publish(topic, { data: 'traced', attributes: { region: 'eu' } });
    const { message, activeTraceId, activeSpanId } = await waitFor(() => handled.find((h) => h.message.id === id), {
      timeoutMillis: 60_000,
      description: `delivery of ${id}`,
    });

    // The trace began at the SDK's publish; all four spans are in it.
    const traceId = activeTraceId!;
    const spans = await spansOf(traceId, [
      `publish ${topic}`,
      `send ${topic}`,
      `deliver ${subscription}`,
      `process ${subscription}`,
    ]);
    const publish = spans.get(`publish ${topic}`)!;
    const send = spans.get(`send ${topic}`)!;
    const deliver = spans.get(`deliver ${subscription}`)!;
    const process_ = spans.get(`process ${subscription}`)!;

    // One chain of parents: SDK publish → publisher's send → (Kafka) → dispatcher's delivery → SDK process.
    assert.equal(publish.parentSpanId, '', 'the publish starts the trace');
    assert.equal(send.parentSpanId, publish.spanId);
    assert.equal(deliver.parentSpanId, send.spanId);
    assert.equal(process_.parentSpanId, deliver.spanId);
    assert.deepEqual(
      [publish.kind, send.kind, deliver.kind, process_.kind],
      [OtlpKind.producer, OtlpKind.producer, OtlpKind.consumer, OtlpKind.consumer],
    );

    // Three processes: this one, the publisher and the dispatcher, each under its own service name.
    assert.deepEqual(
      [publish.service, send.service, deliver.service, process_.service],
      ['herald-test-app', 'herald-publisher', 'herald-dispatcher', 'herald-test-app'],
    );
    assert.deepEqual(
      [publish.pid, send.pid, deliver.pid],
      [process.pid, stack.publishers[0]!.pid, stack.dispatchers[0]!.pid],
    );

    // Messaging attributes name the message, its topic and subscription.
    for (const span of [publish, send, deliver, process_]) {
      assert.equal(span.attributes['messaging.system'], 'herald', span.name);
      assert.equal(span.attributes['messaging.message.id'], id, span.name);
      assert.equal(span.statusCode, 0, `${span.name} is not an error`);
    }
    assert.equal(publish.attributes['messaging.destination.name'], topic);
    assert.equal(send.attributes['messaging.destination.name'], topic);
    assert.equal(deliver.attributes['messaging.destination.subscription.name'], subscription);
    assert.equal(deliver.attributes['messaging.herald.message.delivery_attempt'], 1);
    assert.equal(process_.attributes['messaging.herald.settlement'], 'ack');

    // The handler ran inside the process span; Herald's trace attributes are not the application's.
    assert.equal(activeSpanId, process_.spanId);
    assert.deepEqual(message.attributes, { region: 'eu' });
    assert.equal(message.traceContext?.traceparent, `00-${traceId}-${deliver.spanId}-01`);

    // In Kafka, the record carries the publisher span's context in a header, and no trace attribute.
    const [record] = await readKafkaTopic(testKafka().brokers, `${prefix}${topic}`, 1);
    assert.ok(record, 'the record in Kafka');
    const headers = Object.fromEntries(
      Object.entries(record.message.headers ?? {}).map(([name, value]) => [name, String(value)]),
    );
    assert.equal(headers['herald-traceparent'], `00-${traceId}-${send.spanId}-01`);
    assert.equal(headers.region, 'eu');

    // Log lines written while the message was handled name its trace.
    const published = logLines(stack.publishers[0]!.options.logFile).find(
      (line) => line.msg === 'published' && line.trace_id === traceId,
    );
    assert.ok(published, 'a publisher log line with the trace id');
    assert.equal(published.span_id, send.spanId);
    const delivered = logLines(stack.dispatchers[0]!.options.logFile).find(
      (line) => line.msg === 'delivered' && line.trace_id === traceId,
    );
    assert.ok(delivered, 'a dispatcher log line with the trace id');
    assert.equal(delivered.span_id, deliver.spanId);
    assert.equal(delivered.messageId, id);
  });

  it('joins the trace a client without the SDK sends in gRPC metadata (as the Python client does)', async () => {
    const { topic, subscription, handled } = await topicWithSubscriber('meta');
    const callerTraceId = randomHex(16);
    const callerSpanId = randomHex(8);
    const id = await publishWithMetadata(
      stack.publishers[0]!.address,
      topic,
      `00-${callerTraceId}-${callerSpanId}-01`,
      'from another language',
    );
    const { activeTraceId } = await waitFor(() => handled.find((h) => h.message.id === id), {
      timeoutMillis: 60_000,
      description: `delivery of ${id}`,
    });
    assert.equal(activeTraceId, callerTraceId, "the subscriber's handler runs in the caller's trace");
    const spans = await spansOf(callerTraceId, [`send ${topic}`, `deliver ${subscription}`, `process ${subscription}`]);
    assert.equal(spans.get(`send ${topic}`)!.parentSpanId, callerSpanId);
    assert.equal(spans.get(`send ${topic}`)!.attributes['rpc.method'], 'Publish');
    assert.equal(spans.get(`deliver ${subscription}`)!.parentSpanId, spans.get(`send ${topic}`)!.spanId);
    assert.equal(spans.get(`process ${subscription}`)!.parentSpanId, spans.get(`deliver ${subscription}`)!.spanId);
  });
});

describe('Traces off (no OTEL_* variables): nothing added, a caller’s context passed on as it is', function () {
  this.timeout(240_000);
  let stack: HeraldStack;
  let admin: Admin;
  let publisher: Publisher;
  let subscriber: Subscriber | undefined;
  let prefix: string;

  before(async () => {
    prefix = `${uniqueName('untraced')}.`;
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: { HERALD_TOPIC_PREFIX: prefix },
    });
    admin = new Admin({ endpoints: stack.registries.map((p) => p.address) });
    publisher = new Publisher({ endpoints: stack.publishers.map((p) => p.address) });
  });

  after(async () => {
    await subscriber?.close();
    await publisher?.close();
    admin?.close();
    await stack?.stop();
  });

  it('writes no trace header for an untraced publish, and hands a traceparent from metadata on unchanged', async () => {
    assert.equal(trace.getActiveSpan(), undefined);
    const topic = uniqueName('off-topic');
    const subscription = uniqueName('off-sub');
    await admin.createTopic({ name: topic, partitions: 1 });
    await admin.createSubscription({ name: subscription, topic });
    const collected = collect(
      stack.dispatchers.map((p) => p.address),
      subscription,
    );
    subscriber = collected.subscriber;

    const plainId = await publisher.publish(topic, { data: 'plain', attributes: { region: 'eu' } });
    const callerTraceparent = `00-${randomHex(16)}-${randomHex(8)}-01`;
    const relayedId = await publishWithMetadata(stack.publishers[0]!.address, topic, callerTraceparent, 'relayed');

    const records = await readKafkaTopic(testKafka().brokers, `${prefix}${topic}`, 2);
    const headersOf = (id: string) => {
      const record = records.find((r) => String(r.message.headers?.['herald-message-id']) === id);
      assert.ok(record, `record of ${id}`);
      return Object.fromEntries(Object.entries(record.message.headers ?? {}).map(([k, v]) => [k, String(v)]));
    };
    assert.equal('herald-traceparent' in headersOf(plainId), false, 'no header without a trace');
    assert.equal(headersOf(relayedId)['herald-traceparent'], callerTraceparent, "the caller's context, as it came");

    await waitFor(() => collected.handled.length >= 2, { timeoutMillis: 60_000, description: 'both deliveries' });
    const plain = collected.handled.find((h) => h.message.id === plainId)!;
    const relayed = collected.handled.find((h) => h.message.id === relayedId)!;
    assert.deepEqual(plain.message.attributes, { region: 'eu' });
    assert.equal(plain.message.traceContext, undefined);
    assert.equal(plain.activeSpanId, undefined, 'no span without an OpenTelemetry SDK');
    assert.deepEqual(relayed.message.attributes, { via: 'metadata' });
    assert.deepEqual(relayed.message.traceContext, { traceparent: callerTraceparent });
  });
});
