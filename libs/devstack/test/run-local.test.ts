import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { freePort, heraldHome, isAlive, repoRoot, signal, waitForExit } from '@herald/local-kafka';
import { testKafka, uniqueName, waitFor } from '@herald/testkit';
import { checkHealth } from '../src';
import { canBind } from '../src/preflight';

const runLocal = path.join(repoRoot, 'libs', 'devstack', 'dist', 'src', 'run-local.js');

/** One `make run` (run-local.js) as a child process, its output collected. */
interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Ports and a run folder of its own, so that the test never meets a developer's `make run`. */
interface RunSetup {
  runDir: string;
  env: NodeJS.ProcessEnv;
  ports: { publisher: number; registry: number; dispatcher: number; kafka: number };
}

/** A free port whose successor is free too (the local Kafka's controller listens one above). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port < 65535 && (await canBind(port + 1, '127.0.0.1'))) return port;
  }
}

describe('make run (run-local.js)', function () {
  this.timeout(240_000);
  const started: Run[] = [];
  const runDirs: string[] = [];

  async function setup(): Promise<RunSetup> {
    mkdirSync(path.join(heraldHome, 'test'), { recursive: true });
    const runDir = mkdtempSync(path.join(heraldHome, 'test', 'run-local-'));
    runDirs.push(runDir);
    const ports = {
      publisher: await freePort(),
      registry: await freePort(),
      dispatcher: await freePort(),
      kafka: await freePortPair(),
    };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HERALD_RUN_DIR: runDir,
      PUBLISHER_PORT: String(ports.publisher),
      REGISTRY_PORT: String(ports.registry),
      DISPATCHER_PORT: String(ports.dispatcher),
      HERALD_KAFKA_PORT: String(ports.kafka),
    };
    // The test runner's own Kafka is not this run's: each test says which Kafka it wants.
    delete env.KAFKA_BROKERS;
    return { runDir, env, ports };
  }

  function start(env: NodeJS.ProcessEnv): Run {
    const child = spawn(process.execPath, [runLocal], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const run = { child, output: () => output, exited };
    started.push(run);
    return run;
  }

  /** The pid of the local Kafka a run started, from its state file. */
  function kafkaPid(runDir: string): number {
    const state = JSON.parse(readFileSync(path.join(runDir, 'kafka', 'cluster.json'), 'utf8')) as {
      nodes: Array<{ pid: number }>;
    };
    return state.nodes[0]!.pid;
  }

  /** The pid of the child of `parent` whose command line runs `service`'s entry point. */
  function childPid(parent: number, service: string): number {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (ppid === parent && command.includes(path.join('services', service, 'dist'))) return Number(entry);
      } catch {
        // gone meanwhile
      }
    }
    throw new Error(`no ${service} process under pid ${parent}`);
  }

  afterEach(async () => {
    // SIGTERM lets a run stop its services and its Kafka; whatever outlives it is killed by pid.
    for (const run of started.splice(0)) {
      if (run.child.exitCode !== null || run.child.pid === undefined) continue;
      signal(run.child.pid, 'SIGTERM');
      if (!(await waitForExit(run.child.pid, 60_000))) signal(run.child.pid, 'SIGKILL');
    }
  });

  after(() => {
    for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a second run in the same checkout says Herald is already running and leaves the first one alone', async () => {
    const { runDir, env, ports } = await setup();
    const first = start(env);
    await waitFor(() => first.output().includes('Ctrl-C stops everything'), {
      timeoutMillis: 180_000,
      description: `the first run to be up; its output:\n${first.output()}`,
    });
    const kafka = kafkaPid(runDir);
    assert.match(first.output(), new RegExp(`publisher +127\\.0\\.0\\.1:${ports.publisher}`));
    assert.match(first.output(), /gRPC is PLAINTEXT, on loopback only, without authentication/);

    const second = start(env);
    const code = await second.exited;
    assert.equal(code, 1, second.output());
    assert.match(second.output(), new RegExp(`Herald is already running here \\(pid ${first.child.pid}\\)`));
    assert.doesNotMatch(second.output(), /listening|127\.0\.0\.1:\d+\s*$/m);

    // The first stack is untouched: its Kafka, its services, and no complaint from it.
    assert.equal(isAlive(kafka), true, 'the first run’s Kafka was killed');
    for (const port of [ports.publisher, ports.registry, ports.dispatcher]) {
      assert.equal(await checkHealth(`127.0.0.1:${port}`), 'SERVING');
    }
    assert.equal(first.child.exitCode, null);
    assert.doesNotMatch(first.output(), /exited unexpectedly/);
  });

  it('says when its services lose Kafka and get it back, and when Kafka dies, then stops the services', async () => {
    const { runDir, env } = await setup();
    const run = start(env);
    await waitFor(() => run.output().includes('Ctrl-C stops everything'), {
      timeoutMillis: 180_000,
      description: `the run to be up; its output:\n${run.output()}`,
    });
    const kafka = kafkaPid(runDir);
    // Frozen, the broker is there but answers nothing: the services turn NOT_SERVING, make run says so.
    signal(kafka, 'SIGSTOP');
    try {
      await waitFor(() => /publisher is not ready \(NOT_SERVING\): cannot reach kafka;/.test(run.output()), {
        timeoutMillis: 60_000,
        description: `make run to say the publisher lost Kafka; its output:\n${run.output()}`,
      });
    } finally {
      signal(kafka, 'SIGCONT');
    }
    await waitFor(() => run.output().includes('publisher is ready again'), {
      timeoutMillis: 90_000,
      description: `make run to say the publisher is ready again; its output:\n${run.output()}`,
    });

    signal(kafka, 'SIGKILL');
    const code = await run.exited;
    assert.equal(code, 1, run.output());
    assert.match(run.output(), new RegExp(`Kafka \\(pid ${kafka}\\) exited unexpectedly`));
  });

  it('fails at once, in one line, when a port is in use, before starting Kafka', async () => {
    const { runDir, env, ports } = await setup();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(ports.dispatcher, '127.0.0.1', resolve));
    try {
      const begin = Date.now();
      const run = start(env);
      assert.equal(await run.exited, 1, run.output());
      assert.ok(Date.now() - begin < 5_000, `took ${Date.now() - begin} ms`);
      assert.deepEqual(run.output().trim().split('\n'), [
        `[herald] port ${ports.dispatcher} (DISPATCHER_PORT) is already in use on 127.0.0.1: stop what listens there, or set DISPATCHER_PORT`,
      ]);
      assert.equal(existsSync(path.join(runDir, 'kafka')), false, 'Kafka was started');
    } finally {
      squatter.close();
    }
  });

  it('fails at once, in one line, when no broker of KAFKA_BROKERS answers', async () => {
    const { env } = await setup();
    const nobody = await freePort();
    const begin = Date.now();
    const run = start({ ...env, KAFKA_BROKERS: `127.0.0.1:${nobody}` });
    assert.equal(await run.exited, 1, run.output());
    assert.ok(Date.now() - begin < 8_000, `took ${Date.now() - begin} ms`);
    assert.deepEqual(run.output().trim().split('\n'), [
      `[herald] no Kafka broker accepts connections at 127.0.0.1:${nobody} (KAFKA_BROKERS): start it, or unset KAFKA_BROKERS to get a local one`,
    ]);
  });

  it('logs each run in a folder of its own, and says so when a service dies', async () => {
    const { runDir, env } = await setup();
    // The test Kafka, under a topic prefix of this test's own: no JVM to start.
    const runEnv = {
      ...env,
      KAFKA_BROKERS: testKafka().brokers.join(','),
      HERALD_TOPIC_PREFIX: `${uniqueName('run')}.`,
    };
    const run = start(runEnv);
    await waitFor(() => run.output().includes('Ctrl-C stops everything'), {
      timeoutMillis: 120_000,
      description: `the run to be up; its output:\n${run.output()}`,
    });
    const logDir = /logs in (\S+);/.exec(run.output())![1]!;
    assert.equal(path.dirname(logDir), path.join(runDir, 'logs'));
    assert.ok(existsSync(path.join(logDir, 'dispatcher-1.log')));
    const dispatcher = childPid(run.child.pid!, 'dispatcher');
    signal(dispatcher, 'SIGKILL');
    assert.equal(await run.exited, 1, run.output());
    assert.match(
      run.output(),
      new RegExp(`dispatcher \\(pid ${dispatcher}\\) exited unexpectedly.* \\(log: ${logDir}/dispatcher-1\\.log\\)`),
    );
  });
});
