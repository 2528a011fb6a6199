import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { PublisherServiceService, type PublisherServiceServer } from '@herald/api';
import { Admin } from './admin';
import { HeraldClientError } from './client-error';
import { Publisher } from './publisher';

/** How long `promise` takes to reject, and with what. */
async function timedRejection(promise: Promise<unknown>): Promise<{ error: HeraldClientError; millis: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HeraldClientError, String(error));
    return { error, millis: Date.now() - started };
  }
  assert.fail('expected a rejection');
}

describe('unary calls to a service that cannot be reached', function () {
  this.timeout(30_000);

  it('fail with one UNAVAILABLE line naming the service and its addresses, within the total timeout', async () => {
    const admin = new Admin({ endpoints: ['127.0.0.1:1', '127.0.0.1:2'], retry: { totalTimeoutMillis: 3_000 } });
    const { error, millis } = await timedRejection(admin.createTopic({ name: 'orders' }));
    admin.close();
    assert.equal(error.codeName, 'UNAVAILABLE');
    assert.match(
      error.message,
      /^UNAVAILABLE: cannot reach the subscriber-registry at 127\.0\.0\.1:1, 127\.0\.0\.1:2 \(\d+ attempts in [\d.]+ s\)/,
    );
    assert.doesNotMatch(error.message, /LB pick|DEADLINE_EXCEEDED/);
    assert.ok(millis < 4_000, `${millis} ms`);
  });

  it('a listener that never answers the handshake costs connectTimeoutMillis per attempt, not the attempt deadline', async () => {
    // A TCP listener that accepts and says nothing: the HTTP/2 handshake never completes.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(silent.address() as { port: number }).port}`;
    const publisher = new Publisher({
      endpoints: [address],
      retry: { totalTimeoutMillis: 4_000, connectTimeoutMillis: 1_000, attemptTimeoutMillis: 60_000 },
    });
    const { error, millis } = await timedRejection(publisher.publish('orders', { data: 'x' }));
    await publisher.close();
    for (const socket of sockets) socket.destroy();
    silent.close();
    assert.equal(error.codeName, 'UNAVAILABLE');
    assert.match(error.message, new RegExp(`cannot reach the publisher at ${address}`));
    assert.ok(millis < 5_500, `${millis} ms`);
  });
});

describe("publish attempts and the server's own timeout", function () {
  this.timeout(60_000);

  it('waits for a slow answer (Kafka takes up to PUBLISHER_ACK_TIMEOUT_MS, 30 s) instead of sending the batch again', async () => {
    // A publisher that answers after 11 s, as one waiting for Kafka does; the SDK's attempts used to end at 10 s.
    let calls = 0;
    const server = new Server();
    server.addService(PublisherServiceService, {
      publish: (call, callback) => {
        calls++;
        setTimeout(() => callback(null, { messageIds: call.request.messages.map((_, i) => `id-${i}`) }), 11_000);
      },
    } as Partial<PublisherServiceServer> as PublisherServiceServer);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const publisher = new Publisher({ endpoints: [`127.0.0.1:${port}`] });
    try {
      assert.equal(await publisher.publish('orders', { data: 'x' }), 'id-0');
      assert.equal(calls, 1, 'one request: no second copy while the first was in progress');
    } finally {
      await publisher.close();
      server.forceShutdown();
    }
  });

  it('a short total timeout bounds an attempt too', async () => {
    const server = new Server();
    server.addService(PublisherServiceService, {
      publish: (_call, callback) => setTimeout(() => callback(null, { messageIds: ['late'] }), 11_000),
    } as Partial<PublisherServiceServer> as PublisherServiceServer);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const publisher = new Publisher({ endpoints: [`127.0.0.1:${port}`], retry: { totalTimeoutMillis: 2_000 } });
    try {
      const { error, millis } = await timedRejection(publisher.publish('orders', { data: 'x' }));
      assert.equal(error.codeName, 'DEADLINE_EXCEEDED', error.message);
      assert.ok(millis < 3_000, `${millis} ms`);
    } finally {
      await publisher.close();
      server.forceShutdown();
    }
  });

  it("the service's own UNAVAILABLE keeps its words, and says where and for how long", async () => {
    const server = new Server();
    server.addService(PublisherServiceService, {
      publish: (_call, callback) =>
        callback({
          code: status.UNAVAILABLE,
          details: 'Kafka unreachable for 1 s (127.0.0.1:9092: connect ECONNREFUSED 127.0.0.1:9092); retry later',
        }),
    } as Partial<PublisherServiceServer> as PublisherServiceServer);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const publisher = new Publisher({ endpoints: [`127.0.0.1:${port}`], retry: { totalTimeoutMillis: 1_000 } });
    try {
      const { error } = await timedRejection(publisher.publish('orders', { data: 'x' }));
      assert.match(
        error.message,
        /^UNAVAILABLE: Kafka unreachable for 1 s \(127\.0\.0\.1:9092: connect ECONNREFUSED 127\.0\.0\.1:9092\); retry later \(publisher, gave up after \d+ attempts in [\d.]+ s\)$/,
      );
    } finally {
      await publisher.close();
      server.forceShutdown();
    }
  });
});
