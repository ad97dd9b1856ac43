// `movr operators grant|revoke|list` on the configured database.
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connect.ts';
import { findOperator, listActions } from '../../src/movr/operators.ts';
import { runMovrInProcess } from '../support/cli.ts';
import { createUser } from '../support/factories.ts';
import { createTestDatabase, postgresAvailable, type TestDatabaseKind } from '../support/databases.ts';

for (const kind of ['pglite', 'postgres'] as TestDatabaseKind[]) {
  const declare = kind === 'postgres' && !postgresAvailable() ? describe.skip : describe;
  declare(`movr operators [${kind}]`, () => {
    it('grants and revokes the role by username, says so, records it, and fails clearly for an unknown user', { timeout: 60_000 }, async () => {
      const target = await createTestDatabase(kind);
      const user = await createUser(target.db, { username: 'Olga.Ops', city: 'paris' });
      await target.db.close();
      const movr = (...args: string[]) => runMovrInProcess(['operators', ...args], { open: () => openDatabase(target.url) });
      try {
        const granted = await movr('grant', 'OLGA.OPS');
        expect(granted.code, granted.err.join('')).toBe(0);
        expect(granted.out.join('')).toBe('olga.ops is now an operator\n');
        expect((await movr('grant', 'olga.ops')).out.join('')).toBe('olga.ops is an operator already\n');
        const listed = await movr('list');
        expect(listed.out.join('')).toMatch(/^olga\.ops\tparis\tsince \d{4}-/);

        const unknown = await movr('grant', 'nobody-here');
        expect(unknown.code).toBe(1);
        expect(unknown.err.join('')).toBe('movr: There is no user "nobody-here".\n');
        const missing = await movr('revoke');
        expect(missing.code).toBe(2);

        const check = await openDatabase(target.url);
        try {
          expect(await findOperator(check.orm, user)).toMatchObject({ id: user.id, username: 'olga.ops' });
        } finally {
          await check.close();
        }
        expect((await movr('revoke', 'olga.ops')).out.join('')).toBe('olga.ops is no longer an operator\n');
        expect((await movr('revoke', 'olga.ops')).out.join('')).toBe('olga.ops was not an operator\n');
        const after = await openDatabase(target.url);
        try {
          expect(await findOperator(after.orm, user)).toBeUndefined();
          const actions = await listActions(after.orm);
          expect(actions.items.map((a) => [a.action, a.subject, a.operatorUsername])).toEqual([
            ['operator_revoked', 'olga.ops', null],
            ['operator_granted', 'olga.ops', null],
          ]);
        } finally {
          await after.close();
        }
      } finally {
        await target.destroy();
      }
    });
  });
}
