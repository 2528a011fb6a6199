import assert from 'node:assert/strict';
import { SubscriberRegistryServiceService, WatchResponse } from '@herald/api';
import { withSharedWatchEncoding } from './watch-stream';

describe('withSharedWatchEncoding', () => {
  const service = withSharedWatchEncoding(SubscriberRegistryServiceService);
  const response = (revision: string): WatchResponse => ({
    revision,
    kind: { $case: 'snapshot', value: { reset: true, topics: [], subscriptions: [], last: true, policies: [] } },
  });

  it('encodes a response shared by many watchers once, and as the generated code does', () => {
    const shared = response('42');
    const first = service.watch.responseSerialize(shared);
    assert.equal(service.watch.responseSerialize(shared), first, 'the same bytes, not encoded again');
    assert.deepEqual(first, SubscriberRegistryServiceService.watch.responseSerialize(shared));
    assert.deepEqual(
      WatchResponse.decode(first),
      WatchResponse.decode(Buffer.from(WatchResponse.encode(shared).finish())),
    );
  });

  it('encodes distinct responses apart', () => {
    const one = service.watch.responseSerialize(response('1'));
    const two = service.watch.responseSerialize(response('2'));
    assert.notDeepEqual(one, two);
  });

  it('leaves the other methods alone', () => {
    assert.equal(service.createTopic, SubscriberRegistryServiceService.createTopic);
  });
});
