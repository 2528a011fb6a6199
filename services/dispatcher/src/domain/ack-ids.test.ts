import assert from 'node:assert/strict';
import { AckIds } from './ack-ids';

const scope = 'orders-audit@17';

describe('AckIds', () => {
  const ackIds = new AckIds(Buffer.alloc(32, 1));

  describe('encode and decode', () => {
    for (const leaseId of [1, 2, 35, 36, 1_000_000, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      it(`round-trips lease ${leaseId}`, () => {
        assert.equal(ackIds.decode(scope, ackIds.encode(scope, leaseId)), leaseId);
      });
    }

    it('gives different leases different ack ids, and the same lease the same one', () => {
      const ids = new Set(Array.from({ length: 1_000 }, (_, i) => ackIds.encode(scope, i + 1)));
      assert.equal(ids.size, 1_000);
      assert.equal(ackIds.encode(scope, 9), ackIds.encode(scope, 9));
    });

    it('binds an ack id to its scope', () => {
      const id = ackIds.encode(scope, 7);
      assert.notEqual(ackIds.encode('orders-audit@18', 7), id);
      for (const other of ['orders-audit@18', 'orders-audit', 'other@17', '', `${scope} `]) {
        assert.equal(ackIds.decode(other, id), undefined, `scope ${JSON.stringify(other)}`);
      }
    });

    it('refuses ack ids of another secret, and of a default (random) secret', () => {
      const id = ackIds.encode(scope, 7);
      assert.equal(new AckIds(Buffer.alloc(32, 2)).decode(scope, id), undefined);
      assert.equal(new AckIds().decode(scope, id), undefined);
      assert.equal(new AckIds().decode(scope, new AckIds().encode(scope, 7)), undefined);
    });

    it('accepts ack ids of another instance with the same secret', () => {
      const twin = new AckIds(Buffer.alloc(32, 1));
      assert.equal(twin.decode(scope, ackIds.encode(scope, 123)), 123);
    });
  });

  describe('tampering', () => {
    it('refuses an ack id with any one character of its MAC changed', () => {
      const id = ackIds.encode(scope, 12_345);
      const dot = id.indexOf('.');
      for (let i = dot + 1; i < id.length; i++) {
        const changed = id[i] === 'A' ? 'B' : 'A';
        const tampered = id.slice(0, i) + changed + id.slice(i + 1);
        assert.equal(ackIds.decode(scope, tampered), undefined, tampered);
      }
    });

    it('refuses another lease number under a valid MAC', () => {
      const id = ackIds.encode(scope, 10);
      const mac = id.slice(id.indexOf('.') + 1);
      for (const lease of ['b', '9', 'A', '0a', 'a ', '-a']) {
        assert.equal(ackIds.decode(scope, `${lease}.${mac}`), undefined, lease);
      }
    });

    it('refuses a truncated or extended MAC', () => {
      const id = ackIds.encode(scope, 10);
      assert.equal(ackIds.decode(scope, id.slice(0, -1)), undefined);
      assert.equal(ackIds.decode(scope, `${id}A`), undefined);
      assert.equal(ackIds.decode(scope, `${id}.`), undefined);
    });

    const garbage = [
      '',
      '.',
      '..',
      'a',
      'a.',
      '.a',
      '1.x',
      'not an ack id',
      '1234567890123.abcdefghijklmnop', // a lease part longer than any real one
      'x'.repeat(10_000),
      `${'1'.repeat(1_000)}.${'A'.repeat(16)}`,
      '\u0000.\u0000',
      'ümlaut.ß',
      '🙂.🙂',
    ];
    for (const id of garbage) {
      it(`refuses garbage ${JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id)}`, () => {
        assert.equal(ackIds.decode(scope, id), undefined);
      });
    }
  });
});
