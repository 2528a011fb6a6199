import assert from 'node:assert/strict';
import type { IamBinding } from '@herald/api';
import { withRoleMembers } from './admin';

describe('Admin: the bindings grantRole and revokeRole write', () => {
  const current: IamBinding[] = [
    { role: 'viewer', members: ['jwt:bob'] },
    { role: 'admin', members: ['mtls:ops'] },
    { role: 'viewer', members: ['jwt:eve'] },
  ];

  it('changes the members of one role, all its bindings taken as one, and keeps every other binding', () => {
    assert.deepEqual(
      withRoleMembers(current, 'viewer', (had) => [...had, 'jwt:carol']),
      [
        { role: 'admin', members: ['mtls:ops'] },
        { role: 'viewer', members: ['jwt:bob', 'jwt:eve', 'jwt:carol'] },
      ],
    );
    assert.deepEqual(
      withRoleMembers(current, 'viewer', (had) => had.filter((member) => member !== 'jwt:bob')),
      [
        { role: 'admin', members: ['mtls:ops'] },
        { role: 'viewer', members: ['jwt:eve'] },
      ],
    );
  });

  it('adds a binding for a role not bound yet', () => {
    assert.deepEqual(
      withRoleMembers([], 'publisher', () => ['jwt:svc']),
      [{ role: 'publisher', members: ['jwt:svc'] }],
    );
  });
});
