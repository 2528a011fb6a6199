import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP } from 'cloudevents';
import type { Delivery } from '../domain/delivery-engine';
import { EndpointGuard } from './endpoint-guard';
import { HttpPush, cloudEventOf, percentEncoded } from './http-push';
import { PushTokens } from './push-token';

function delivery(overrides: Partial<Delivery['message']> = {}, attempt = 1): Delivery {
  return {
    ackId: 'a',
    deliveryAttempt: attempt,
    message: {
      partition: 0,
      offset: 7,
      messageId: 'msg-1',
      data: Buffer.from([0, 1, 2, 255]),
      attributes: { region: 'eu', note: 'naïve "x" 50%' },
      orderingKey: 'key 1',
      idempotencyKey: '',
      publishTimeMillis: Date.UTC(2026, 0, 2, 3, 4, 5),
      size: 10,
      ...overrides,
    },
  };
}

describe('cloudEventOf', () => {
  it('binary mode: the payload is the body, the rest ce-* headers, percent-encoded where the binding says', () => {
    const { headers, body } = cloudEventOf(delivery({}, 3), 'orders-push', 'binary');
    assert.deepEqual(body, Buffer.from([0, 1, 2, 255]));
    assert.equal(headers['content-type'], 'application/octet-stream');
    assert.equal(headers['ce-id'], 'msg-1');
    assert.equal(headers['ce-source'], '//herald/subscriptions/orders-push');
    assert.equal(headers['ce-type'], 'dev.herald.message.v1');
    assert.equal(headers['ce-time'], '2026-01-02T03:04:05.000Z');
    assert.equal(headers['ce-heraldattempt'], '3');
    assert.equal(headers['ce-heraldorderingkey'], 'key%201');
    for (const value of Object.values(headers))
      assert.match(value, /^[\x21-\x7e]*$/, 'header values are printable ASCII');
    assert.deepEqual(JSON.parse(decodeURIComponent(headers['ce-heraldattributes']!)), {
      region: 'eu',
      note: 'naïve "x" 50%',
    });
    const event = HTTP.toEvent({ headers, body });
    assert.equal(event.constructor.name, 'CloudEvent');
  });

  it('structured mode: one JSON document with data_base64, extensions as they are', () => {
    const { headers, body } = cloudEventOf(delivery(), 'orders-push', 'structured');
    assert.match(headers['content-type']!, /^application\/cloudevents\+json/);
    const document = JSON.parse(body.toString()) as Record<string, unknown>;
    assert.equal(document.data_base64, Buffer.from([0, 1, 2, 255]).toString('base64'));
    assert.equal(document.heraldorderingkey, 'key 1');
    assert.deepEqual(JSON.parse(document.heraldattributes as string), { region: 'eu', note: 'naïve "x" 50%' });
    assert.equal(document.heraldattempt, 1);
  });

  it('leaves the ordering key out when there is none, and passes trace context on', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const { headers } = cloudEventOf(delivery({ orderingKey: '', traceContext: traceparent }), 's', 'binary');
    assert.equal(headers['ce-heraldorderingkey'], undefined);
    assert.equal(headers['ce-traceparent'], traceparent);
  });

  it("carries the dispatcher's span context instead of the record's when it traces", () => {
    const record = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const span = '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01';
    const { headers } = cloudEventOf(delivery({ traceContext: record }), 's', 'binary', {
      traceparent: span,
      tracestate: 'herald=1',
    });
    assert.equal(headers['ce-traceparent'], span);
    assert.equal(headers['ce-tracestate'], 'herald=1');
  });

  it('percent-encodes space, quote, percent and non-ASCII only', () => {
    assert.equal(percentEncoded('a-b_c.d~!{}'), 'a-b_c.d~!{}');
    assert.equal(percentEncoded('a b"c%d'), 'a%20b%22c%25d');
    assert.equal(percentEncoded('é'), '%C3%A9');
  });
});

describe('HttpPush', function () {
  this.timeout(20_000);
  let server: http.Server;
  let port: number;
  let answer: (request: http.IncomingMessage, response: http.ServerResponse) => void;
  const requests: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
  let tokens: PushTokens;

  before(async () => {
    tokens = await PushTokens.create('', 'test-issuer');
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push({ headers: request.headers, body: Buffer.concat(chunks) });
        answer(request, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const push = (host = '127.0.0.1', allowPrivate = true) =>
    new HttpPush({
      subscription: 'orders-push',
      url: `http://${host}:${port}/hook`,
      mode: 'binary',
      audience: '',
      maxSockets: 4,
      guard: new EndpointGuard(allowPrivate),
      tokens,
    });

  const cases: Array<[number, string]> = [
    [200, 'ok'],
    [204, 'ok'],
    [429, 'throttled'],
    [500, 'server-error'],
    [503, 'server-error'],
    [404, 'rejected'],
    [302, 'rejected'],
  ];
  for (const [status, outcome] of cases) {
    it(`takes HTTP ${status} as ${outcome}`, async () => {
      answer = (_request, response) => response.writeHead(status).end('body');
      const sender = push();
      try {
        const result = await sender.push(delivery(), 5_000, new AbortController().signal);
        assert.deepEqual(result, { outcome, detail: `HTTP ${status}` });
        const last = requests[requests.length - 1]!;
        assert.match(String(last.headers.authorization), /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
        assert.equal(last.headers['ce-id'], 'msg-1');
      } finally {
        sender.close();
      }
    });
  }

  it('times out a request that gets no answer within the deadline', async () => {
    answer = (_request, response) => setTimeout(() => response.writeHead(200).end(), 2_000);
    const sender = push();
    try {
      const started = Date.now();
      const result = await sender.push(delivery(), 300, new AbortController().signal);
      assert.equal(result.outcome, 'timeout');
      assert.ok(Date.now() - started < 1_500);
    } finally {
      sender.close();
    }
  });

  it('refuses a literal loopback address and a host name resolving to one, sending nothing', async () => {
    answer = (_request, response) => response.writeHead(200).end();
    const before = requests.length;
    for (const host of ['127.0.0.1', 'localhost']) {
      const sender = push(host, false);
      try {
        const result = await sender.push(delivery(), 2_000, new AbortController().signal);
        assert.equal(result.outcome, 'refused', host);
        assert.match(result.detail, /loopback, private or link-local/);
        await assert.rejects(sender.check(), /DISPATCHER_PUSH_ALLOW_PRIVATE/);
      } finally {
        sender.close();
      }
    }
    assert.equal(requests.length, before);
  });

  it('connects to a host name through the guard when its addresses are allowed', async () => {
    answer = (_request, response) => response.writeHead(204).end();
    const sender = push('localhost', true);
    try {
      await sender.check();
      assert.deepEqual(await sender.push(delivery(), 2_000, new AbortController().signal), {
        outcome: 'ok',
        detail: 'HTTP 204',
      });
    } finally {
      sender.close();
    }
  });

  it('reports a refused connection as a network error', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sender = new HttpPush({
      subscription: 's',
      url: `http://127.0.0.1:${closedPort}/`,
      mode: 'structured',
      audience: 'https://aud.example',
      maxSockets: 1,
      guard: new EndpointGuard(true),
      tokens,
    });
    try {
      const result = await sender.push(delivery(), 2_000, new AbortController().signal);
      assert.equal(result.outcome, 'network-error');
      assert.match(result.detail, /ECONNREFUSED/);
    } finally {
      sender.close();
    }
  });
});
