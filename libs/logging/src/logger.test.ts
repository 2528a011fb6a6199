import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { createLogger } from './logger';

/** A logger writing its lines into an array, synchronously. */
function capturingLogger(): { logger: ReturnType<typeof createLogger>; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ service: 'test', instance: 'test-1', destination }), lines };
}

describe('createLogger', () => {
  const manager = new AsyncLocalStorageContextManager();
  before(() => context.setGlobalContextManager(manager.enable()));
  after(() => context.disable());

  it('names the active span of a traced call on each line, and nothing outside one', async () => {
    const { logger, lines } = capturingLogger();
    const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
    logger.info({ before: true }, 'outside');
    await context.with(trace.setSpanContext(ROOT_CONTEXT, spanContext), async () => {
      await new Promise((resolve) => setImmediate(resolve));
      logger.info({ topic: 'orders' }, 'inside');
    });
    logger.info('after');
    await new Promise((resolve) => setImmediate(resolve));
    const [outside, inside, after] = lines;
    assert.equal(outside!.trace_id, undefined);
    assert.equal(outside!.before, true);
    assert.equal(inside!.trace_id, spanContext.traceId);
    assert.equal(inside!.span_id, spanContext.spanId);
    assert.equal(inside!.topic, 'orders');
    assert.equal(inside!.msg, 'inside');
    assert.equal(after!.trace_id, undefined);
    assert.equal(after!.span_id, undefined);
  });
});
