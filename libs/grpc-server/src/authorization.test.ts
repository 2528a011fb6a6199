import assert from 'node:assert/strict';
import { DispatcherServiceService, PublisherServiceService, SubscriberRegistryServiceService } from '@herald/api';
import type { Principal } from './auth';
import {
  type Binding,
  type Policy,
  type PolicySource,
  type Resource,
  UnionPolicySource,
  absentPolicyEtag,
  allAuthenticated,
  etagMatches,
  heldPermissions,
  isAllowed,
  maySee,
  normalizeBindings,
  parseResourceName,
  permissions,
  policiesByName,
  policyEtag,
  resourceName,
  roles,
  rpcRequirements,
  seesEverything,
  unmetRequirement,
} from './authorization';
import { InvalidArgumentError } from '@herald/errors';

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

  it('allows exactly what the roles table grants, for every role and permission, bound here or on Herald', () => {
    for (const role of Object.keys(roles) as Array<keyof typeof roles>) {
      const granted: readonly string[] = roles[role];
      const onTopic = source([[orders, [{ role, members: ['jwt:alice'] }]]]);
      const onHerald = source([[{ kind: 'herald' }, [{ role, members: [allAuthenticated] }]]]);
      for (const permission of permissions) {
        const expected = granted.includes(permission);
        assert.equal(isAllowed(alice, permission, orders, onTopic), expected, `${role} on the topic: ${permission}`);
        assert.equal(
          isAllowed(bob, permission, orders, onTopic),
          false,
          `${role} bound to someone else: ${permission}`,
        );
        assert.equal(isAllowed(bob, permission, orders, onHerald), expected, `${role} on Herald: ${permission}`);
        assert.equal(isAllowed(undefined, permission, orders, onHerald), false, `no principal: ${permission}`);
        assert.deepEqual(heldPermissions(alice, orders, [permission], onTopic), expected ? [permission] : []);
      }
    }
  });

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

  it('lets anyone call the lists, Watch and TestIamPermissions, and asks iam.get and iam.set of the policy rpcs', () => {
    const registry = '/herald.v1.SubscriberRegistryService/';
    for (const rpc of ['ListTopics', 'ListSubscriptions', 'Watch', 'TestIamPermissions']) {
      assert.equal(
        unmetRequirement(`${registry}${rpc}`, { resource: 'herald' }, who('jwt:nobody'), policies),
        undefined,
      );
    }
    assert.deepEqual(unmetRequirement(`${registry}GetIamPolicy`, { resource: 'topics/orders' }, alice, policies), {
      permission: 'iam.get',
      resource: orders,
    });
    assert.equal(unmetRequirement(`${registry}SetIamPolicy`, { resource: 'topics/orders' }, ops, policies), undefined);
    // A malformed name is checked as Herald: only a Herald-wide admin gets as far as INVALID_ARGUMENT.
    assert.deepEqual(unmetRequirement(`${registry}SetIamPolicy`, { resource: 'nonsense' }, alice, policies), {
      permission: 'iam.set',
      resource: { kind: 'herald' },
    });
  });
});

