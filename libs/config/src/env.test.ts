import assert from 'node:assert/strict';
import { ConfigError, describeEnv, hostPorts, int, list, port, readEnv, str } from './env';

describe('readEnv', () => {
  const schema = {
    PORT: port({ default: 50051, desc: 'port' }),
    BROKERS: hostPorts({ default: ['127.0.0.1:9092'], desc: 'brokers' }),
    PARTITIONS: int(1, 1000)({ default: 3, desc: 'partitions' }),
    NAME: str({ desc: 'required name' }),
  };

  it('applies defaults and parses values', () => {
    const env = readEnv(schema, { NAME: 'x', PARTITIONS: '12', BROKERS: 'a:1, b:2' });
    assert.equal(env.PORT, 50051);
    assert.equal(env.PARTITIONS, 12);
    assert.deepEqual(env.BROKERS, ['a:1', 'b:2']);
    assert.equal(env.NAME, 'x');
  });

  it('names every bad variable at once', () => {
    assert.throws(
      () => readEnv(schema, { PORT: 'abc', PARTITIONS: '0', BROKERS: 'nohost' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(Object.keys(error.problems).sort(), ['BROKERS', 'NAME', 'PARTITIONS', 'PORT']);
        assert.match(error.message, /PORT has an invalid value "abc"/);
        assert.match(error.message, /NAME is required/);
        return true;
      },
    );
  });

  it('describes variables for the docs', () => {
    const docs = describeEnv(schema);
    assert.deepEqual(docs[1], { name: 'BROKERS', default: '127.0.0.1:9092', description: 'brokers' });
    assert.equal(docs[3]?.default, '(required)');
  });

  it('rejects an empty list', () => {
    assert.throws(() => list({})._parse(' , '), /at least one/);
  });
});
