import assert from 'node:assert/strict';
import { ConfigError } from '@herald/config';
import { readPublisherConfig } from './config';

const MiB = 1024 * 1024;

describe('readPublisherConfig', () => {
  it('reads requests well past the publish limits by default, so that validation names the limit', () => {
    const config = readPublisherConfig({});
    assert.equal(config.PUBLISHER_MAX_RECEIVE_BYTES, 64 * MiB);
    assert.ok(config.PUBLISHER_MAX_RECEIVE_BYTES >= 2 * config.PUBLISHER_MAX_BATCH_BYTES);
  });

  it('refuses a receive limit that leaves no room for a batch at the batch limit', () => {
    assert.throws(
      () =>
        readPublisherConfig({
          PUBLISHER_MAX_BATCH_BYTES: String(40 * MiB),
          PUBLISHER_MAX_RECEIVE_BYTES: String(40 * MiB),
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /PUBLISHER_MAX_RECEIVE_BYTES is 41943040: must be at least PUBLISHER_MAX_BATCH_BYTES \+ 1 MiB \(42991616\)/.test(
          error.message,
        ),
    );
  });
});
