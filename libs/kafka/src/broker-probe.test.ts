import assert from 'node:assert/strict';
import net from 'node:net';
import { probeAnyBroker, probeBroker } from './broker-probe';

/** A TCP server on a free port: `answer` true replies like a broker (size, then the request's correlation id). */
async function fakeBroker(answer: boolean): Promise<{ address: string; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (request) => {
      if (!answer) return; // a frozen broker: the connection is accepted, nothing comes back
      const response = Buffer.alloc(10);
      response.writeInt32BE(6, 0);
      request.copy(response, 4, 8, 12); // the correlation id, after size, api key and version
      socket.write(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

describe('probeBroker', () => {
  it('resolves when the broker answers the request', async () => {
    const broker = await fakeBroker(true);
    try {
      await probeBroker(broker.address, 1_000);
    } finally {
      broker.close();
    }
  });

  it('rejects after the timeout when the broker accepts but does not answer', async () => {
    const broker = await fakeBroker(false);
    const started = Date.now();
    try {
      await assert.rejects(probeBroker(broker.address, 300), /no answer within 300 ms/);
      assert.ok(Date.now() - started < 1_000);
    } finally {
      broker.close();
    }
  });

  it('rejects at once when the connection is refused', async () => {
    const broker = await fakeBroker(true);
    broker.close();
    await assert.rejects(probeBroker(broker.address, 5_000), /ECONNREFUSED/);
  });
});

describe('probeAnyBroker', () => {
  it('counts one frozen broker among several as reachable', async () => {
    const frozen = await fakeBroker(false);
    const alive = await fakeBroker(true);
    try {
      await probeAnyBroker([frozen.address, alive.address], 500);
    } finally {
      frozen.close();
      alive.close();
    }
  });

  it('names every broker when none answers', async () => {
    const frozen = await fakeBroker(false);
    try {
      await assert.rejects(probeAnyBroker([frozen.address, '127.0.0.1:1'], 300), (error: Error) => {
        assert.match(error.message, /no answer within 300 ms/);
        assert.match(error.message, /127\.0\.0\.1:1: connect ECONNREFUSED/);
        return true;
      });
    } finally {
      frozen.close();
    }
  });
});
