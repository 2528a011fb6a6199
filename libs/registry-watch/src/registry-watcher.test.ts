import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  type Client,
  connectivityState,
  Server,
  type ServerWritableStream,
  ServerCredentials,
  status,
} from '@grpc/grpc-js';
import {
  SubscriberRegistryServiceService,
  type SubscriberRegistryServiceServer,
  Topic,
  type WatchRequest,
  type WatchResponse,
} from '@herald/api';
import { silentLogger } from '@herald/logging';
import { RegistryWatcher } from './registry-watcher';

const topic = (name: string) => Topic.fromPartial({ name, partitions: 1, revision: '1' });
const snapshot = (revision: string, topics: Topic[], last: boolean, reset = true): WatchResponse => ({
  revision,
  kind: { $case: 'snapshot', value: { reset, last, topics, subscriptions: [], policies: [] } },
});
const event = (revision: string, change: NonNullable<WatchResponse['kind'] & { $case: 'event' }>['value']['change']) =>
  ({ revision, kind: { $case: 'event', value: { revision, time: undefined, change } } }) as WatchResponse;

describe('RegistryWatcher', () => {
  it('emits the revision it reflects after a whole snapshot and after every event, even one that changed nothing', () => {
    const watcher = new RegistryWatcher({ addresses: ['127.0.0.1:1'], logger: silentLogger() });
    const revisions: string[] = [];
    const changes: string[] = [];
    watcher.on('revision', (revision) => revisions.push(revision));
    watcher.on('change', (change) => changes.push(change.kind));
    watcher.apply(snapshot('3', [topic('a')], false));
    assert.deepEqual(revisions, []);
    watcher.apply(snapshot('3', [topic('b')], true, false));
    watcher.apply(event('4', { $case: 'topicDeleted', value: 'never-seen' }));
    watcher.apply(event('5', { $case: 'topicCreated', value: topic('c') }));
    assert.deepEqual(revisions, ['3', '4', '5']);
    assert.deepEqual(changes, ['topic-created', 'topic-created', 'topic-created']);
    assert.deepEqual(
      watcher
        .topics()
        .map((t) => t.name)
        .sort(),
      ['a', 'b', 'c'],
    );
    watcher.stop();
  });

  it('leaves no channel connecting once stopped while no registry answers', async () => {
    const watcher = new RegistryWatcher({ addresses: ['127.0.0.1:1'], logger: silentLogger() });
    const starting = watcher.start(600_000);
    await once(watcher, 'interrupted');
    watcher.stop();
    await assert.rejects(starting, /the registry watch stopped/);
    await new Promise((resolve) => setImmediate(resolve));
    const [client] = (watcher as unknown as { clients: Client[] }).clients;
    assert.equal(client!.getChannel().getConnectivityState(false), connectivityState.SHUTDOWN);
  });

  describe('against a registry', () => {
    let server: Server;
    let address: string;
    /** What each Watch call does, in call order. */
    let behaviours: Array<(call: ServerWritableStream<WatchRequest, WatchResponse>) => void>;

    beforeEach(async () => {
      behaviours = [];
      server = new Server();
      server.addService(SubscriberRegistryServiceService, {
        watch: (call: ServerWritableStream<WatchRequest, WatchResponse>) => behaviours.shift()?.(call),
      } as Partial<SubscriberRegistryServiceServer> as SubscriberRegistryServiceServer);
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      );
      address = `127.0.0.1:${port}`;
    });
    afterEach(() => server.forceShutdown());

    it('says why a stream broke and when one is up again, resuming from the next call', async () => {
      const cancelled = new Promise<void>((resolve) => {
        behaviours.push(
          (call) => call.emit('error', { code: status.UNAVAILABLE, details: 'registry restarting' }),
          (call) => {
            call.on('cancelled', () => resolve());
            call.write(snapshot('7', [topic('orders')], true));
          },
        );
      });
      const watcher = new RegistryWatcher({ addresses: [address], logger: silentLogger() });
      const seen: string[] = [];
      watcher.on('interrupted', (reason) => seen.push(`interrupted: ${reason}`));
      watcher.on('connected', () => seen.push('connected'));
      await watcher.start(30_000);
      assert.equal(seen.length, 2);
      assert.match(seen[0]!, new RegExp(`^interrupted: watching the registry at ${address}: .*registry restarting`));
      assert.equal(seen[1], 'connected');
      assert.equal(watcher.revision, '7');
      watcher.stop();
      await cancelled;
    });

    it('stops a stream that waits for the registry, rejecting a start still waiting for a snapshot', async () => {
      let opened!: () => void;
      const open = new Promise<void>((resolve) => (opened = resolve));
      const cancelled = new Promise<void>((resolve) => {
        behaviours.push((call) => {
          call.on('cancelled', () => resolve());
          opened();
        });
      });
      const watcher = new RegistryWatcher({ addresses: [address], logger: silentLogger() });
      const starting = watcher.start(600_000);
      await open;
      watcher.stop();
      await assert.rejects(starting, /the registry watch stopped/);
      await cancelled;
    });
  });
});
