import { readFileSync } from 'node:fs';
import type { IamBinding, IamPolicy } from '@herald/api';
import type { Command } from 'commander';
import { UsageError } from '../exit-codes';
import { type CliDependencies, withClients } from '../invocation';
import { renderTable } from '../output';

/** A resource as the IAM rpcs name it; a bare name is refused rather than guessed (topic or subscription?). */
function checkedResource(resource: string): string {
  if (resource === 'herald' || /^(topics|subscriptions)\/./.test(resource)) return resource;
  throw new UsageError(`"${resource}" is not a resource: give herald, topics/<name> or subscriptions/<name>`);
}

function policyTable(bindings: IamBinding[], staticBindings: IamBinding[]): string {
  const rows = [
    ...bindings.flatMap((b) => b.members.map((member) => [b.role, member, 'policy'])),
    ...staticBindings.flatMap((b) => b.members.map((member) => [b.role, member, 'policy file'])),
  ];
  return rows.length === 0 ? 'No bindings.' : renderTable(['role', 'member', 'from'], rows);
}

/** The bindings of a policy file given to `iam set`: `{"bindings": [{"role": ..., "members": [...]}]}`. */
function readPolicyFile(file: string): { bindings: IamBinding[]; etag?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  const { bindings, etag } = (parsed ?? {}) as { bindings?: unknown; etag?: unknown };
  const valid =
    Array.isArray(bindings) &&
    bindings.every(
      (b: { role?: unknown; members?: unknown }) =>
        typeof b?.role === 'string' && Array.isArray(b.members) && b.members.every((m) => typeof m === 'string'),
    );
  if (!valid) throw new UsageError(`${file}: expected {"bindings": [{"role": "...", "members": ["..."]}]}`);
  return { bindings: bindings as IamBinding[], etag: typeof etag === 'string' ? etag : undefined };
}

const policyJson = (resource: string, policy: IamPolicy) => ({ resource, ...policy });
const policyDone = (resource: string, policy: IamPolicy) =>
  `${policyTable(policy.bindings, [])}\nPolicy of ${resource} set (etag ${policy.etag}).`;

/** `herald iam get|set|grant|revoke|test`: IAM policies on Herald, topics and subscriptions. */
export function registerIamCommands(program: Command, dependencies: CliDependencies): void {
  const iam = program
    .command('iam')
    .description('IAM policies: who may do what on herald, topics/<name> or subscriptions/<name>');

  iam
    .command('get')
    .description('show the policy of a resource, its etag, and the bindings of the services’ policy file')
    .argument('<resource>', 'herald, topics/<name> or subscriptions/<name>')
    .action(
      withClients(dependencies, 'registry', async ({ out, clients }, [resource]) => {
        const { policy, staticBindings } = await clients.admin().getIamPolicy(checkedResource(resource as string));
        out.item(
          { ...policyJson(resource as string, policy), staticBindings },
          () => `${policyTable(policy.bindings, staticBindings)}\netag ${policy.etag}`,
        );
      }),
    );

  iam
    .command('set')
    .description('replace the policy of a resource with the bindings of a JSON file')
    .argument('<resource>', 'herald, topics/<name> or subscriptions/<name>')
    .requiredOption('-f, --file <policy.json>', 'a file holding {"bindings": [{"role": ..., "members": [...]}]}')
    .option('--etag <etag>', 'only if the policy is still at this etag (default: the file’s "etag", else overwrite)')
    .action(
      withClients<{ file: string; etag?: string }>(
        dependencies,
        'registry',
        async ({ out, clients }, [resource], options) => {
          const name = checkedResource(resource as string);
          const file = readPolicyFile(options.file);
          const policy = await clients.admin().setIamPolicy(name, {
            bindings: file.bindings,
            etag: options.etag ?? file.etag,
          });
          out.item(policyJson(name, policy), () => policyDone(name, policy));
        },
      ),
    );

  const edit = (verb: 'grant' | 'revoke') =>
    iam
      .command(verb)
      .description(
        verb === 'grant'
          ? 'bind a role to members on a resource (read, change, write: concurrent edits are kept)'
          : 'remove members from a role on a resource (read, change, write)',
      )
      .argument('<resource>', 'herald, topics/<name> or subscriptions/<name>')
      .argument('<role>', 'viewer, publisher, subscriber, editor or admin')
      .argument('<members...>', 'jwt:<subject>, mtls:<certificate identity> or allAuthenticated')
      .action(
        withClients(dependencies, 'registry', async ({ out, clients }, [resource, role, members]) => {
          const name = checkedResource(resource as string);
          const changed = members as unknown as string[];
          const admin = clients.admin();
          const policy =
            verb === 'grant'
              ? await admin.grantRole(name, role as string, changed)
              : await admin.revokeRole(name, role as string, changed);
          out.item(policyJson(name, policy), () => policyDone(name, policy));
        }),
      );
  edit('grant');
  edit('revoke');

  iam
    .command('test')
    .description('which of the given permissions you hold on a resource')
    .argument('<resource>', 'herald, topics/<name> or subscriptions/<name>')
    .argument('<permissions...>', 'e.g. topics.publish subscriptions.consume iam.set')
    .action(
      withClients(dependencies, 'registry', async ({ out, clients }, [resource, permissions]) => {
        const name = checkedResource(resource as string);
        const asked = permissions as unknown as string[];
        const held = await clients.admin().testIamPermissions(name, asked);
        out.item({ resource: name, permissions: held }, () =>
          renderTable(
            ['permission', 'held'],
            asked.map((permission) => [permission, held.includes(permission) ? 'yes' : 'no']),
          ),
        );
      }),
    );
}
