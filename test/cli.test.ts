import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connect.ts';
import { runMovr, scratchDir, startMovr } from './support/cli.ts';
import { createTestDatabase, postgresAvailable, type TestDatabaseKind } from './support/databases.ts';

const STACK_LINE = /^\s+at .+:\d+/m;

describe('movr command', () => {
  it('prints its usage', async () => {
    const result = await runMovr(['help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('workload init');
    expect(result.stdout).toContain('db migrate');
  });

  it('refuses an unknown command with exit code 2', async () => {
    const result = await runMovr(['fly']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "fly"');
  });

  it('refuses bad configuration with one message naming every wrong setting, exit code 2 and no stack trace', async () => {
    const result = await runMovr(['db', 'status'], {
      env: { PORT: 'eighty', MOVR_REGION: 'mars', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x/y' },
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    for (const name of ['PORT', 'MOVR_REGION', 'LOG_LEVEL', 'DATABASE_URL']) expect(result.stderr).toContain(name);
    expect(result.stderr.match(/^movr: /gm)).toHaveLength(1);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it('reads settings from a .env file in the working directory', async () => {
    const cwd = scratchDir();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(cwd, '.env'), 'NODE_ENV=production\n');
    const result = await runMovr(['db', 'status'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('SECRET_KEY is required when NODE_ENV=production');
  });

  it('refuses a malformed flag with exit code 2', async () => {
    const result = await runMovr(['workload', 'init', '--num-rides', 'lots', '--db', 'pglite:memory']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--num-rides must be a whole number');
    const unknown = await runMovr(['workload', 'init', '--rides', '5']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--rides'");
  });

  it('prints the geo-partitioning DDL without a database, and refuses to apply it to a non-CockroachDB one', async () => {
    const printed = await runMovr(['db', 'regions', '--print', '--style', 'partition-by-list']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/PARTITION BY LIST \(city\)/);
    const applied = await runMovr(['db', 'regions', '--apply', '--db', 'pglite:memory']);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('needs CockroachDB');
  });

  it('explains an unreachable database without a stack trace', async () => {
    const result = await runMovr(['db', 'migrate', '--db', 'postgres://nobody@127.0.0.1:1/movr']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^movr: Cannot connect to postgres:\/\/nobody@127\.0\.0\.1:1\/movr/);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });
});

for (const kind of ['pglite', 'postgres'] as TestDatabaseKind[]) {
  const declare = kind === 'postgres' && !postgresAvailable() ? describe.skip : describe;

  declare(`movr db and workload commands [${kind}]`, () => {
    it('migrate once, report status, and load the data set', { timeout: 120_000 }, async () => {
      const target = await createTestDatabase(kind, { migrated: false });
      await target.db.close(); // the command opens it itself (a PGlite folder allows one process)
      const db = ['--db', target.url];
      try {
        const before = await runMovr(['db', 'status', ...db]);
        expect(before.code).toBe(1);
        expect(before.stdout).toMatch(/pending migration statements/);

        const first = await runMovr(['db', 'migrate', ...db]);
        expect(first.code, first.stderr).toBe(0);
        expect(first.stdout).toMatch(/applied \d+ migration statements/);
        const second = await runMovr(['db', 'migrate', ...db]);
        expect(second.stdout).toContain('schema is up to date');
        expect((await runMovr(['db', 'status', ...db])).code).toBe(0);

        const init = await runMovr(['workload', 'init', ...db]);
        expect(init.code, init.stderr).toBe(0);
        expect(init.stdout).toMatch(/Loaded \d+ rows .* \(\d+ rows\/s\)/);
        expect(init.stdout).toMatch(/users 5\d/);
        expect(init.stdout).toMatch(/rides 500/);
        const accounts = [...init.stdout.matchAll(/^ {2}(\S+) \/ (\S+) {2}\(/gm)];
        expect(accounts).toHaveLength(3);

        // A database that holds MovR data already is a data condition, not a usage error.
        const again = await runMovr(['workload', 'init', ...db]);
        expect(again.code).toBe(1);
        expect(again.stderr).toContain('--drop');

        const replaced = await runMovr(['workload', 'init', ...db, '--drop', '--num-users', '18', '--num-rides', '40']);
        expect(replaced.code, replaced.stderr).toBe(0);
        const check = await openDatabase(target.url);
        try {
          const rides = await check.execute('SELECT count(*)::int AS n FROM rides');
          expect(rides[0]?.n).toBe(40);
        } finally {
          await check.close();
        }
      } finally {
        await target.destroy();
      }
    });

    if (kind === 'postgres') {
      it('serve refuses a server database with pending migrations', async () => {
        const target = await createTestDatabase(kind, { migrated: false });
        try {
          const result = await runMovr(['serve'], { env: { DATABASE_URL: target.url, PORT: '0' } });
          expect(result.code).toBe(1);
          expect(result.stderr).toMatch(/pending migration statements: run "movr db migrate" first/);
        } finally {
          await target.destroy();
        }
      });
    }
  });
}

describe('movr serve on the embedded database', () => {
  it('creates, migrates and fills the database on first run, and reuses it on the next', { timeout: 180_000 }, async () => {
    const home = scratchDir('movr-home-');
    const first = await startMovr({ env: { MOVR_HOME: home } });
    try {
      expect(first.output()).toContain(`Created the embedded database in ${path.join(home, 'data')}`);
      expect(first.output()).toMatch(/Demo accounts/);
      const page = await fetch(first.url);
      expect(page.status).toBe(200);
      const html = await page.text();
      for (const city of ['new york', 'san francisco', 'paris']) expect(html).toContain(city);
      expect((await fetch(new URL('/readyz', first.url))).status).toBe(200);
    } finally {
      expect(await first.stop('SIGTERM')).toBe(0);
    }

    const second = await startMovr({ env: { MOVR_HOME: home } });
    try {
      expect(second.output()).not.toContain('Created the embedded database');
      expect((await fetch(second.url)).status).toBe(200);
    } finally {
      expect(await second.stop('SIGINT')).toBe(0);
    }
  });
});
