import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Admin, HeraldClientError, Publisher } from '@herald/client';
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { testKafka, uniqueName } from '@herald/testkit';

const clientDir = path.join(__dirname, '..', '..');

describe('@herald/client as a user holds it: the packed tarball, installed outside the repository', function () {
  this.timeout(300_000);
  let stack: HeraldStack;
  let userDir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    userDir = mkdtempSync(path.join(tmpdir(), 'herald-sdk-user-'));
    const packDir = path.join(userDir, 'pack');
    const tarball = execFileSync('node', [path.join(clientDir, 'scripts', 'pack.mjs'), packDir], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .at(-1)!;
    const app = path.join(userDir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'herald-user', private: true }));
    // The bundled workspace libraries come from the tarball; @grpc/grpc-js and @bufbuild/protobuf from the registry.
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app });
    const prefix = `${uniqueName('sdkpkg')}.`;
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: { HERALD_TOPIC_PREFIX: prefix },
    });
    env = { ...process.env, ...stack.endpointEnv };
  });
  after(async () => {
    await stack?.stop();
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('holds no workspace link: its workspace libraries are inside it', () => {
    const bundled = readdirSync(
      path.join(userDir, 'app', 'node_modules', '@herald', 'client', 'node_modules', '@herald'),
    );
    assert.deepEqual(bundled.sort(), ['api', 'retry']);
  });

  it('holds no OpenTelemetry SDK: it traces through @opentelemetry/api alone', () => {
    const installed = readdirSync(path.join(userDir, 'app', 'node_modules', '@opentelemetry'));
    assert.deepEqual(installed, ['api']);
  });

  it('runs the JavaScript quickstart, copied out of the package, against a real stack', () => {
    const app = path.join(userDir, 'app');
    copyFileSync(
      path.join(app, 'node_modules', '@herald', 'client', 'examples', 'quickstart.mjs'),
      path.join(app, 'quickstart.mjs'),
    );
    const output = execFileSync('node', ['quickstart.mjs'], { cwd: app, env, encoding: 'utf8', timeout: 120_000 });
    assert.match(output, /published 3 messages to quickstart-/);
    assert.match(output, /received one, three, two/);
  });

  it('runs a TypeScript example with the stated command (node run.mjs, Node type stripping)', () => {
    const app = path.join(userDir, 'app');
    const examples = path.join(app, 'node_modules', '@herald', 'client', 'examples');
    for (const file of ['run.mjs', 'publish-and-receive.ts'])
      copyFileSync(path.join(examples, file), path.join(app, file));
    const output = execFileSync(
      'node',
      ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', 'run.mjs', 'publish-and-receive'],
      { cwd: app, env, encoding: 'utf8', timeout: 120_000 },
    );
    assert.deepEqual(JSON.parse(output.trim()).sort(), ['bonjour', 'hallo', 'hello']);
  });

  it('fails a message over the server limit at once, never retrying it (no 57 s of RESOURCE_EXHAUSTED)', async () => {
    const admin = new Admin({ endpoints: stack.registries.map((p) => p.address) });
    await admin.createTopic({ name: 'sdk-too-large' });
    admin.close();
    const twentyMiB = Buffer.alloc(20 * 1024 * 1024, 1);
    for (const maxMessageBytes of [undefined, 64 * 1024 * 1024]) {
      // Default: the SDK's own check. Raised past the server's: the server's gRPC limit answers, and is not retried.
      const publisher = new Publisher({ endpoints: stack.publishers.map((p) => p.address), maxMessageBytes });
      const started = Date.now();
      const error = await publisher.publish('sdk-too-large', { data: twentyMiB }).then(
        () => assert.fail('a 20 MiB message was accepted'),
        (e: unknown) => e,
      );
      const millis = Date.now() - started;
      await publisher.close();
      assert.ok(error instanceof HeraldClientError, String(error));
      console.log(
        `      maxMessageBytes ${maxMessageBytes ?? 'default'}: ${millis} ms, ${error.message.slice(0, 120)}`,
      );
      assert.ok(['INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED'].includes(error.codeName), error.message);
      assert.equal(error.retryable, false, error.message);
      assert.ok(millis < 5_000, `${maxMessageBytes ?? 'default'}: failed after ${millis} ms: ${error.message}`);
    }
  });
});
