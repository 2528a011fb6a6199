import assert from 'node:assert/strict';
import { DispatcherServiceService, PublisherServiceService, SubscriberRegistryServiceService } from '@herald/api';
import type { Principal } from './auth';
import {
  type Binding,
  type Policy,
  type PolicySource,
  type Resource,
  allAuthenticated,
  etagMatches,
  isAllowed,
  policyEtag,
  rpcRequirements,
  unmetRequirement,
} from './authorization';

const who = (id: string): Principal => ({ id, method: 'jwt' });
const alice = who('jwt:alice');
const bob = who('jwt:bob');
const ops = who('mtls:ops');

/** Policies by resource, as a service's copy of the registry's state would hold them. */
function source(policies: Array<[Resource, Binding[]]>): PolicySource {
  const key = (resource: Resource) => (resource.kind === 'herald' ? 'herald' : `${resource.kind}/${resource.name}`);
  const byKey = new Map<string, Policy>(
    policies.map(([resource, bindings]) => [key(resource), { bindings, etag: policyEtag(bindings, '1') }]),
  );
  return { policy: (resource) => byKey.get(key(resource)) };
}

describe('authorisation model', () => {
  const orders: Resource = { kind: 'topic', name: 'orders' };
  const audit: Resource = { kind: 'subscription', name: 'orders-audit' };
  const policies = source([
    [
      { kind: 'herald' },
      [
        { role: 'admin', members: ['mtls:ops'] },
        { role: 'viewer', members: [allAuthenticated] },
      ],
    ],
    [orders, [{ role: 'publisher', members: ['jwt:alice'] }]],
    [audit, [{ role: 'subscriber', members: ['jwt:bob'] }]],
  ]);

  it('grants what a role binds on the resource, and on the whole of Herald', () => {
    assert.ok(isAllowed(alice, 'topics.publish', orders, policies));
    assert.ok(!isAllowed(alice, 'topics.publish', { kind: 'topic', name: 'payments' }, policies));
    assert.ok(!isAllowed(alice, 'subscriptions.consume', audit, policies));
    assert.ok(isAllowed(bob, 'subscriptions.consume', audit, policies));
    assert.ok(!isAllowed(bob, 'topics.publish', orders, policies));
    assert.ok(isAllowed(ops, 'topics.delete', orders, policies), 'a global admin may do everything');
    assert.ok(isAllowed(ops, 'iam.set', audit, policies));
    assert.ok(isAllowed(bob, 'topics.get', orders, policies), 'everyone authenticated is a viewer here');
    assert.ok(!isAllowed(bob, 'topics.delete', orders, policies));
  });

  it('grants nothing to an unauthenticated caller, not even what allAuthenticated has', () => {
    assert.ok(!isAllowed(undefined, 'topics.get', orders, policies));
  });

  it('maps each rpc to what it needs, from its request', () => {
    const publish = { topic: 'orders', messages: [] };
    assert.equal(unmetRequirement('/herald.v1.PublisherService/Publish', publish, alice, policies), undefined);
    assert.deepEqual(unmetRequirement('/herald.v1.PublisherService/Publish', publish, bob, policies), {
      permission: 'topics.publish',
      resource: orders,
    });
    const create = { subscription: { name: 'mine', topic: 'orders' } };
    assert.equal(
      unmetRequirement('/herald.v1.SubscriberRegistryService/CreateSubscription', create, alice, policies)?.permission,
      'subscriptions.create',
    );
    assert.equal(
      unmetRequirement('/herald.v1.SubscriberRegistryService/CreateSubscription', create, ops, policies),
      undefined,
    );
    const pull = (subscription: string) => ({ subscription, ackIds: [] });
    assert.equal(
      unmetRequirement('/herald.v1.DispatcherService/StreamingPull', pull('orders-audit'), bob, policies),
      undefined,
    );
    assert.ok(unmetRequirement('/herald.v1.DispatcherService/StreamingPull', pull('orders-audit'), alice, policies));
    assert.equal(
      unmetRequirement('/herald.v1.DispatcherService/StreamingPull', pull(''), alice, policies),
      undefined,
      'later requests of a stream carry acks for the subscription checked at its start',
    );
    const peek = { selection: { subscription: 'orders-audit', deadLetterTopic: 'orders-dlq' } };
    assert.equal(
      unmetRequirement('/herald.v1.DispatcherService/PeekDeadLetters', peek, bob, policies)?.permission,
      'subscriptions.deadLetters',
    );
  });

  it('refuses an rpc nobody said who may call', () => {
    assert.equal(unmetRequirement('/herald.v1.SomethingNew/Do', {}, ops, policies)?.permission, 'unknown-rpc');
  });

  it('says what every rpc of every Herald service needs', () => {
    const paths = [PublisherServiceService, SubscriberRegistryServiceService, DispatcherServiceService].flatMap(
      (service) => Object.values(service).map((method) => method.path),
    );
    assert.deepEqual(
      paths.filter((path) => !rpcRequirements[path]),
      [],
    );
  });

  it('versions a policy with an etag that ignores order and changes with the revision', () => {
    const a: Binding[] = [
      { role: 'viewer', members: ['jwt:b', 'jwt:a'] },
      { role: 'admin', members: ['mtls:ops'] },
    ];
    const b: Binding[] = [
      { role: 'admin', members: ['mtls:ops'] },
      { role: 'viewer', members: ['jwt:a', 'jwt:b'] },
    ];
    assert.equal(policyEtag(a, '7'), policyEtag(b, '7'));
    assert.notEqual(policyEtag(a, '7'), policyEtag(a, '8'));
    assert.notEqual(policyEtag(a, '7'), policyEtag([{ role: 'viewer', members: ['jwt:a'] }], '7'));
    const current = { bindings: a, etag: policyEtag(a, '7') };
    assert.ok(etagMatches(current, current.etag));
    assert.ok(!etagMatches(current, policyEtag(a, '6')), 'a write that read an older version fails');
    assert.ok(etagMatches(current, ''), 'no etag: overwrite whatever is there');
  });
});
