import assert from 'node:assert/strict';
import { type Message, StreamingPullResponse } from '@herald/api';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { Publisher } from './publisher';
import type { ReceivedMessage } from './received-message';
import { Subscriber } from './subscriber';
import type { PullCall } from './subscriber/message-stream';
import { FakePullCall } from './testing/fake-pull-call';
import { TraceAttribute, activeTracer, parseTraceContext, splitTraceAttributes, traceAttributesOf } from './tracing';

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** A Publisher whose batches are kept instead of sent. */
function capturingPublisher() {
  const sent: Message[] = [];
  class TestPublisher extends Publisher {
    protected override async publishBatch(_topic: string, messages: Message[]): Promise<string[]> {
      sent.push(...messages);
      return messages.map((_, i) => `id-${sent.length - messages.length + i}`);
    }
  }
  return { publisher: new TestPublisher({ endpoints: ['127.0.0.1:1'] }), sent };
}

/** A Subscriber on a fake stream. */
function fakeSubscriber() {
  const calls: FakePullCall[] = [];
  class TestSubscriber extends Subscriber {
    protected override openStream(): PullCall {
      const call = new FakePullCall();
      calls.push(call);
      return call;
    }
  }
  const subscriber = new TestSubscriber({ endpoints: ['127.0.0.1:1'], subscription: 'orders-audit' });
  return { subscriber, calls };
}

describe('SDK tracing: W3C context in message attributes', () => {
  it('writes a span context as herald-traceparent (and tracestate) and reads it back', () => {
    const spanContext = parseTraceContext(traceparent, 'vendor=abc')!;
    assert.equal(spanContext.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(spanContext.isRemote, true);
    assert.deepEqual(traceAttributesOf(spanContext), {
      [TraceAttribute.traceparent]: traceparent,
      [TraceAttribute.tracestate]: 'vendor=abc',
    });
  });

  it('refuses what the specification calls invalid', () => {
    for (const bad of [
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    ]) {
      assert.equal(parseTraceContext(bad), undefined, bad);
    }
    // A later version may add fields after the four it shares with 00.
    assert.ok(parseTraceContext('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra'));
  });

  it("splits Herald's trace attributes from the application's, returning untraced attributes as they are", () => {
    const plain = { region: 'eu' };
    assert.equal(splitTraceAttributes(plain).attributes, plain);
    assert.equal(splitTraceAttributes(plain).trace, undefined);
    const split = splitTraceAttributes({ region: 'eu', [TraceAttribute.traceparent]: traceparent });
    assert.deepEqual(split, { attributes: { region: 'eu' }, trace: { traceparent } });
  });
});

describe('SDK tracing without an OpenTelemetry SDK registered', () => {
  it('makes no span and adds no attribute', async () => {
    assert.equal(activeTracer(), undefined);
    const { publisher, sent } = capturingPublisher();
    await publisher.publish('orders', { data: 'a', attributes: { region: 'eu' } });
    await publisher.close();
    assert.deepEqual(sent[0]!.attributes, { region: 'eu' });
  });
});

describe('SDK tracing with an OpenTelemetry SDK registered', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  before(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  after(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });
  beforeEach(() => exporter.reset());

  it("publishes each message under a 'publish <topic>' span, a child of the caller's, whose context the message carries", async () => {
    const { publisher, sent } = capturingPublisher();
    const tracer = trace.getTracer('app');
    const caller = tracer.startSpan('handle request');
    const id = await context.with(trace.setSpan(context.active(), caller), () =>
      publisher.publish('orders', { data: 'a', attributes: { region: 'eu' }, orderingKey: 'k' }),
    );
    caller.end();
    await publisher.close();

    const [span] = exporter.getFinishedSpans().filter((s) => s.name === 'publish orders');
    assert.ok(span, 'a publish span');
    assert.equal(span.kind, SpanKind.PRODUCER);
    assert.equal(span.parentSpanContext?.spanId, caller.spanContext().spanId);
    assert.equal(span.spanContext().traceId, caller.spanContext().traceId);
    assert.equal(span.attributes['messaging.system'], 'herald');
    assert.equal(span.attributes['messaging.destination.name'], 'orders');
    assert.equal(span.attributes['messaging.message.id'], id);
    assert.equal(span.attributes['messaging.herald.message.ordering_key'], 'k');
    assert.deepEqual(sent[0]!.attributes, {
      region: 'eu',
      [TraceAttribute.traceparent]: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
    });
  });

  it("runs a listener inside a 'process <subscription>' span under the delivery's context, ended by the ack", async () => {
    const { subscriber, calls } = fakeSubscriber();
    const seen: Array<{ message: ReceivedMessage; activeSpanId: string | undefined }> = [];
    subscriber.on('message', (message) => {
      seen.push({ message, activeSpanId: trace.getActiveSpan()?.spanContext().spanId });
    });
    subscriber.start();
    await new Promise((resolve) => setImmediate(resolve));
    calls[0]!.emit(
      'data',
      StreamingPullResponse.fromPartial({
        receivedMessages: [
          {
            ackId: 'a1',
            messageId: 'm1',
            deliveryAttempt: 2,
            attributes: { region: 'eu', [TraceAttribute.traceparent]: traceparent },
          },
        ],
      }),
    );
    assert.equal(seen.length, 1);
    const { message, activeSpanId } = seen[0]!;
    assert.deepEqual(message.attributes, { region: 'eu' }, "Herald's attributes are not the application's");
    assert.deepEqual(message.traceContext, { traceparent });
    assert.equal(exporter.getFinishedSpans().length, 0, 'open until settled');
    message.ack();
    const [span] = exporter.getFinishedSpans();
    assert.ok(span);
    assert.equal(span.name, 'process orders-audit');
    assert.equal(span.kind, SpanKind.CONSUMER);
    assert.equal(span.spanContext().spanId, activeSpanId, 'the listener ran inside it');
    assert.equal(span.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(span.parentSpanContext?.spanId, '00f067aa0ba902b7');
    assert.equal(span.attributes['messaging.message.id'], 'm1');
    assert.equal(span.attributes['messaging.herald.message.delivery_attempt'], 2);
    assert.equal(span.attributes['messaging.herald.settlement'], 'ack');
    await subscriber.close();
  });
});
