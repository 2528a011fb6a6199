import assert from 'node:assert/strict';
import { HeraldClientError } from '@herald/client';
import { CommanderError } from 'commander';
import { EXIT_USAGE, UsageError, errorLine, exitCodeFor } from './exit-codes';

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
});
