import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connect.ts';
import { DEFAULT_INIT_OPTIONS } from '../src/workload/init.ts';
import { DEFAULT_WRITE_WEIGHTS, WRITE_OPERATIONS } from '../src/workload/mix.ts';
import { DEFAULT_RUN_OPTIONS } from '../src/workload/run.ts';
import { runMovr, runMovrInProcess, scratchDir, startMovr } from './support/cli.ts';
import { createTestDatabase, postgresAvailable, type TestDatabaseKind } from './support/databases.ts';

const STACK_LINE = /^\s+at .+:\d+/m;

/** Help text with its line breaks and column padding folded into single spaces. */
const folded = (text: string) => text.replace(/\s+/g, ' ');

const COMMANDS = ['serve', 'demo-accounts', 'db migrate', 'db status', 'db regions', 'operators grant', 'operators revoke', 'operators list', 'workload init', 'workload run', 'workload check'];
const init = DEFAULT_INIT_OPTIONS;
const run = DEFAULT_RUN_OPTIONS;

/** Every command and subcommand, and what its help must list: options with their defaults. */
const HELP: [command: string, lists: string[]][] = [
  ['', ['--version', ...COMMANDS, 'help [options] [command...]', 'Exit codes: 0 done, 1 failed']],
  ['serve', ['-h, --help Show this help']],
  ['demo-accounts', ['--db <url> Database (default: DATABASE_URL)']],
  ['db', ['migrate [options]', 'status [options]', 'regions [options]']],
  ['db migrate', ['--db <url> Database (default: DATABASE_URL)']],
  ['db status', ['--db <url> Database (default: DATABASE_URL)']],
  [
    'db regions',
    [
      '--print Write the SQL',
      '--apply Run it on the database',
      '--style <style> regional-by-row (CockroachDB 21.1+) or partition-by-list (19.2 style) (default: regional-by-row)',
      '--survive <goal> zone or region: what the database survives (regional-by-row) (default: zone)',
      '--primary-region <region> Region the database is homed in (default: the first region of the region map)',
      '--database <name> Database to alter (default: movr with --print, the connected one with --apply)',
      '--db <url> Database to apply to (default: DATABASE_URL)',
    ],
  ],
  ['operators', ['grant [options] <username>', 'revoke [options] <username>', 'list [options]']],
  ['operators grant', ['username the user’s username', '--db <url> Database (default: DATABASE_URL)']],
  ['workload', ['init [options]', 'run [options]', 'check [options]']],
  [
    'workload init',
    [
      '--db <url> Database (default: DATABASE_URL, else the embedded database)',
      `--seed <n> Random seed (default: ${init.seed})`,
      `--num-users <n> Users (default: ${init.numUsers})`,
      `--num-vehicles <n> Vehicles (default: ${init.numVehicles})`,
      `--num-rides <n> Rides (default: ${init.numRides})`,
      `--num-histories <n> Vehicle location history points (default: ${init.numHistories})`,
      `--num-promo-codes <n> Promo codes (default: ${init.numPromoCodes})`,
      '--base-time <iso> Time the data set is generated relative to (default: this hour)',
      '--drop Replace any MovR data already in the database',
    ],
  ],
  [
    'workload run',
    [
      '--db <url> Database to run against directly (default: DATABASE_URL)',
      '--target <url>',
      `--duration <d> How long: 30s, 5m, 1h; 0 runs until Ctrl-C (default: ${run.durationMs / 1000}s)`,
      `--concurrency <n> Workers; the pool gets at least as many connections (default: ${run.concurrency})`,
      `--max-rate <ops/s> Cap on operations per second of all workers; 0 = no cap (default: ${run.maxRate})`,
      `--ramp <d> Start the workers spread over this time (default: ${run.rampMs / 1000}s)`,
      `--seed <n> Random seed (default: ${run.seed})`,
      '--read-percent <p> Percent of operations that are reads (default: 95)',
      `(defaults: ${WRITE_OPERATIONS.map((op) => `${op}=${DEFAULT_WRITE_WEIGHTS[op]}`).join(',')})`,
      '--cities <list> Cities and regions to use, e.g. paris,us-west1 (default: all)',
      `--riders-per-worker <n> Riders each worker owns (default: ${run.ridersPerWorker})`,
      '--json <file>',
      '--no-check Do not check the invariants at the end',
    ],
  ],
  ['workload check', ['--db <url> Database (default: DATABASE_URL)']],
];

