import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { testKafka, uniqueName, waitFor } from '@herald/testkit';
import { HeraldCli } from './herald-cli';

describe('herald subs with push against the real services', function () {
  this.timeout(240_000);
  let stack: HeraldStack;
  let receiver: http.Server;
  let url: string;
  const bodies: Array<{ contentType: string; body: string }> = [];
  const cli = new HeraldCli();
  const herald = (args: string[], input = '') => cli.run(args, input);
  const json = (text: string) => JSON.parse(text.trim().split('\n')[0]!) as Record<string, unknown>;

  before(async () => {
    receiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push({ contentType: String(request.headers['content-type']), body: Buffer.concat(chunks).toString() });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const prefix = `${uniqueName('cli-push')}.`;
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: { HERALD_TOPIC_PREFIX: prefix },
      serviceEnv: {
        'subscriber-registry': { REGISTRY_PUSH_ALLOW_INSECURE: 'true', REGISTRY_PUSH_ALLOW_PRIVATE: 'true' },
        dispatcher: { DISPATCHER_PUSH_ALLOW_PRIVATE: 'true' },
      },
    });
    cli.env = { ...process.env, ...stack.endpointEnv };
  });
  after(async () => {
    cli.killAll();
    await stack?.stop();
    receiver?.closeAllConnections();
    receiver?.close();
  });

  it('creates a push subscription, shows how it pushes, and switches it to pull', async () => {
    const topic = uniqueName('cli-hooks');
    assert.equal((await herald(['topics', 'create', topic])).code, 0);
    const created = await herald([
      'subs',
      'create',
      `${topic}-hook`,
      '-t',
      topic,
      '--push-endpoint',
      url,
      '--push-mode',
      'structured',
      '--push-max-outstanding',
      '5',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(json(created.stdout).pushConfig, {
      http: { endpoint: url, mode: 'structured', audience: '' },
      grpc: null,
      maxOutstanding: 5,
    });

    assert.equal((await herald(['publish', topic], 'pushed by the dispatcher\n')).code, 0);
    await waitFor(() => bodies.length >= 1, { timeoutMillis: 60_000, description: 'the push request' });
    assert.match(bodies[0]!.contentType, /^application\/cloudevents\+json/);
    const event = JSON.parse(bodies[0]!.body) as { data_base64: string; type: string };
    assert.equal(Buffer.from(event.data_base64, 'base64').toString(), 'pushed by the dispatcher');
    assert.equal(event.type, 'dev.herald.message.v1');

    const shown = await waitFor(async () => {
      const result = await herald(['subs', 'get', `${topic}-hook`]);
      return /push requests +│ 1 ok/.test(result.stdout) ? result.stdout : undefined;
    });
    assert.match(
      shown,
      /delivery +│ push to http:\/\/127\.0\.0\.1:\d+\/hook \(CloudEvents, structured\), at most 5 in flight/,
    );
    assert.match(shown, /push +│ ready, \d+ of 5 in flight allowed/);

    const pulled = await herald(['subs', 'update', `${topic}-hook`, '--pull', '--json']);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(json(pulled.stdout).pushConfig, null);
    const refused = await herald(['subs', 'update', `${topic}-hook`, '--push-endpoint', 'ftp://x.example/']);
    assert.equal(refused.code, 3, 'INVALID_ARGUMENT');
    assert.match(refused.stderr, /subscription\.push_config\.http\.endpoint/);
  });
});
