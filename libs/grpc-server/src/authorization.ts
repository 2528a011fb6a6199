import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@herald/errors';
import type { Principal } from './auth';

/**
 * Herald's authorisation model, in the style of Pub/Sub's IAM: permissions
 * are granted through roles, roles are bound to principals in a policy, and a
 * policy is attached to a topic, a subscription or the whole of Herald. What a
 * principal may do on a resource is the union of the bindings on the resource
 * and on Herald. Pure: where policies are stored (the registry's log) and how
 * they reach each service (Watch) is the caller's business.
 */

/** Everything a call can be allowed to do. */
export const permissions = [
  'topics.create',
  'topics.get',
  'topics.delete',
  'topics.publish',
  'topics.attachSubscription',
  'topics.tail',
  'subscriptions.create',
  'subscriptions.get',
  'subscriptions.update',
  'subscriptions.delete',
  'subscriptions.seek',
  'subscriptions.consume',
  'subscriptions.stats',
  'subscriptions.deadLetters',
  'registry.watch',
  'iam.get',
  'iam.set',
] as const;
export type Permission = (typeof permissions)[number];

const viewer: Permission[] = ['topics.get', 'subscriptions.get', 'subscriptions.stats'];
const editor: Permission[] = [
  ...viewer,
  'topics.create',
  'topics.delete',
  'topics.publish',
  'topics.attachSubscription',
  'topics.tail',
  'subscriptions.create',
  'subscriptions.update',
  'subscriptions.delete',
  'subscriptions.seek',
  'subscriptions.consume',
  'subscriptions.deadLetters',
];

/** The roles and what each grants. */
export const roles = {
  viewer,
  publisher: ['topics.get', 'topics.publish'],
  subscriber: ['subscriptions.get', 'subscriptions.consume'],
  editor,
  admin: [...editor, 'registry.watch', 'iam.get', 'iam.set'],
} satisfies Record<string, Permission[]>;
export type Role = keyof typeof roles;

/** What a policy is attached to. */
export type Resource = { kind: 'herald' } | { kind: 'topic'; name: string } | { kind: 'subscription'; name: string };

/** Matches every authenticated principal. */
export const allAuthenticated = 'allAuthenticated';

export interface Binding {
  role: Role;
  /** Principal ids (`jwt:alice`, `mtls:spiffe://herald/publisher`) or {@link allAuthenticated}. */
  members: string[];
}

export interface Policy {
  bindings: Binding[];
  /** Changes with every version of the policy: a write names the etag it read, and fails if it moved on. */
  etag: string;
}

/** Where the policies in force come from (in a service: its copy of the registry's state). */
export interface PolicySource {
  policy(resource: Resource): Policy | undefined;
  /**
   * Calls `listener` after the policies changed, where the source knows when
   * (a Watch event); the open streams are checked again then. Absent: the
   * source gives no notice (the policy file is read lazily).
   */
  onChange?(listener: () => void): void;
}

/**
 * The etag of a policy's bindings at a revision of the registry's log:
 * bindings in any order, and members in any order, give the same etag.
 */
export function policyEtag(bindings: Binding[], revision: string): string {
  const canonical = bindings
    .map((binding) => ({ role: binding.role, members: [...new Set(binding.members)].sort() }))
    .sort((a, b) => a.role.localeCompare(b.role) || a.members.join(',').localeCompare(b.members.join(',')));
  return createHash('sha256').update(JSON.stringify({ canonical, revision })).digest('base64url').slice(0, 22);
}

/** Whether a write that read `etag` may replace `current`: an absent etag means "whatever is there". */
export function etagMatches(current: Policy | undefined, etag: string | undefined): boolean {
  if (etag === undefined || etag === '') return true;
  return current?.etag === etag;
}

/** What each role grants, as sets: built once, looked up on every call. */
const roleGrants = new Map<string, ReadonlySet<Permission>>(
  Object.entries(roles).map(([role, granted]) => [role, new Set<Permission>(granted)]),
);

/**
 * What `role` grants. A role that is not one of Herald's own keys reads
 * `roles` as the check always did (nothing for an unknown name).
 */
function grantsOf(role: string): ReadonlySet<Permission> {
  return roleGrants.get(role) ?? new Set(roles[role as Role] ?? []);
}