const words = (command: string) => command.split(' ').filter(Boolean);

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
    expect(result.stderr).toContain('Usage: movr [options] [command]');
    expect(result.stdout).toBe('');
  });

  it('answers --help for every command and subcommand with exit code 0, listing its options and their defaults', { timeout: 90_000 }, async () => {
    const results = await Promise.all(HELP.map(([command]) => runMovr([...words(command), '--help'])));
    HELP.forEach(([command, lists], i) => {
      const result = results[i]!;
      expect(result.code, `movr ${command} --help: ${result.stderr}`).toBe(0);
      expect(result.stderr).toBe('');
      const help = folded(result.stdout);
      expect(help).toContain(`Usage: movr ${command ? `${command} ` : ''}[options]`);
      for (const item of lists) expect(help, `movr ${command} --help`).toContain(item);
    });
  });

  it('answers -h like --help, and reads no configuration for either', async () => {
    for (const [command] of HELP) {
      const short = await runMovrInProcess([...words(command), '-h']);
      const long = await runMovrInProcess([...words(command), '--help']);
      expect(short.code, `movr ${command} -h: ${short.err.join('')}`).toBe(0);
      expect(short.out.join('')).toBe(long.out.join(''));
      expect(short.out.join('')).toMatch(/^Usage: movr /);
    }
  });

  it('shows the top-level help for movr, movr --help and movr help; movr db and movr workload list their commands', { timeout: 60_000 }, async () => {
    const [bare, long, help, db, workload] = await Promise.all(
      [[], ['--help'], ['help'], ['db'], ['workload']].map((args) => runMovr(args)),
    );
    for (const result of [bare!, long!, help!]) {
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(help!.stdout);
      for (const command of COMMANDS) expect(result.stdout).toContain(command);
    }
    expect(db!.code).toBe(0);
    expect(db!.stdout).toMatch(/^Usage: movr db \[options\] \[command\]/);
    for (const sub of ['migrate', 'status', 'regions']) expect(db!.stdout).toMatch(new RegExp(`^  ${sub} `, 'm'));
    expect(workload!.code).toBe(0);
    expect(workload!.stdout).toMatch(/^Usage: movr workload \[options\] \[command\]/);
    for (const sub of ['init', 'run', 'check']) expect(workload!.stdout).toMatch(new RegExp(`^  ${sub} `, 'm'));
    expect((await runMovrInProcess(['help', 'workload', 'run'])).out.join('')).toMatch(/^Usage: movr workload run \[options\]/);
  });

  it('prints a usage error and the usage of that command on stderr, exit code 2', { timeout: 90_000 }, async () => {
    const cases: [args: string[], message: string, usage: string][] = [
      [['workload', 'init', '--num-users', 'abc'], 'movr: --num-users must be a whole number, got "abc"', 'Usage: movr workload init [options]'],
      [['db', 'regions', '--print', '--apply'], 'movr: movr db regions needs --print or --apply (one of them)', 'Usage: movr db regions [options]'],
      [['workload', 'run', '--seed'], "movr: Option '--seed <n>' argument missing", 'Usage: movr workload run [options]'],
      [['db', 'fly'], 'movr: unknown command "db fly"', 'Usage: movr db [options] [command]'],
      [['serve', 'now'], "movr: Too many arguments for 'serve'", 'Usage: movr serve [options]'],
    ];
    const results = await Promise.all(cases.map(([args]) => runMovr(args)));
    cases.forEach(([args, message, usage], i) => {
      const result = results[i]!;
      expect(result.code, `movr ${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.startsWith(`${message}`), result.stderr).toBe(true);
      expect(result.stderr).toContain(usage);
      expect(result.stderr).toContain('-h, --help');
    });
  });

  it('names PORT when the port is in use, exit code 1', { timeout: 90_000 }, async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const result = await runMovr(['serve'], { env: { DATABASE_URL: 'pglite:memory', PORT: String(port), LOG_LEVEL: 'warn' } });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `movr: port ${port} on 127.0.0.1 is in use: set PORT to a free port (or HOST to another interface)\n`,
      );
      expect(result.stderr).not.toMatch(STACK_LINE);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
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
        expect(again.stderr).toMatch(/^movr: The database already holds MovR data \(in [a-z_, ]+\)\. Pass --drop /);
        expect(again.stderr).not.toContain('Usage:');

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
    const first = await startMovr({ env: { MOVR_HOME: home, LOG_LEVEL: 'info' } });
    try {
      expect(first.output()).toContain(`Created the embedded database in ${path.join(home, 'data')}`);
      // The banner, once: the URL, the database, the demo accounts to log in with.
      expect(first.output().split(first.url).length - 1, first.output()).toBe(1);
      expect(first.output()).toContain(`  database: pglite:${path.join(home, 'data')} (the embedded database)\n`);
      expect(first.output()).toContain('  demo accounts: npx movr demo-accounts\n');
      const page = await fetch(first.url);
      expect(page.status).toBe(200);
      const html = await page.text();
      for (const city of ['new york', 'san francisco', 'paris']) expect(html).toContain(city);
      expect((await fetch(new URL('/readyz', first.url))).status).toBe(200);
      // While the server holds the database, the accounts its first start created are listed.
      const whileServing = await runMovr(['demo-accounts'], { env: { MOVR_HOME: home } });
      expect(whileServing.code).toBe(0);
      expect(whileServing.stdout).toContain('which a running server holds');
      for (const line of first.output().split('\n').filter((l) => l.startsWith('  demo-'))) expect(whileServing.stdout).toContain(line);
    } finally {
      expect(await first.stop('SIGTERM')).toBe(0);
    }

    // The demo accounts can be listed again, with their well-known passwords.
    const listed = await runMovr(['demo-accounts'], { env: { MOVR_HOME: home } });
    expect(listed.code).toBe(0);
    for (const line of first.output().split('\n').filter((l) => l.startsWith('  demo-'))) expect(listed.stdout).toContain(line);
    expect(listed.stdout).toMatch(/demo-paris \/ movr-demo-\w+-\w+ {2}\(.+, paris\)/);

    const second = await startMovr({ env: { MOVR_HOME: home } });
    try {
      expect(second.output()).not.toContain('Created the embedded database');
      expect(second.output()).toContain('  demo accounts: npx movr demo-accounts\n');
      expect((await fetch(second.url)).status).toBe(200);
    } finally {
      expect(await second.stop('SIGINT')).toBe(0);
    }
  });
});
