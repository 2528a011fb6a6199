import { api, enc } from '../api';
import { h, replace } from '../dom';
import { actionDialog, errorBox, table } from '../ui';

interface Binding {
  role: string;
  members: string[];
}

interface PolicyView {
  resource: string;
  bindings: Binding[];
  etag: string;
  staticBindings: Binding[];
}

const roles: Array<[string, string]> = [
  ['viewer', 'viewer: get and list'],
  ['publisher', 'publisher: publish to a topic'],
  ['subscriber', 'subscriber: receive from a subscription'],
  ['editor', 'editor: everything but policies'],
  ['admin', 'admin: everything, policies included'],
];

/**
 * Who may do what on a resource (`herald`, `topics/<name>`, `subscriptions/<name>`): its IAM policy and
 * the services' policy file, read with the operator's token. Grants and revocations go through the
 * registry, which refuses them to an operator without `iam.set` there.
 */
export function accessSection(resource: string): HTMLElement {
  const body = h('div');
  const load = async () => {
    try {
      const policy = await api.get<PolicyView>(`/api/iam?resource=${enc(resource)}`);
      const change = (verb: 'grant' | 'revoke', role: string, member: string) =>
        api.post(`/api/iam/${verb}`, { resource, role, member });
      const revoke = (role: string, member: string) =>
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            'aria-label': `Revoke ${role} from ${member}`,
            onclick: () =>
              void actionDialog({
                title: `Revoke ${role}`,
                danger: true,
                confirmLabel: 'Revoke',
                fields: [],
                describe: () => `Take the role ${role} on ${resource} away from ${member}.`,
                action: async () => {
                  await change('revoke', role, member);
                  await load();
                },
              }),
          },
          'Revoke',
        );
      const rows = [
        ...policy.bindings.flatMap((b) => b.members.map((m) => [b.role, m, 'policy', revoke(b.role, m)])),
        ...policy.staticBindings.flatMap((b) => b.members.map((m) => [b.role, m, 'policy file', ''])),
      ];
      replace(
        body,
        table(['Role', 'Member', 'From', ''], rows, 'No bindings here: only those bound on Herald have access.'),
        h('p', { class: 'hint' }, `etag ${policy.etag}`),
      );
    } catch (error) {
      replace(body, errorBox(error, 'Reading the policy'));
    }
  };
  void load();
  return h(
    'section',
    { 'aria-label': 'Access' },
    h(
      'div',
      { class: 'title' },
      h('h2', null, 'Access'),
      h(
        'button',
        {
          type: 'button',
          onclick: () =>
            void actionDialog({
              title: `Grant a role on ${resource}`,
              confirmLabel: 'Grant',
              fields: [
                { name: 'role', label: 'Role', type: 'select', options: roles, value: 'viewer' },
                {
                  name: 'member',
                  label: 'Member',
                  required: true,
                  placeholder: 'jwt:<subject>, mtls:<identity> or allAuthenticated',
                },
              ],
              describe: (v) => `Grant the role ${String(v.role)} on ${resource} to ${String(v.member)}.`,
              action: async (v) => {
                await api.post('/api/iam/grant', { resource, role: v.role, member: v.member });
                await load();
              },
            }),
        },
        'Grant role',
      ),
    ),
    body,
  );
}
