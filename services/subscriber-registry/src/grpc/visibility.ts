import {
  type PolicySource,
  type Principal,
  type Resource,
  heldPermissions,
  maySee,
  permissions,
  seesEverything,
} from '@herald/grpc-server';
import type { Subscription, Topic } from '../domain/registry-model';

/**
 * What a caller may see of the registry, from the policies in force (the
 * policy file's and the log's). Without authorisation (no policy file) every
 * caller sees everything, as every caller may do everything.
 */
export class Visibility {
  constructor(
    /** The bindings every call is checked against; undefined when authorisation is off. */
    readonly effective: PolicySource | undefined,
    /** The policy file's bindings alone, shown by GetIamPolicy as what the API cannot change. */
    readonly file: PolicySource | undefined,
  ) {}

  /** Whether the caller sees every topic, subscription and policy (Herald's own services, admins). */
  seesEverything(principal: Principal | undefined): boolean {
    return !this.effective || seesEverything(principal, this.effective);
  }

  /** Which topics the caller may see; checked for each topic at the time it is listed or sent. */
  topics(principal: Principal | undefined): (topic: Topic) => boolean {
    const source = this.effective;
    if (!source || seesEverything(principal, source)) return () => true;
    return (topic) => maySee(principal, { kind: 'topic', name: topic.name }, source);
  }

  /** Which subscriptions the caller may see. */
  subscriptions(principal: Principal | undefined): (subscription: Subscription) => boolean {
    const source = this.effective;
    if (!source || seesEverything(principal, source)) return () => true;
    return (subscription) => maySee(principal, { kind: 'subscription', name: subscription.name }, source);
  }

  /** TestIamPermissions: what the caller holds among `requested`; everything known when authorisation is off. */
  held(principal: Principal | undefined, resource: Resource, requested: string[]): string[] {
    if (!this.effective) return [...new Set(requested)].filter((p) => (permissions as readonly string[]).includes(p));
    return heldPermissions(principal, resource, requested, this.effective);
  }
}
