import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { heraldHome, repoRoot } from '@herald/local-kafka';
import { testKafka, uniqueName } from '@herald/testkit';
import { HeraldStack } from '../src';

/** The venv and stubs that `make python-client` prepares. */
const python = path.join(repoRoot, '.herald', 'venv', 'bin', 'python');
const pythonStubs = path.join(repoRoot, 'clients', 'python', 'gen', '.generated');
/** The stubs and module downloads that `make go-client` prepares. */
const goStubs = path.join(repoRoot, 'clients', 'go', 'gen', '.generated');

/** Longest one client test may run before it is killed (its own waits are shorter). */
const clientTimeoutMillis = 180_000;

interface Finished {
  status: number | null;
  output: string;
}

/** Runs a command to its end (or kills it after `clientTimeoutMillis`), collecting stdout and stderr. */
function run(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), clientTimeoutMillis);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

// Polyglot proof: clients in other languages, with stubs generated from proto/ by their own
// tools, run the round trip against real services; see clients/python and clients/go.
describe('Clients in other languages', function () {
  this.timeout(2 * clientTimeoutMillis + 60_000);
  let stack: HeraldStack | undefined;
  let addresses: Record<string, string> = {};

  before(async () => {
    const prefix = `${uniqueName('polyglot')}.`;
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: { HERALD_TOPIC_PREFIX: prefix },
    });
    addresses = stack.endpointEnv;
  });

  after(async () => {
    await stack?.stop();
  });

  it('Python: creates, publishes, pulls, acks and sees an unacked message redelivered', async () => {
    assert.ok(existsSync(python) && existsSync(pythonStubs), 'no Python venv or stubs: run `make python-client`');
    const { status, output } = await run(python, ['-m', 'pytest', '-q', 'clients/python'], repoRoot, {
      ...addresses,
      PYTHONDONTWRITEBYTECODE: '1',
    });
    const summary = output.trim().split('\n').at(-1) ?? '';
    console.log(`      [pytest] ${summary}`);
    assert.equal(status, 0, `pytest failed (exit ${status}):\n${output}`);
    assert.match(summary, /\d+ passed/);
    assert.doesNotMatch(summary, /skipped|failed|error/);
  });

  // Go is optional: `make test` prepares this test only where a Go toolchain is installed.
  it('Go: the same round trip with google.golang.org/grpc', async function () {
    if (spawnSync('go', ['version']).status !== 0) this.skip();
    assert.ok(existsSync(goStubs), 'no Go stubs: run `make go-client`');
    // Offline: `make go-client` fetched every module; the test must not reach the module proxy.
    const { status, output } = await run(
      'go',
      ['test', '-count=1', '-timeout=170s', '.'],
      path.join(repoRoot, 'clients', 'go'),
      {
        ...addresses,
        GOPROXY: 'off',
      },
    );
    const summary = output.trim().split('\n').at(-1) ?? '';
    console.log(`      [go test] ${summary}`);
    assert.equal(status, 0, `go test failed (exit ${status}):\n${output}`);
    assert.match(summary, /^ok\s/);
  });
});