/** The policies that apply to `resource`: Herald's, then its own. */
function policiesOn(resource: Resource, source: PolicySource): Array<Policy | undefined> {
  const policies = [source.policy({ kind: 'herald' })];
  if (resource.kind !== 'herald') policies.push(source.policy(resource));
  return policies;
}

function binds(binding: Binding, principal: Principal): boolean {
  return binding.members.includes(principal.id) || binding.members.includes(allAuthenticated);
}

/** The permissions `principal` holds on `resource`: its own policy's and Herald's. */
export function grantedPermissions(
  principal: Principal | undefined,
  resource: Resource,
  source: PolicySource,
): Set<Permission> {
  const granted = new Set<Permission>();
  if (!principal) return granted;
  for (const policy of policiesOn(resource, source)) {
    for (const binding of policy?.bindings ?? []) {
      if (binds(binding, principal)) for (const permission of grantsOf(binding.role)) granted.add(permission);
    }
  }
  return granted;
}

/**
 * Whether `principal` may do `permission` on `resource`. Checked on every
 * request message, so it stops at the first binding that grants it instead
 * of collecting everything the principal holds.
 */
export function isAllowed(
  principal: Principal | undefined,
  permission: Permission,
  resource: Resource,
  source: PolicySource,
): boolean {
  if (!principal) return false;
  for (const policy of policiesOn(resource, source)) {
    for (const binding of policy?.bindings ?? []) {
      if (binds(binding, principal) && grantsOf(binding.role).has(permission)) return true;
    }
  }
  return false;
}

/** A permission a call needs, on what. */
export interface Requirement {
  permission: Permission;
  resource: Resource;
}

const herald: Resource = { kind: 'herald' };
const topic = (name: unknown): Resource => ({ kind: 'topic', name: String(name ?? '') });
const subscription = (name: unknown): Resource => ({ kind: 'subscription', name: String(name ?? '') });
type Request = Record<string, unknown>;

/**
 * The resource an IAM rpc names. A name of no known shape is checked as
 * Herald: only someone bound on the whole of Herald gets past the check,
 * to be told INVALID_ARGUMENT by the handler.
 */
function iamResource(request: Request): Resource {
  return parseResourceName(String(request.resource ?? '')) ?? herald;
}

/** Reading a subscription's dead letters; from a dead-letter topic named explicitly, reading that topic too. */
function deadLetters(request: Request): Requirement[] {
  const selection = (request.selection ?? {}) as Request;
  const needs: Requirement[] = [
    { permission: 'subscriptions.deadLetters', resource: subscription(selection.subscription) },
  ];
  if (selection.deadLetterTopic) needs.push({ permission: 'topics.tail', resource: topic(selection.deadLetterTopic) });
  return needs;
}

/**
 * What each rpc needs, from its request (for a stream: from each request
 * message). Lists (ListTopics, ListSubscriptions, Watch) need nothing up
 * front: the registry shows each item only to those who may get it
 * ({@link maySee}), so a caller with a role on one topic lists that topic, and
 * a caller with none gets an empty list, which reveals nothing.
 * TestIamPermissions needs nothing either: it answers about the caller only.
 * Creating a subscription needs the right to attach one to its topic, as in
 * Pub/Sub, so that a topic's owner decides who reads it.
 */
