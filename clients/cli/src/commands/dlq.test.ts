import assert from 'node:assert/strict';
import type { RedriveDeadLettersResponse } from '@herald/api';
import { FakeClients, messageProto, runCli, until } from '../testing/fake-cli';

/** A dead letter as PeekDeadLetters answers it. */
function deadLetter(id: string, data: string, original: string, extra: Record<string, string> = {}) {
  return messageProto(id, data, {
    ackId: '',
    deliveryAttempt: 0,
    attributes: {
      ...extra,
      'herald-dead-letter-subscription': 'orders-sub',
      'herald-dead-letter-attempts': '5',
      'herald-dead-letter-message-id': original,
      'herald-dead-letter-publish-time': '2026-05-01T09:00:00.000Z',
    },
  });
}

function progress(fields: Partial<Record<keyof RedriveDeadLettersResponse, number | boolean>>) {
  return {
    examined: String(fields.examined ?? 0),
    toExamine: String(fields.toExamine ?? 0),
    moved: String(fields.moved ?? 0),
    recovered: String(fields.recovered ?? 0),
    done: fields.done === true,
  };
}

/** Resolves once `condition` holds, looking every 10 ms for up to 5 s (for waits on the CLI's own timers). */
async function eventually(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error('condition never held');
}

const unavailable = () =>
  Object.assign(new Error('moved'), { code: 14, details: 'the subscription moved to another dispatcher; reconnect' });

describe('herald dlq peek', () => {
  it('sends the selection and shows where each dead letter came from', async () => {
    const clients = new FakeClients();
    clients.peekAnswer = async () => ({
      messages: [deadLetter('d-1', 'one', 'm-1', { region: 'eu' }), deadLetter('d-2', 'two', 'm-2')],
      nextPageToken: '',
    });
    const result = await runCli(
      [
        'dlq',
        'peek',
        'orders-sub',
        '--dead-letter-topic',
        'orders-dead',
        '--filter',
        'attributes.region = "eu"',
        '--since',
        '2026-05-01T00:00:00Z',
        '--until',
        '2026-05-02T00:00:00Z',
      ],
      clients,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(clients.calls, [
      [
        'peekDeadLetters',
        {
          selection: {
            subscription: 'orders-sub',
            deadLetterTopic: 'orders-dead',
            filter: 'attributes.region = "eu"',
            startTime: new Date('2026-05-01T00:00:00Z'),
            endTime: new Date('2026-05-02T00:00:00Z'),
          },
          maxMessages: 20,
          pageToken: '',
        },
        0,
      ],
    ]);
    const lines = result.stdout.split('\n');
    assert.match(lines[1]!, /DEAD-LETTERED\s+│ ORIGINAL ID │ ATTEMPTS │ ATTRIBUTES\s+│ DATA/);
    assert.match(result.stdout, /│ 1 │ 2026-05-01T10:00:00.000Z │ m-1\s+│ 5\s+│ region=eu\s+│ one\s+│/);
    assert.match(result.stdout, /│ 2 │ 2026-05-01T10:00:00.000Z │ m-2\s+│ 5\s+│\s+│ two\s+│/);
    assert.match(result.stdout, /2 dead letters of "orders-sub", not moved yet\.\n$/);
  });

  it('pages until --count, and says when more may follow', async () => {
    const clients = new FakeClients();
    const pages = [
      { messages: [deadLetter('d-1', 'one', 'm-1'), deadLetter('d-2', 'two', 'm-2')], nextPageToken: 'page-2' },
      { messages: [deadLetter('d-3', 'three', 'm-3')], nextPageToken: 'page-3' },
    ];
    clients.peekAnswer = async () => pages.shift()!;
    const result = await runCli(['dlq', 'peek', 'orders-sub', '-n', '3', '--json'], clients);
    assert.equal(result.code, 0, result.stderr);
    const requests = clients.calls.map((call) => call[1] as { maxMessages: number; pageToken: string });
    assert.deepEqual(
      requests.map((r) => [r.maxMessages, r.pageToken]),
      [
        [3, ''],
        [1, 'page-2'],
      ],
    );
    const json = result.json() as Array<{ messageId: string; attributes: Record<string, string> }>;
    assert.deepEqual(
      json.map((m) => m.messageId),
      ['d-1', 'd-2', 'd-3'],
    );
    assert.equal(json[0]!.attributes['herald-dead-letter-message-id'], 'm-1');
  });

  it('says when nothing is left to move', async () => {
    const result = await runCli(['dlq', 'peek', 'orders-sub'], new FakeClients());
    assert.equal(result.code, 0);
    assert.equal(result.stdout, 'No dead letters of "orders-sub" left to move.\n');
  });

  it('refuses a time it cannot read before calling anything', async () => {
    const clients = new FakeClients();
    const result = await runCli(['dlq', 'peek', 'orders-sub', '--since', 'yesterday'], clients);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--since <time>.*expected a time/);
    assert.deepEqual(clients.calls, []);
  });
});

