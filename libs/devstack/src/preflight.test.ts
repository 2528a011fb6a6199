import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { freePort } from '@herald/local-kafka';
import { kafkaBrokersProblem, portsInUse } from './preflight';

describe('preflight checks', () => {
  it('name each port in use and the variable that moves it', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const busy = (server.address() as { port: number }).port;
    const free = await freePort();
    try {
      const problems = await portsInUse([
        { port: busy, host: '127.0.0.1', variable: 'PUBLISHER_PORT' },
        { port: free, host: '127.0.0.1', variable: 'REGISTRY_PORT' },
      ]);
      assert.equal(problems.length, 1);
      assert.match(problems[0]!, new RegExp(`^port ${busy} \\(PUBLISHER_PORT\\) is already in use`));
    } finally {
      server.close();
    }
  });

  it('refuse a malformed KAFKA_BROKERS, and one where no broker answers, in one line', async () => {
    assert.match((await kafkaBrokersProblem('localhost'))!, /not a host:port/);
    const nobody = await freePort();
    const problem = await kafkaBrokersProblem(`127.0.0.1:${nobody}`, 1_000);
    assert.match(
      problem!,
      new RegExp(`no Kafka broker accepts connections at 127.0.0.1:${nobody} \\(KAFKA_BROKERS\\)`),
    );
    assert.equal(problem!.includes('\n'), false);
  });

  it('accept a KAFKA_BROKERS where one broker answers', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      assert.equal(await kafkaBrokersProblem(`127.0.0.1:${await freePort()},127.0.0.1:${port}`, 1_000), undefined);
    } finally {
      server.close();
    }
  });
});