export const rpcRequirements: Record<string, (request: Request) => Requirement[]> = {
  '/herald.v1.PublisherService/Publish': (r) => [{ permission: 'topics.publish', resource: topic(r.topic) }],
  '/herald.v1.PublisherService/PublishStream': (r) => [{ permission: 'topics.publish', resource: topic(r.topic) }],
  '/herald.v1.SubscriberRegistryService/CreateTopic': () => [{ permission: 'topics.create', resource: herald }],
  '/herald.v1.SubscriberRegistryService/GetTopic': (r) => [{ permission: 'topics.get', resource: topic(r.name) }],
  '/herald.v1.SubscriberRegistryService/ListTopics': () => [],
  '/herald.v1.SubscriberRegistryService/DeleteTopic': (r) => [{ permission: 'topics.delete', resource: topic(r.name) }],
  '/herald.v1.SubscriberRegistryService/CreateSubscription': (r) => {
    const spec = (r.subscription ?? {}) as Request;
    return [
      { permission: 'subscriptions.create', resource: herald },
      { permission: 'topics.attachSubscription', resource: topic(spec.topic) },
    ];
  },
  '/herald.v1.SubscriberRegistryService/GetSubscription': (r) => [
    { permission: 'subscriptions.get', resource: subscription(r.name) },
  ],
  '/herald.v1.SubscriberRegistryService/ListSubscriptions': () => [],
  '/herald.v1.SubscriberRegistryService/UpdateSubscription': (r) => [
    { permission: 'subscriptions.update', resource: subscription(((r.subscription ?? {}) as Request).name) },
  ],
  '/herald.v1.SubscriberRegistryService/DeleteSubscription': (r) => [
    { permission: 'subscriptions.delete', resource: subscription(r.name) },
  ],
  '/herald.v1.SubscriberRegistryService/Seek': (r) => [
    { permission: 'subscriptions.seek', resource: subscription(r.subscription) },
  ],
  '/herald.v1.SubscriberRegistryService/Watch': () => [],
  '/herald.v1.SubscriberRegistryService/SetIamPolicy': (r) => [{ permission: 'iam.set', resource: iamResource(r) }],
  '/herald.v1.SubscriberRegistryService/GetIamPolicy': (r) => [{ permission: 'iam.get', resource: iamResource(r) }],
  '/herald.v1.SubscriberRegistryService/TestIamPermissions': () => [],
  '/herald.v1.DispatcherService/StreamingPull': (r) =>
    // Only the first request of a stream names its subscription; the later ones carry acks for it.
    r.subscription ? [{ permission: 'subscriptions.consume', resource: subscription(r.subscription) }] : [],
  '/herald.v1.DispatcherService/Tail': (r) => [{ permission: 'topics.tail', resource: topic(r.topic) }],
  '/herald.v1.DispatcherService/GetSubscriptionStats': (r) =>
    ((r.subscriptions ?? []) as unknown[]).map((name) => ({
      permission: 'subscriptions.stats' as const,
      resource: subscription(name),
    })),
  '/herald.v1.DispatcherService/PeekDeadLetters': (r) => deadLetters(r),
  '/herald.v1.DispatcherService/RedriveDeadLetters': (r) => deadLetters(r),
};

/**
 * The first requirement of `path` that `principal` does not meet with
 * `request`, or undefined when every one is met. An rpc missing from
 * {@link rpcRequirements} is refused: a new rpc is closed until someone says
 * who may call it.
 */
export function unmetRequirement(
  path: string,
  request: Request,
  principal: Principal | undefined,
  source: PolicySource,
): Requirement | { permission: 'unknown-rpc'; resource: Resource } | undefined {
  const requirements = rpcRequirements[path];
  if (!requirements) return { permission: 'unknown-rpc', resource: herald };
  return requirements(request).find(
    (requirement) => !isAllowed(principal, requirement.permission, requirement.resource, source),
  );
}

/** The resource name of the whole Herald in the IAM rpcs. */
export const heraldResourceName = 'herald';

/** A resource's name in the IAM rpcs: `herald`, `topics/<name>` or `subscriptions/<name>`. */
export function resourceName(resource: Resource): string {
  if (resource.kind === 'herald') return heraldResourceName;
  return `${resource.kind === 'topic' ? 'topics' : 'subscriptions'}/${resource.name}`;
}

/** The resource a name in the IAM rpcs stands for; undefined for a name of no known shape. */
export function parseResourceName(name: string): Resource | undefined {
  if (name === heraldResourceName) return { kind: 'herald' };
  const slash = name.indexOf('/');
  const collection = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  if (slash < 0 || rest === '') return undefined;
  if (collection === 'topics') return { kind: 'topic', name: rest };
  if (collection === 'subscriptions') return { kind: 'subscription', name: rest };
  return undefined;
}

/** The limits of one policy, so that a policy event stays far below a Kafka record's size. */
export const policyLimits = { members: 1000, memberLength: 512 } as const;

/**
 * A policy's bindings as they are stored: one binding per role, in role order,
 * each member once, sorted; bindings without members dropped. So two policies
 * that grant the same have the same bindings, and the same etag.
 *
 * @throws InvalidArgumentError naming the binding that is not valid.
 */
