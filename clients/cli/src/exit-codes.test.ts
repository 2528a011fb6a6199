import assert from 'node:assert/strict';
import { HeraldClientError } from '@herald/client';
import { CommanderError } from 'commander';
import { EXIT_USAGE, InterruptedError, UsageError, errorLine, exitCodeFor } from './exit-codes';

describe('exit codes', () => {
  it('are the gRPC status code of a failed call', () => {
    assert.equal(exitCodeFor(new HeraldClientError(5, 'topic "x" not found')), 5);
    assert.equal(exitCodeFor(new HeraldClientError(14, 'down')), 14);
    assert.equal(exitCodeFor(new HeraldClientError(6, 'exists')), 6);
  });

  it('are 2 for usage errors, from commander or the commands', () => {
    assert.equal(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'bad')), EXIT_USAGE);
    assert.equal(exitCodeFor(new UsageError('nothing to change')), 2);
  });

  it('are 0 for --help and --version, which commander ends with an exception', () => {
    assert.equal(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)')), 0);
  });

  it('are 2 (UNKNOWN) for anything else', () => assert.equal(exitCodeFor(new Error('boom')), 2));

  it('come with one line for stderr, except what commander printed itself', () => {
    assert.equal(errorLine(new HeraldClientError(5, 'topic "x" not found')), 'herald: NOT_FOUND: topic "x" not found');
    assert.equal(errorLine(new UsageError('give --topic')), 'herald: error: give --topic');
    assert.equal(errorLine(new CommanderError(1, 'commander.missingArgument', 'error: missing')), undefined);
  });

  it('are 130 after Ctrl-C stopped a command halfway', () => {
    assert.equal(exitCodeFor(new InterruptedError('interrupted: published 3 messages')), 130);
    assert.equal(
      errorLine(new InterruptedError('interrupted: published 3 messages')),
      'herald: interrupted: published 3 messages',
    );
  });

  describe("grpc-js's connection failures, said plainly on one line", () => {
    const said = (code: number, details: string) => {
      const error = new HeraldClientError(code, details);
      return [exitCodeFor(error), errorLine(error)];
    };

    it('a call that never got a connection is UNAVAILABLE (14), not a DEADLINE_EXCEEDED about an "LB pick"', () => {
      assert.deepEqual(said(4, 'Deadline exceeded after 21.004s,Waiting for LB pick'), [
        14,
        'herald: UNAVAILABLE: no connection to the service within 21.004 s',
      ]);
    });

    it('a deadline passed on a connection names the address', () => {
      assert.deepEqual(said(4, 'Deadline exceeded after 5.002s,LB pick: 0.001s,remote_addr=127.0.0.1:50052'), [
        4,
        'herald: DEADLINE_EXCEEDED: no answer from 127.0.0.1:50052 within 5.002 s',
      ]);
    });

    it('a refused connection names the address, without an empty "Resolution note:"', () => {
      assert.deepEqual(
        said(14, 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: '),
        [14, 'herald: UNAVAILABLE: cannot connect to 127.0.0.1:1 (connection refused)'],
      );
    });

    it('an unknown host says so', () => {
      assert.deepEqual(said(14, 'Name resolution failed for target dns:nohost.invalid:50052\nResolution note: '), [
        14,
        'herald: UNAVAILABLE: cannot resolve the host of nohost.invalid:50052 (unknown host)',
      ]);
    });

    it("leaves the services' own messages as they are", () => {
      assert.deepEqual(said(14, 'Kafka is unreachable: no broker answered for 12 s'), [
        14,
        'herald: UNAVAILABLE: Kafka is unreachable: no broker answered for 12 s',
      ]);
    });
  });
});
