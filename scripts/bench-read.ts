// Is the load generator the bottleneck? Compares `movr workload run --read-percent 100` with
// pgbench running the very same SELECT, with as many clients, against the same scratch database
// on the same PostgreSQL server, one right after the other.
//
//   npx tsx scripts/bench-read.ts [--server postgres://postgres@127.0.0.1:5432/postgres]
//       [--clients 16] [--seconds 20] [--rounds 1]
//
// It creates a scratch database (movr_bench_read_<random>) on the server, migrates it and loads
// the default data set (movr workload init), writes a pgbench script with the runner's own read
// statement (prepareCityVehiclesRead(...).sql, the city drawn uniformly from the nine as the
// runner does, by \set and a CASE), then for each round runs
//   pgbench -n -c <clients> -j 2 -T <seconds> -f <script>
//   movr workload run --read-percent 100 --concurrency <clients> --duration <seconds>s
// and prints both figures and their ratio; the database is dropped at the end, whatever happens.
// With more than one round the figures alternate, which evens out a machine whose load changes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../src/db/connect.ts';
import { DEFAULT_REGION_MAP } from '../src/region-map.ts';
import { prepareCityVehiclesRead } from '../src/movr/vehicles.ts';
import type { Summary } from '../src/workload/stats.ts';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: process.env.BENCH_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    clients: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '1' },
  },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
for (const [name, value] of [['clients', clients], ['seconds', seconds], ['rounds', rounds]] as const) {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const movr = path.join(root, 'bin', 'movr.js');
const name = `movr_bench_read_${Math.random().toString(36).slice(2, 10)}`;
const serverUrl = new URL(values.server);
const dbUrl = new URL(values.server);
dbUrl.pathname = `/${name}`;
const url = dbUrl.toString();
const work = mkdtempSync(path.join(tmpdir(), 'movr-bench-read-'));

async function admin(sqlText: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl.toString() });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

function movrCommand(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, [movr, ...args], {
    cwd: work,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** The runner's read, with the city chosen by pgbench: `$1` becomes a CASE over a random 0..8. */
async function pgbenchScript(): Promise<{ file: string; sql: string }> {
  const db = await openDatabase(url);
  let sql: string;
  try {
    sql = prepareCityVehiclesRead(db.orm).sql;
  } finally {
    await db.close();
  }
  const cases = DEFAULT_REGION_MAP.cities.map((c, i) => `WHEN ${i} THEN '${c.name}'`).join(' ');
  const select = sql.replace('$1', `(CASE :c ${cases} END)`);
  if (select === sql || /\$\d/.test(select)) throw new Error(`unexpected parameters in the read: ${sql}`);
  const file = path.join(work, 'read.sql');
  writeFileSync(file, `\\set c random(0, ${DEFAULT_REGION_MAP.cities.length - 1})\n${select};\n`);
  return { file, sql: select };
}

function runPgbench(file: string): number {
  const result = spawnSync(
    'pgbench',
    ['-n', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', file, url],
    { encoding: 'utf8' },
  );
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(result.stdout)?.[1];
  if (result.status !== 0 || !tps) throw new Error(`pgbench failed:\n${result.stdout}\n${result.stderr}`);
  return Number(tps);
}

function runMovr(): number {
  const json = path.join(work, 'run.json');
  movrCommand(
    ['workload', 'run', '--db', url, '--read-percent', '100', '--concurrency', String(clients), '--duration', `${seconds}s`, '--no-check', '--json', json],
    { LOG_LEVEL: 'silent' },
  );
  const summary = (JSON.parse(readFileSync(json, 'utf8')) as { summary: Summary }).summary;
  if (summary.total.errors > 0) throw new Error(`the run had errors: ${JSON.stringify(summary.total.errorsByKind)}`);
  return summary.total.opsPerSec;
}

const format = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

await admin(`CREATE DATABASE "${name}"`);
try {
  movrCommand(['db', 'migrate', '--db', url]);
  movrCommand(['workload', 'init', '--db', url]);
  const { file, sql } = await pgbenchScript();
  console.log(`database: ${name} (dropped at the end); ${clients} clients, ${seconds} s per run`);
  console.log(`statement: ${sql}`);
  let pgbenchTotal = 0;
  let movrTotal = 0;
  for (let round = 1; round <= rounds; round++) {
    const tps = runPgbench(file);
    const ops = runMovr();
    pgbenchTotal += tps;
    movrTotal += ops;
    console.log(
      `${rounds > 1 ? `round ${round}: ` : ''}pgbench ${format(tps)} tps, movr workload run ${format(ops)} ops/s, ratio ${(ops / tps).toFixed(2)}`,
    );
  }
  if (rounds > 1) {
    console.log(
      `mean: pgbench ${format(pgbenchTotal / rounds)} tps, movr workload run ${format(movrTotal / rounds)} ops/s, ` +
        `ratio ${(movrTotal / pgbenchTotal).toFixed(2)}`,
    );
  }
} finally {
  await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  rmSync(work, { recursive: true, force: true });
}
