import assert from 'node:assert/strict';
import { readTracingConfig } from './config';

describe('readTracingConfig', () => {
  it('is off with nothing set: no exporter, no endpoint', () => {
    const config = readTracingConfig({});
    assert.equal(config.enabled, false);
  });

  it('is on once an OTLP endpoint is set, posting to its /v1/traces', () => {
    const config = readTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
    assert.ok(config.enabled);
    assert.deepEqual(config.exporters, ['otlp']);
    assert.equal(config.otlpTracesUrl, 'http://collector:4318/v1/traces');
    assert.equal(config.otlpProtocol, 'http/protobuf');
    assert.equal(config.sampler, 'parentbased_always_on');
  });

  it('takes the traces endpoint as it is, before the general one', () => {
    const config = readTracingConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:9999/custom',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    });
    assert.ok(config.enabled);
    assert.equal(config.otlpTracesUrl, 'http://other:9999/custom');
    assert.equal(config.otlpProtocol, 'http/json');
  });

  it('is on with OTEL_TRACES_EXPORTER=otlp alone, at the default local endpoint', () => {
    const config = readTracingConfig({ OTEL_TRACES_EXPORTER: 'otlp' });
    assert.ok(config.enabled);
    assert.equal(config.otlpTracesUrl, 'http://localhost:4318/v1/traces');
  });

  it('is off when disabled or when the exporter is none, whatever else is set', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.equal(readTracingConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).enabled, false);
    assert.equal(readTracingConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).enabled, false);
    assert.equal(readTracingConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'otlp,none' }).enabled, false);
    assert.equal(readTracingConfig({ ...endpoint, OTEL_SDK_DISABLED: 'false' }).enabled, true);
  });

  it('reads the sampler, its ratio and the batch processor settings', () => {
    const config = readTracingConfig({
      OTEL_TRACES_EXPORTER: 'console',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '512',
      OTEL_SERVICE_NAME: 'edge-publisher',
    });
    assert.ok(config.enabled);
    assert.deepEqual(config.exporters, ['console']);
    assert.equal(config.sampler, 'parentbased_traceidratio');
    assert.equal(config.samplerRatio, 0.25);
    assert.equal(config.batch.scheduledDelayMillis, 200);
    // A batch never exceeds the queue.
    assert.equal(config.batch.maxExportBatchSize, 100);
    assert.equal(config.serviceName, 'edge-publisher');
  });

  it('names every variable it cannot act on', () => {
    assert.throws(
      () =>
        readTracingConfig({
          OTEL_TRACES_EXPORTER: 'otlp,zipkin',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_TRACES_SAMPLER: 'sometimes',
          OTEL_BSP_SCHEDULE_DELAY: 'soon',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        }),
      (error: Error) => {
        for (const name of [
          'OTEL_TRACES_EXPORTER: "zipkin"',
          'OTEL_EXPORTER_OTLP_PROTOCOL: "grpc"',
          'OTEL_TRACES_SAMPLER: "sometimes"',
          'OTEL_BSP_SCHEDULE_DELAY: "soon"',
          'OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318/v1/traces"',
        ]) {
          assert.ok(error.message.includes(name), `${error.message} should name ${name}`);
        }
        return true;
      },
    );
    assert.throws(
      () =>
        readTracingConfig({
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_TRACES_SAMPLER: 'traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '2',
        }),
      /OTEL_TRACES_SAMPLER_ARG: "2" is not a ratio/,
    );
  });
});