describe('herald dlq redrive', () => {
  it('streams the redrive to its end and says how many moved', async () => {
    const clients = new FakeClients();
    const result = await runCli(
      ['dlq', 'redrive', 'orders-sub', '--rate', '500', '--filter', 'attributes:k'],
      clients,
      {
        whileRunning: async () => {
          await until(() => clients.redrives.length === 1);
          const { call } = clients.redrives[0]!;
          call.emit('data', progress({ toExamine: 1200 }));
          call.emit('data', progress({ examined: 600, toExamine: 1200, moved: 500 }));
          call.emit('data', progress({ examined: 1200, toExamine: 1200, moved: 1000, done: true }));
          call.emit('end');
        },
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(clients.redrives[0]!.request, {
      selection: {
        subscription: 'orders-sub',
        deadLetterTopic: '',
        filter: 'attributes:k',
        startTime: undefined,
        endTime: undefined,
      },
      maxMessagesPerSecond: 500,
    });
    assert.equal(result.stdout, 'Moved 1,000 dead letters back to "orders-sub".\n');
  });

  it('calls again after UNAVAILABLE and adds up what each call moved', async () => {
    const clients = new FakeClients();
    clients.dispatcherCount = 2;
    const result = await runCli(['--json', 'dlq', 'redrive', 'orders-sub'], clients, {
      whileRunning: async () => {
        await until(() => clients.redrives.length === 1);
        const first = clients.redrives[0]!.call;
        first.emit('data', progress({ examined: 400, toExamine: 1000, moved: 400 }));
        first.emit('error', unavailable());
        // The CLI pauses a second before calling again.
        await eventually(() => clients.redrives.length === 2);
        const second = clients.redrives[1]!.call;
        second.emit('data', progress({ examined: 600, toExamine: 600, moved: 590, recovered: 10, done: true }));
        second.emit('end');
      },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      clients.redrives.map((r) => r.attempt),
      [0, 1],
      'the second call goes to the next dispatcher',
    );
    assert.deepEqual(result.json(), [
      { subscription: 'orders-sub', examined: 400, toExamine: 1000, moved: 400, recovered: 0, done: false },
      { subscription: 'orders-sub', examined: 600, toExamine: 600, moved: 1000, recovered: 10, done: true },
    ]);
  });

  it('stops on Ctrl-C, cancelling the call, and says to run the same command again', async () => {
    const clients = new FakeClients();
    const result = await runCli(['dlq', 'redrive', 'orders-sub'], clients, {
      whileRunning: async ({ interrupt }) => {
        await until(() => clients.redrives.length === 1);
        clients.redrives[0]!.call.emit('data', progress({ examined: 300, toExamine: 1000, moved: 250 }));
        interrupt();
      },
    });
    assert.equal(result.code, 130);
    assert.equal(clients.redrives[0]!.call.cancelled, true);
    assert.equal(
      result.stderr,
      'herald: interrupted: moved 250 dead letters back to "orders-sub"; run the same command again to move the rest\n',
    );
    assert.equal(clients.redrives.length, 1, 'not called again');
  });

  it('exits with the status of a failure other than UNAVAILABLE, without calling again', async () => {
    const clients = new FakeClients();
    const result = await runCli(['dlq', 'redrive', 'orders-sub'], clients, {
      whileRunning: async () => {
        await until(() => clients.redrives.length === 1);
        clients.redrives[0]!.call.emit(
          'error',
          Object.assign(new Error('busy'), {
            code: 9,
            details: 'a redrive of subscription "orders-sub" is running already; wait for it to end or cancel it',
          }),
        );
      },
    });
    assert.equal(result.code, 9);
    assert.match(result.stderr, /FAILED_PRECONDITION: a redrive of subscription "orders-sub" is running already/);
    assert.equal(clients.redrives.length, 1);
  });

  it('gives up after --retry-timeout without progress', async () => {
    const clients = new FakeClients();
    const result = await runCli(['--retry-timeout', '1ms', 'dlq', 'redrive', 'orders-sub'], clients, {
      whileRunning: async () => {
        await until(() => clients.redrives.length === 1);
        await new Promise((resolve) => setTimeout(resolve, 5));
        clients.redrives[0]!.call.emit('error', unavailable());
      },
    });
    assert.equal(result.code, 14);
    assert.match(result.stderr, /UNAVAILABLE: the subscription moved/);
  });

  it('refuses a rate that is not a whole number', async () => {
    const result = await runCli(['dlq', 'redrive', 'orders-sub', '--rate', '0'], new FakeClients());
    assert.equal(result.code, 2);
  });
});
