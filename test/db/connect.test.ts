import { describe, expect, it } from 'vitest';
import { openDatabase, redactUrl } from '../../src/db/connect.ts';
import { runMovr } from '../support/cli.ts';
import { createTestDatabase, postgresAvailable } from '../support/databases.ts';

describe('openDatabase', () => {
  it('refuses a URL of an unsupported kind', async () => {
    await expect(openDatabase('mysql://localhost/movr')).rejects.toThrow(/Unsupported database URL/);
  });

  it('keeps passwords out of the display URL', () => {
    expect(redactUrl('postgres://movr:s3cret@db:5432/movr')).toBe('postgres://movr:***@db:5432/movr');
    expect(redactUrl('postgres://movr@db:5432/movr')).toBe('postgres://movr@db:5432/movr');
  });

  it.skipIf(!postgresAvailable())('recognises a PostgreSQL server and keeps the plain retry protocol', async () => {
    const target = await createTestDatabase('postgres');
    try {
      expect(target.db.kind).toBe('postgres');
      expect(target.db.transactionSettings.savepointProtocol).toBe(false);
    } finally {
      await target.destroy();
    }
  });

  it('lets only one process at a time use an embedded database folder', { timeout: 60_000 }, async () => {
    const target = await createTestDatabase('pglite');
    try {
      const refused = await runMovr(['db', 'status', '--db', target.url]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`is in use by another MovR process (pid ${process.pid})`);
      await target.db.close();
      const allowed = await runMovr(['db', 'status', '--db', target.url]);
      expect(allowed.code, allowed.stderr).toBe(0);
    } finally {
      await target.destroy();
    }
  });
});
