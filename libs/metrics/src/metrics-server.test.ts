import assert from 'node:assert/strict';
import { silentLogger } from '@herald/logging';
import { Counter } from 'prom-client';
import { serveMetrics } from './metrics-server';
import { createMetricsRegistry } from './registry';

describe('serveMetrics', () => {
  it('serves the registry as Prometheus text at /metrics, with the process defaults, and 404 elsewhere', async () => {
    const registry = createMetricsRegistry({ service: 'test', enabled: true });
    const counter = new Counter({ name: 'test_things_total', help: 'things', registers: [registry] });
    counter.inc(3);
    const server = await serveMetrics(registry, { host: '127.0.0.1', port: 0, logger: silentLogger() });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await response.text();
      assert.match(text, /^test_things_total 3$/m);
      assert.match(text, /^herald_build_info\{service="test",version="0.1.0",node_version="v[\d.]+"\} 1$/m);
      assert.match(text, /^process_cpu_seconds_total /m);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
    } finally {
      await server.close();
    }
  });

  it('serves extra documents at their paths, their body read per request', async () => {
    const registry = createMetricsRegistry({ service: 'test', enabled: false });
    let keys = 1;
    const server = await serveMetrics(registry, {
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger(),
      routes: { '/.well-known/jwks.json': { contentType: 'application/json', body: () => `{"keys":${keys}}` } },
    });
    try {
      const url = `http://127.0.0.1:${server.port}/.well-known/jwks.json`;
      const response = await fetch(url);
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.equal(await response.text(), '{"keys":1}');
      keys = 2;
      assert.equal(await (await fetch(url)).text(), '{"keys":2}');
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/__proto__`)).status, 404);
      assert.equal((await fetch(url, { method: 'POST' })).status, 404);
    } finally {
      await server.close();
    }
  });

  it('collects nothing in the background when metrics are off', async () => {
    const registry = createMetricsRegistry({ service: 'test', enabled: false });
    assert.equal((await registry.getMetricsAsJSON()).length, 0);
  });
});
