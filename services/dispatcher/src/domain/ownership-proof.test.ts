import assert from 'node:assert/strict';
import { OwnershipProof } from './ownership-proof';

describe('OwnershipProof', () => {
  it('leases nothing before the writer fenced the earlier owners', () => {
    const proof = new OwnershipProof(5_000);
    assert.equal(proof.mayLease(0), false);
    assert.equal(proof.renewDue(0), false);
  });

  it('after a crash, waits out every earlier owner’s window before leasing', () => {
    const proof = new OwnershipProof(5_000);
    proof.fenced(1_000, 1_200, false);
    assert.equal(proof.mayLease(1_200), false);
    assert.equal(proof.mayLease(6_199), false);
    // The window from the fence itself has lapsed by then: leasing needs a commit after it.
    assert.equal(proof.mayLease(6_200), false);
    proof.committed(5_000);
    assert.equal(proof.mayLease(6_200), true);
  });

  it('after a clean hand-over, leases at once', () => {
    const proof = new OwnershipProof(5_000);
    proof.fenced(1_000, 1_200, true);
    assert.equal(proof.mayLease(1_200), true);
    assert.equal(proof.mayLease(5_999), true);
    assert.equal(proof.mayLease(6_000), false, 'the window counts from the start of the fence call');
  });

  it('counts the window from the start of the last successful commit, never back', () => {
    const proof = new OwnershipProof(5_000);
    proof.fenced(0, 10, true);
    proof.committed(3_000);
    proof.committed(2_000); // an earlier commit answered late moves nothing back
    assert.equal(proof.mayLease(7_999), true);
    assert.equal(proof.mayLease(8_000), false);
  });

  it('asks for a renewal once a third of the window is left', () => {
    const proof = new OwnershipProof(6_000);
    proof.fenced(0, 10, true);
    assert.equal(proof.renewDue(3_999), false);
    assert.equal(proof.renewDue(4_000), true);
  });

  it('stops leasing at once when revoked', () => {
    const proof = new OwnershipProof(5_000);
    proof.fenced(0, 10, true);
    proof.revoke();
    assert.equal(proof.mayLease(100), false);
    assert.equal(proof.renewDue(100), false);
  });
});
