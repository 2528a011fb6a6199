import assert from 'node:assert/strict';
import { OwnershipProof } from './ownership-proof';

describe('OwnershipProof', () => {
  it('leases nothing before the writer fenced the earlier owners and committed once', () => {
    const proof = new OwnershipProof(5_000);
    assert.equal(proof.mayLease(0), false);
    proof.fenced(100, true);
    assert.equal(proof.mayLease(100), false, 'the fence alone opens no window');
    assert.equal(proof.renewDue(100), true, 'a first commit is due at once');
    proof.committed(150);
    assert.equal(proof.mayLease(200), true);
  });

  it('after a crash, waits out every earlier owner’s window before leasing', () => {
    const proof = new OwnershipProof(5_000);
    proof.fenced(1_200, false);
    proof.committed(1_300);
    assert.equal(proof.mayLease(1_300), false);
    assert.equal(proof.mayLease(6_199), false);
    assert.equal(proof.mayLease(6_200), true);
    assert.equal(proof.mayLease(6_300), false, 'the first commit’s window lapsed: renewals keep it open');
    proof.committed(5_000);
    assert.equal(proof.mayLease(6_300), true);
  });

  it('after a clean hand-over, leases from the first commit on', () => {
    const proof = new OwnershipProof(5_000);
    proof.fenced(1_200, true);
    proof.committed(1_000);
    assert.equal(proof.mayLease(1_200), true);
    assert.equal(proof.mayLease(5_999), true);
    assert.equal(proof.mayLease(6_000), false, 'the window counts from the start of the commit');
  });

  it('counts the window from the start of the last successful commit, never back', () => {
    const proof = new OwnershipProof(5_000);
    proof.fenced(10, true);
    proof.committed(3_000);
    proof.committed(2_000); // an earlier commit answered late moves nothing back
    assert.equal(proof.mayLease(7_999), true);
    assert.equal(proof.mayLease(8_000), false);
  });

  it('asks for a renewal once a third of the window is left', () => {
    const proof = new OwnershipProof(6_000);
    proof.fenced(10, true);
    proof.committed(0);
    assert.equal(proof.renewDue(3_999), false);
    assert.equal(proof.renewDue(4_000), true);
  });

  it('stops leasing at once when revoked, and a commit answered later does not reopen it', () => {
    const proof = new OwnershipProof(5_000);
    proof.fenced(10, true);
    proof.committed(0);
    proof.revoke();
    assert.equal(proof.mayLease(100), false);
    assert.equal(proof.renewDue(100), false);
    proof.committed(50);
    assert.equal(proof.mayLease(100), false);
  });
});
