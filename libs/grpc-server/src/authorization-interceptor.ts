import {
  Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
  ServerInterceptingCall,
  status,
} from '@grpc/grpc-js';
import { ReloadedFile } from '@herald/config';
import type { Logger } from '@herald/logging';
import { isExempt, principalOf } from './auth';
import {
  type Binding,
  type Policy,
  type PolicySource,
  type Requirement,
  type Resource,
  isAllowed,
  policyEtag,
  resourceName,
  roles,
  rpcRequirements,
  unmetRequirement,
} from './authorization';

/** The policy file: bindings on the whole of Herald, and per topic and subscription name. */
interface PolicyFile {
  herald?: Binding[];
  topics?: Record<string, Binding[]>;
  subscriptions?: Record<string, Binding[]>;
}

function checkedBindings(value: unknown, where: string): Binding[] {
  if (!Array.isArray(value)) throw new Error(`${where}: a list of bindings is expected`);
  return value.map((binding: unknown, i) => {
    const { role, members } = (binding ?? {}) as { role?: unknown; members?: unknown };
    if (typeof role !== 'string' || !Object.hasOwn(roles, role)) {
      throw new Error(`${where}[${i}]: role must be one of ${Object.keys(roles).join(', ')}`);
    }
    if (!Array.isArray(members) || !members.every((member) => typeof member === 'string' && member !== '')) {
      throw new Error(`${where}[${i}]: members must be a list of principal ids`);
    }
    return { role: role as Binding['role'], members: members as string[] };
  });
}

/**
 * Role bindings from a JSON file (HERALD_AUTHZ_POLICY_FILE), re-read when it
 * changes (checked at most once a second). A file that does not parse at
 * start throws; a change that does not parse is logged and the previous
 * bindings stay in force. The first step of authorisation, and how the first
 * admin is named: policies set through the API will sit on top of it.
 */
export class FilePolicySource implements PolicySource {
  private readonly policies: ReloadedFile<Map<string, Policy>>;
  private current: Map<string, Policy>;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {
    this.policies = new ReloadedFile(file, (text, stamp) => this.parse(text, stamp), 1_000);
    this.current = this.policies.read();
  }

  policy(resource: Resource): Policy | undefined {
    this.refresh();
    return this.current.get(resource.kind === 'herald' ? 'herald' : `${resource.kind}/${resource.name}`);
  }

  private refresh(): void {
    try {
      this.current = this.policies.read();
    } catch (error) {
      this.logger.warn(
        { err: { message: (error as Error).message }, file: this.file },
        'policy file not taken; the previous bindings stay',
      );
    }
  }

  private parse(text: string, stamp: string): Map<string, Policy> {
    const parsed = JSON.parse(text) as PolicyFile;
    const policies = new Map<string, Policy>();
    const put = (key: string, bindings: Binding[]) =>
      policies.set(key, { bindings, etag: policyEtag(bindings, stamp) });
    put('herald', checkedBindings(parsed.herald ?? [], 'herald'));
    for (const [name, bindings] of Object.entries(parsed.topics ?? {}))
      put(`topic/${name}`, checkedBindings(bindings, `topics.${name}`));
    for (const [name, bindings] of Object.entries(parsed.subscriptions ?? {})) {
      put(`subscription/${name}`, checkedBindings(bindings, `subscriptions.${name}`));
    }
    this.logger.info({ file: this.file, policies: policies.size }, 'role bindings loaded');
    return policies;
  }
}

/** An open stream's recheck, run when the policies change. */
type Recheck = () => void;

/**
 * Checks every request message (every message of a stream) against what its
 * rpc needs ({@link unmetRequirement}) before the handler sees it; a call
 * that lacks a permission ends with PERMISSION_DENIED. The answer is the same
 * whether the named resource exists or not, so it reveals nothing to someone
 * who may not see it. Runs after authentication, which names the caller.
 *
 * A stream stays subject to what it was allowed: when the source reports a
 * change ({@link PolicySource.onChange}), every open stream is checked again
 * against the requirements its messages met, and one whose caller lost a
 * permission ends with PERMISSION_DENIED (its handler sees a cancellation).
 * So a revocation stops a StreamingPull or a Tail already running, not only
 * the next one.
 */
export function authorizationInterceptor(source: PolicySource, logger: Logger): ServerInterceptor {
  const open = new Set<Recheck>();
  source.onChange?.(() => {
    for (const recheck of [...open]) recheck();
  });
  return (method: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface) => {
    if (isExempt(method.path) || method.path.startsWith('/grpc.reflection.')) return new ServerInterceptingCall(call);
    const streaming = method.requestStream || method.responseStream;
    let metadata: Metadata | undefined;
    let denied = false;
    /** What this stream's messages needed and got, once each (a PublishStream names its topic per message). */
    const met = new Map<string, Requirement>();
    const deny = (unmet: { permission: string; resource: Resource }, revoked: boolean) => {
      denied = true;
      open.delete(recheck);
      const principal = principalOf({ metadata });
      const on = unmet.resource.kind === 'herald' ? 'Herald' : `${unmet.resource.kind} ${unmet.resource.name}`;
      logger.debug(
        { method: method.path, principal: principal?.id, permission: unmet.permission, on, revoked },
        revoked ? 'open stream ended: permission revoked' : 'call denied',
      );
      call.sendStatus({
        code: status.PERMISSION_DENIED,
        details: `${principal?.id ?? 'the caller'} lacks ${unmet.permission} on ${on}`,
        metadata: new Metadata(),
      });
    };
    const recheck: Recheck = () => {
      if (denied) return;
      const principal = principalOf({ metadata });
      const lost = [...met.values()].find((need) => !isAllowed(principal, need.permission, need.resource, source));
      if (lost) deny(lost, true);
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (received, nextMetadata) => {
            metadata = received;
            nextMetadata(received);
          },
          onReceiveMessage: (message, nextMessage) => {
            if (denied) return;
            const request = message as Record<string, unknown>;
            const principal = principalOf({ metadata });
            const unmet = unmetRequirement(method.path, request, principal, source);
            if (unmet) return deny(unmet, false);
            if (streaming) {
              for (const need of rpcRequirements[method.path]?.(request) ?? []) {
                met.set(`${need.permission} ${resourceName(need.resource)}`, need);
              }
              open.add(recheck);
            }
            nextMessage(message);
          },
          onCancel: () => {
            open.delete(recheck);
          },
        }),
      sendStatus: (sent, nextStatus) => {
        open.delete(recheck);
        nextStatus(sent);
      },
    });
  };
}
