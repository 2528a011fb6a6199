import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { unreachableLine } from './clients';

describe('unreachableLine', () => {
  let server: Server;
  let open: string;
  /** A port nothing listens on: bound a moment ago, then released. */
  let closed: string;

  before(async () => {
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    open = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    closed = `127.0.0.1:${(spare.address() as { port: number }).port}`;
    await new Promise((resolve) => spare.close(resolve));
  });
  after(() => server.close());

  it('is undefined when one address accepts connections', async () => {
    assert.equal(await unreachableLine('registry', [closed, open], 1_000), undefined);
  });

  it('names every address and why, and the flag and variable that set them', async () => {
    const started = Date.now();
    const line = await unreachableLine('registry', [closed, 'nohost.invalid:50052'], 2_000);
    assert.equal(
      line,
      `cannot reach the subscriber registry at ${closed} (connection refused), nohost.invalid:50052 (unknown host); check --registry or HERALD_REGISTRY`,
    );
    assert.ok(Date.now() - started < 2_000);
  });
});
