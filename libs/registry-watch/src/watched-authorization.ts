import { FilePolicySource, type PolicySource, UnionPolicySource, policiesByName } from '@herald/grpc-server';
import type { Logger } from '@herald/logging';
import { type RegistryWatcher, requireFullView } from './registry-watcher';

/** A service's authorisation when it learns the IAM policies from its registry Watch. */
export interface WatchedAuthorization {
  /** What calls are checked against; absent when authorisation is off (no policy file). */
  policies: PolicySource | undefined;
  /** Run once the watcher has started: fails when the Watch would be filtered ({@link requireFullView}). */
  requireFullView(): Promise<void>;
}

/**
 * The policy file (static base) and the policies set through SetIamPolicy, as
 * the service's Watch delivers them: checked on every call without asking the
 * registry (ADR 0006). The publisher and the dispatcher authorise this way;
 * the registry holds the policies itself and unions the file with its state.
 */
export function watchedAuthorization(
  watcher: RegistryWatcher,
  policyFile: string | undefined,
  logger: Logger,
): WatchedAuthorization {
  if (!policyFile) return { policies: undefined, requireFullView: async () => {} };
  return {
    policies: new UnionPolicySource(
      new FilePolicySource(policyFile, logger),
      policiesByName(
        (resource) => watcher.policy(resource),
        (listener) => watcher.on('change', (change) => change.kind === 'policy-changed' && listener()),
      ),
    ),
    requireFullView: () => requireFullView(watcher, logger),
  };
}
