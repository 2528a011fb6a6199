import assert from 'node:assert/strict';
import { dependenciesDownInLog, lastErrorOfLog } from './service-process';

describe('lastErrorOfLog', () => {
  it("gives the last error or fatal line's message, with its error's", () => {
    const log = [
      '{"level":"info","msg":"listening"}',
      '{"level":"error","msg":"registry watch interrupted","err":{"message":"connect ECONNREFUSED"}}',
      '{"level":"warn","msg":"retrying"}',
      '{"level":"fatal","msg":"start-up failed: Kafka unavailable while listing topics: Local: Broker transport failure"}',
    ].join('\n');
    assert.equal(
      lastErrorOfLog(log),
      'start-up failed: Kafka unavailable while listing topics: Local: Broker transport failure',
    );
    assert.equal(
      lastErrorOfLog(log.split('\n').slice(0, 3).join('\n')),
      'registry watch interrupted: connect ECONNREFUSED',
    );
  });

  it("gives Node.js's line for a process that died of an uncaught exception", () => {
    const log = [
      '{"level":"info","msg":"starting"}',
      'node:internal/modules/cjs/loader:1921',
      '  return process.dlopen(module, path.toNamespacedPath(filename));',
      'Error: /x/librdkafka.node: undefined symbol: napi_foo',
      '    at Module._extensions..node (node:internal/modules/cjs/loader:1921:18) {',
      "  code: 'ERR_DLOPEN_FAILED'",
      '}',
      'Node.js v20.20.2',
    ].join('\n');
    assert.equal(lastErrorOfLog(log), 'Error: /x/librdkafka.node: undefined symbol: napi_foo');
  });

  it('is undefined for a log without errors', () => {
    assert.equal(lastErrorOfLog('{"level":"info","msg":"listening"}\n'), undefined);
  });
});

describe('dependenciesDownInLog', () => {
  it('lists what was reported down and not back since', () => {
    const log = [
      '{"level":"info","dependency":"kafka","up":false,"msg":"dependency down"}',
      '{"level":"info","dependency":"registry","up":false,"msg":"dependency down"}',
      '{"level":"info","dependency":"registry","up":true,"msg":"dependency back"}',
      'not json',
    ].join('\n');
    assert.deepEqual(dependenciesDownInLog(log), ['kafka']);
    assert.deepEqual(dependenciesDownInLog(''), []);
  });
});
