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
    // The victim is connected to the dispatcher serving the subscription, the survivor is relayed
    // there through the other: the kill takes the subscription's state with it, and the survivor's
    // stream, which then reconnects to the dispatcher that takes the subscription over.
    const opener = new PullStream(f.dispatchers[0]!, { subscription: 'crash-sub' });
    const owner = await f.servedBy('crash-sub');
    opener.close();
    const victim = new PullStream(f.dispatchers[owner]!, {
      subscription: 'crash-sub',
      decide: () => (holding ? 'hold' : 'ack'),
    });
    const survivor = new PullStream(f.dispatchers[1 - owner]!, { subscription: 'crash-sub' });
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
    // Acks stop reaching the victim's dispatcher from here on; it stores cursors on a 200 ms timer.
    f.stack.dispatchers[owner]!.kill();
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
    assert.ok(survivor.reconnects > 0, 'the survivor reconnected to the new owner');
    console.log(
      `      survivor reconnected ${survivor.reconnects} time(s); victim held ${heldByVictim.length} leased messages, all redelivered; ${redeliveredAfterAck.length} of the ${ackedByVictim.size} it had acknowledged came again`,
    );
    // Acks of the first wave were committed long before the kill: none of them may come back.
    assert.equal(redeliveredAfterAck.filter((id) => first.includes(id)).length, 0);
    assert.ok(heldByVictim.length > 0);
  });
});
