import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import {
  Message,
  PublisherServiceClient,
  PublisherServiceService,
  SubscriberRegistryServiceClient,
  SubscriberRegistryServiceService,
  unaryCall,
} from '@herald/api';
import { silentLogger } from '@herald/logging';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { HeraldServer, bindService, livenessServiceName } from './server';

type HealthClient = grpc.Client & {
  check(
    request: { service: string },
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
};

function healthClient(address: string): HealthClient {
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { enums: String }));
  const Health = ((loaded.grpc as grpc.GrpcObject).health as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const constructor = Health.Health as unknown as new (address: string, c: grpc.ChannelCredentials) => HealthClient;
  return new constructor(address, grpc.credentials.createInsecure());
}

describe('HeraldServer readiness', () => {
  let server: HeraldServer;
  let publisher: PublisherServiceClient;
  let health: HealthClient;
  /** Resolves the open PublishStream's handler when the test says so. */
  let streamHandlerDone: (() => void) | undefined;

  beforeEach(async () => {
    server = new HeraldServer({
      logger: silentLogger(),
      services: [
        bindService(
          'herald.v1.PublisherService',
          PublisherServiceService,
          {
            publish: async (request) => ({ messageIds: request.messages.map((_, i) => `id-${i}`) }),
            publishStream: (call) =>
              new Promise<void>((resolve) => {
                streamHandlerDone = resolve;
                call.on('error', () => resolve());
                call.on('cancelled', () => resolve());
              }),
          },
          { publish: ['kafka'], publishStream: ['kafka'] },
        ),
      ],
    });
    const port = await server.listen('127.0.0.1', 0);
    publisher = new PublisherServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    health = healthClient(`127.0.0.1:${port}`);
  });

  afterEach(async () => {
    streamHandlerDone?.();
    publisher.close();
    health.close();
    await server.stop(1_000);
  });

  const status = (service: string) =>
    new Promise<string>((resolve, reject) =>
      health.check({ service }, (error, response) => (error ? reject(error) : resolve(response!.status))),
    );
  const publish = () =>
    unaryCall(
      publisher,
      publisher.publish,
      { topic: 'orders', messages: [Message.fromPartial({ data: Buffer.from('x') })] },
      new grpc.Metadata(),
      5_000,
    );

  it('is live once listening, ready once started and while every dependency is up', async () => {
    assert.equal(await status(livenessServiceName), 'SERVING');
    assert.equal(await status(''), 'NOT_SERVING', 'start-up is not done');
    server.setServing(true);
    assert.equal(await status(''), 'SERVING');
    assert.equal(await status('herald.v1.PublisherService'), 'SERVING');

    server.readiness.setDown('kafka', () => 'Kafka unreachable for 3 s (test); retry later');
    assert.equal(await status(''), 'NOT_SERVING');
    assert.equal(await status('herald.v1.PublisherService'), 'NOT_SERVING');
    assert.equal(await status(livenessServiceName), 'SERVING', 'an outage of Kafka is no reason to restart');

    server.readiness.setUp('kafka');
    assert.equal(await status(''), 'SERVING');
  });

  it('fails the rpcs that need a dependency that is down at once, with UNAVAILABLE and the reason', async () => {
    server.setServing(true);
    assert.deepEqual((await publish()).messageIds, ['id-0']);
    server.readiness.setDown('kafka', () => 'Kafka unreachable for 3 s (test); retry later');
    await assert.rejects(publish(), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      assert.equal(error.details, 'Kafka unreachable for 3 s (test); retry later');
      return true;
    });
    server.readiness.setUp('kafka');
    assert.deepEqual((await publish()).messageIds, ['id-0']);
  });

  it('ends open streams of those rpcs when the dependency goes down', async () => {
    server.setServing(true);
    const call = publisher.publishStream();
    const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    call.on('data', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the stream reaches the server
    server.readiness.setDown('kafka', () => 'Kafka unreachable for 3 s (test); retry later');
    const error = await ended;
    assert.equal(error.code, grpc.status.UNAVAILABLE);
    assert.match(error.details, /^Kafka unreachable/);
  });
});

describe('HeraldServer stop', () => {
  it('ends open server-streaming calls at once rather than after the grace period', async () => {
    // Only Watch is called; every other rpc of the service would fail.
    const handlers = new Proxy(
      {
        watch: (call: grpc.ServerWritableStream<unknown, unknown>) =>
          new Promise<void>((resolve) => {
            call.on('error', () => resolve());
            call.on('cancelled', () => resolve());
          }),
      } as Record<string, unknown>,
      { get: (target, name: string) => target[name] ?? (async () => Promise.reject(new Error(name))) },
    );
    const server = new HeraldServer({
      logger: silentLogger(),
      services: [
        bindService('herald.v1.SubscriberRegistryService', SubscriberRegistryServiceService, handlers as never),
      ],
    });
    const port = await server.listen('127.0.0.1', 0);
    const registry = new SubscriberRegistryServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const watch = registry.watch({ afterRevision: '0' });
      const ended = new Promise<grpc.ServiceError>((resolve) => watch.on('error', resolve));
      watch.on('data', () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the stream reaches the server
      const started = Date.now();
      await server.stop(10_000);
      const stopMillis = Date.now() - started;
      const error = await ended;
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      assert.ok(stopMillis < 2_000, `stop took ${stopMillis} ms`);
    } finally {
      registry.close();
    }
  });
});
