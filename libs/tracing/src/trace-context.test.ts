import assert from 'node:assert/strict';
import { Metadata } from '@grpc/grpc-js';
import { TraceFlags, createTraceState, trace } from '@opentelemetry/api';
import { formatTraceparent, remoteParent, traceHeadersFromMetadata, traceHeadersOf } from './trace-context';

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('W3C trace context', () => {
  it('reads a traceparent and tracestate into a remote parent, and writes them back the same', () => {
    const parent = remoteParent(traceparent, 'vendor=abc,other=1');
    assert.ok(parent);
    const spanContext = trace.getSpanContext(parent)!;
    assert.equal(spanContext.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(spanContext.spanId, '00f067aa0ba902b7');
    assert.equal(spanContext.traceFlags, TraceFlags.SAMPLED);
    assert.equal(spanContext.isRemote, true);
    assert.deepEqual(traceHeadersOf(spanContext), { traceparent, tracestate: 'vendor=abc,other=1' });
  });

  it('keeps an unsampled flag unsampled', () => {
    const unsampled = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    const spanContext = trace.getSpanContext(remoteParent(unsampled)!)!;
    assert.equal(spanContext.traceFlags, TraceFlags.NONE);
    assert.equal(formatTraceparent(spanContext), unsampled);
  });

  it('ignores what is not a valid traceparent, as the specification says', () => {
    for (const bad of [
      '',
      'garbage',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7', // no flags
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // zero span id
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // forbidden version
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
    ]) {
      assert.equal(remoteParent(bad), undefined, JSON.stringify(bad));
    }
    assert.equal(remoteParent(undefined), undefined);
  });

  it('writes no tracestate for a span without one', () => {
    const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
    assert.deepEqual(traceHeadersOf(spanContext), { traceparent, tracestate: undefined });
    assert.deepEqual(traceHeadersOf({ ...spanContext, traceState: createTraceState('') }), {
      traceparent,
      tracestate: undefined,
    });
  });

  it('finds the context a gRPC client sent in its metadata', () => {
    const metadata = new Metadata();
    assert.equal(traceHeadersFromMetadata(metadata), undefined);
    metadata.set('traceparent', 'not-a-traceparent');
    assert.equal(traceHeadersFromMetadata(metadata), undefined, 'an invalid one is ignored');
    metadata.set('traceparent', traceparent);
    assert.deepEqual(traceHeadersFromMetadata(metadata), { traceparent, tracestate: undefined });
    metadata.add('tracestate', 'a=1');
    metadata.add('tracestate', 'b=2');
    assert.deepEqual(traceHeadersFromMetadata(metadata), { traceparent, tracestate: 'a=1,b=2' });
  });
});