describe('IAM policy logic', () => {
  const orders: Resource = { kind: 'topic', name: 'orders' };
  const payments: Resource = { kind: 'topic', name: 'payments' };

  it('names resources as the IAM rpcs do, and reads the names back', () => {
    const cases: Array<[string, Resource | undefined]> = [
      ['herald', { kind: 'herald' }],
      ['topics/orders', orders],
      ['subscriptions/orders.audit', { kind: 'subscription', name: 'orders.audit' }],
      ['topics/', undefined],
      ['topic/orders', undefined],
      ['orders', undefined],
      ['', undefined],
    ];
    for (const [name, resource] of cases) {
      assert.deepEqual(parseResourceName(name), resource, name);
      if (resource) assert.equal(resourceName(resource), name);
    }
  });

  it('normalises bindings: one per role, members once and sorted, empty ones dropped', () => {
    assert.deepEqual(
      normalizeBindings([
        { role: 'viewer', members: ['jwt:b', 'jwt:a'] },
        { role: 'admin', members: ['mtls:ops'] },
        { role: 'viewer', members: ['jwt:a', allAuthenticated] },
        { role: 'editor', members: [] },
      ]),
      [
        { role: 'admin', members: ['mtls:ops'] },
        { role: 'viewer', members: [allAuthenticated, 'jwt:a', 'jwt:b'] },
      ],
    );
  });

  it('refuses unknown roles and members that name no principal, saying which', () => {
    const field = (bindings: Array<{ role: string; members: string[] }>) => {
      try {
        normalizeBindings(bindings);
      } catch (error) {
        assert.ok(error instanceof InvalidArgumentError);
        return error.field;
      }
      return assert.fail('accepted');
    };
    assert.equal(field([{ role: 'owner', members: ['jwt:a'] }]), 'policy.bindings[0].role');
    assert.equal(field([{ role: 'toString', members: ['jwt:a'] }]), 'policy.bindings[0].role', 'not an inherited name');
    assert.equal(field([{ role: 'viewer', members: ['jwt:a', 'alice'] }]), 'policy.bindings[0].members[1]');
    assert.equal(field([{ role: 'viewer', members: ['jwt:a b'] }]), 'policy.bindings[0].members[0]');
    assert.equal(field([{ role: 'viewer', members: [`jwt:${'x'.repeat(600)}`] }]), 'policy.bindings[0].members[0]');
    const many = Array.from({ length: 1001 }, (_, i) => `jwt:u${i}`);
    assert.equal(field([{ role: 'viewer', members: many }]), 'policy.bindings');
  });

  it('adds the grants of every source up: file and log, resource and Herald', () => {
    const file = source([[{ kind: 'herald' }, [{ role: 'admin', members: ['mtls:herald-service'] }]]]);
    const log = source([
      [orders, [{ role: 'viewer', members: ['jwt:bob'] }]],
      [{ kind: 'herald' }, [{ role: 'publisher', members: ['jwt:alice'] }]],
    ]);
    const union = new UnionPolicySource(file, log);
    const service = who('mtls:herald-service');
    assert.ok(isAllowed(service, 'iam.set', orders, union), 'the file’s admin everywhere');
    assert.ok(isAllowed(bob, 'topics.get', orders, union));
    assert.ok(!isAllowed(bob, 'topics.get', payments, union));
    assert.ok(isAllowed(alice, 'topics.publish', payments, union), 'a binding on Herald covers every topic');
    assert.equal(union.policy(orders)?.etag, log.policy(orders)?.etag, 'the etag is the log’s');
    assert.equal(union.policy({ kind: 'subscription', name: 'none' }), undefined);
  });

  it('shows a resource to whoever may get it, and everything to whoever may watch Herald', () => {
    const policies = source([
      [orders, [{ role: 'viewer', members: ['jwt:bob'] }]],
      [{ kind: 'subscription', name: 'audit' }, [{ role: 'subscriber', members: ['jwt:bob'] }]],
      [{ kind: 'herald' }, [{ role: 'admin', members: ['mtls:ops'] }]],
    ]);
    assert.ok(maySee(bob, orders, policies));
    assert.ok(!maySee(bob, payments, policies));
    assert.ok(maySee(bob, { kind: 'subscription', name: 'audit' }, policies));
    assert.ok(!maySee(alice, orders, policies));
    assert.ok(!seesEverything(bob, policies));
    assert.ok(seesEverything(ops, policies));
    assert.ok(maySee(ops, payments, policies));
  });

  it('answers TestIamPermissions with what is held among what was asked, unknown names never', () => {
    const policies = source([[orders, [{ role: 'publisher', members: ['jwt:alice'] }]]]);
    assert.deepEqual(
      heldPermissions(
        alice,
        orders,
        ['topics.publish', 'topics.delete', 'topics.get', 'made.up', 'topics.get'],
        policies,
      ),
      ['topics.publish', 'topics.get'],
    );
    assert.deepEqual(heldPermissions(alice, payments, ['topics.publish'], policies), []);
    assert.deepEqual(heldPermissions(undefined, orders, ['topics.get'], policies), []);
  });

  it('reads policies kept by resource name, and lets unknown roles grant nothing', () => {
    const byName = new Map([
      ['topics/orders', { bindings: [{ role: 'viewer', members: ['jwt:bob'] }], etag: 'e1' }],
      ['herald', { bindings: [{ role: 'superuser', members: ['jwt:bob'] }], etag: 'e2' }],
    ]);
    const policies = policiesByName((name) => byName.get(name));
    assert.equal(policies.policy(orders)?.etag, 'e1');
    assert.ok(isAllowed(bob, 'topics.get', orders, policies));
    assert.ok(!isAllowed(bob, 'topics.delete', orders, policies));
  });

  it('gives a resource without a policy an etag of its own', () => {
    assert.notEqual(absentPolicyEtag, policyEtag([], '0'));
  });
});
