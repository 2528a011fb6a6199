import assert from 'node:assert/strict';
import { waitFor } from '@herald/testkit';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { PullStream } from './pull-stream';

describe('dispatcher failover (3-broker Kafka)', function () {
  this.timeout(180_000);
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture('failover');
  });
  after(async () => f?.close());

  it('redelivers what a kill -9ed dispatcher had leased through the other one; nothing is lost', async () => {
    await f.createTopic('crash', 6);
    await f.createSubscription({ name: 'crash-sub', topic: 'crash', ackDeadlineSeconds: 60 });
    let holding = false;
    // The victim acknowledges until told to hold, then leaves everything leased.
    const victim = new PullStream(f.dispatchers[0]!, {
      subscription: 'crash-sub',
      decide: () => (holding ? 'hold' : 'ack'),
    });
    const survivor = new PullStream(f.dispatchers[1]!, { subscription: 'crash-sub' });
    await f.waitForConsumers('crash-sub', 2);
    const first = await f.publish('crash', 3_000);
    await waitFor(() => first.every((id) => victim.acked.has(id) || survivor.acked.has(id)), {
      timeoutMillis: 60_000,
      description: 'first wave acknowledged',
    });
    holding = true;
    const second = await f.publish('crash', 3_000);
    await waitFor(() => victim.deliveries.length > victim.acked.size + 100, {
      description: 'victim holds leased messages',
    });
    const heldByVictim = [...victim.messageIds].filter((id) => !victim.acked.has(id));
    const ackedByVictim = new Set(victim.acked);
    // Acks stop reaching the victim's dispatcher from here on; it commits on a 200 ms timer.
    f.stack.dispatchers[0]!.kill();
    await waitFor(() => heldByVictim.every((id) => survivor.acked.has(id)), {
      timeoutMillis: 90_000,
      description: 'the survivor redelivers what the victim held',
    });
    const all = [...first, ...second];
    await waitFor(() => all.every((id) => survivor.acked.has(id) || ackedByVictim.has(id)), {
      timeoutMillis: 60_000,
      description: 'every message acknowledged by someone',
    });
    const redeliveredAfterAck = [...ackedByVictim].filter((id) => survivor.messageIds.has(id));
    victim.close();
    survivor.close();
    console.log(
      `      victim held ${heldByVictim.length} leased messages, all redelivered; ${redeliveredAfterAck.length} of the ${ackedByVictim.size} it had acknowledged came again`,
    );
    // Acks of the first wave were committed long before the kill: none of them may come back.
    assert.equal(redeliveredAfterAck.filter((id) => first.includes(id)).length, 0);
    assert.ok(heldByVictim.length > 0);
  });
});
