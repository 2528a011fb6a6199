import assert from 'node:assert/strict';
import { defaultEndpoints, parseEndpointList, resolveEndpoints } from './endpoints';
import { UsageError } from './exit-codes';

describe('endpoints', () => {
  it("default to make run's ports", () => {
    assert.deepEqual(resolveEndpoints({}, {}), {
      registry: ['127.0.0.1:50052'],
      publisher: ['127.0.0.1:50051'],
      dispatcher: ['127.0.0.1:50053'],
    });
    assert.deepEqual(resolveEndpoints({}, {}), defaultEndpoints);
  });

  it('come from environment variables, and flags win over them', () => {
    const env = { HERALD_REGISTRY: 'r1:1,r2:2', HERALD_PUBLISHER: 'p:3', HERALD_DISPATCHER: '' };
    assert.deepEqual(resolveEndpoints({ publisher: 'flag:4' }, env), {
      registry: ['r1:1', 'r2:2'],
      publisher: ['flag:4'],
      dispatcher: ['127.0.0.1:50053'],
    });
  });

  it('accept spaces after commas, host names and bracketed IPv6', () => {
    assert.deepEqual(parseEndpointList('a.example.com:50052, [::1]:50052,', '--registry'), [
      'a.example.com:50052',
      '[::1]:50052',
    ]);
  });

  it('name the flag or variable of a bad entry', () => {
    assert.throws(() => parseEndpointList('host', '--registry'), /--registry: "host" is not host:port/);
    assert.throws(() => resolveEndpoints({}, { HERALD_DISPATCHER: 'h:99999' }), /HERALD_DISPATCHER: "h:99999"/);
    assert.throws(() => parseEndpointList(' , ', '--publisher'), UsageError);
  });
});