export function normalizeBindings(bindings: Array<{ role: string; members: string[] }>): Binding[] {
  const byRole = new Map<Role, Set<string>>();
  let count = 0;
  bindings.forEach((binding, i) => {
    if (!Object.hasOwn(roles, binding.role)) {
      throw new InvalidArgumentError(
        `policy.bindings[${i}].role`,
        `"${binding.role}" is not a role; roles are ${Object.keys(roles).join(', ')}`,
      );
    }
    const members = byRole.get(binding.role as Role) ?? new Set<string>();
    binding.members.forEach((member, j) => {
      if (member === '' || member.length > policyLimits.memberLength || /\s/.test(member)) {
        throw new InvalidArgumentError(
          `policy.bindings[${i}].members[${j}]`,
          `must be 1 to ${policyLimits.memberLength} characters without spaces`,
        );
      }
      if (member !== allAuthenticated && !/^(jwt|mtls):./.test(member)) {
        throw new InvalidArgumentError(
          `policy.bindings[${i}].members[${j}]`,
          `must be jwt:<subject>, mtls:<certificate identity> or ${allAuthenticated}`,
        );
      }
      members.add(member);
    });
    count += binding.members.length;
    byRole.set(binding.role as Role, members);
  });
  if (count > policyLimits.members) {
    throw new InvalidArgumentError('policy.bindings', `name ${count} members; the limit is ${policyLimits.members}`);
  }
  return [...byRole]
    .filter(([, members]) => members.size > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([role, members]) => ({ role, members: [...members].sort() }));
}

/** The etag of a resource without a policy: a write naming it succeeds only while there is still none. */
export const absentPolicyEtag = policyEtag([], 'absent');

/**
 * The union of several sources: a principal holds on a resource what any of
 * them grants it. The etag is the last source's (the one that can be edited:
 * the registry's log). Grants only add up; nothing in one source can take away
 * what another grants.
 */
export class UnionPolicySource implements PolicySource {
  private readonly sources: PolicySource[];

  constructor(...sources: PolicySource[]) {
    this.sources = sources;
  }

  onChange(listener: () => void): void {
    for (const source of this.sources) source.onChange?.(listener);
  }

  policy(resource: Resource): Policy | undefined {
    const found = this.sources.map((source) => source.policy(resource));
    if (found.every((policy) => policy === undefined)) return undefined;
    return {
      bindings: found.flatMap((policy) => policy?.bindings ?? []),
      etag: found.at(-1)?.etag ?? absentPolicyEtag,
    };
  }
}

/** The permissions among `requested` that `principal` holds on `resource`, in the order asked, each once. */
export function heldPermissions(
  principal: Principal | undefined,
  resource: Resource,
  requested: string[],
  source: PolicySource,
): string[] {
  const granted = grantedPermissions(principal, resource, source);
  return [...new Set(requested)].filter((permission) => granted.has(permission as Permission));
}

/**
 * Whether `principal` may see a resource in a list or a Watch: the same as
 * being allowed to get it. A binding on Herald covers every resource.
 */
export function maySee(principal: Principal | undefined, resource: Resource, source: PolicySource): boolean {
  if (resource.kind === 'herald') return isAllowed(principal, 'registry.watch', resource, source);
  return isAllowed(principal, resource.kind === 'topic' ? 'topics.get' : 'subscriptions.get', resource, source);
}

/** Whether `principal` sees everything in the registry, policies included (Herald's own services, admins). */
export function seesEverything(principal: Principal | undefined, source: PolicySource): boolean {
  return isAllowed(principal, 'registry.watch', { kind: 'herald' }, source);
}

/**
 * A {@link PolicySource} over policies kept by resource name, as a service's
 * copy of the registry (its Watch) holds them. Roles this build does not know
 * grant nothing.
 */
export function policiesByName(
  lookup: (resource: string) => { bindings: Array<{ role: string; members: string[] }>; etag: string } | undefined,
  onChange?: (listener: () => void) => void,
): PolicySource {
  return {
    policy: (resource) => {
      const found = lookup(resourceName(resource));
      return found && { bindings: found.bindings as Binding[], etag: found.etag };
    },
    onChange,
  };
}
