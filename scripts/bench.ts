// `npm run bench`: the serving tier against the database, row by row. For each row, MovR over
// HTTP (`movr serve` in production mode, in its own process) and pgbench running the very SQL
// MovR sends for that request, recorded from MovR's own domain code (scripts/bench/capture.ts),
// one after the other, alternating: MovR, pgbench, MovR, pgbench… on one scratch database. Every
// figure is a ratio to pgbench measured in the same run: the machine is shared and absolute
// figures wander.
//
//   npm run bench -- [--db postgres://postgres@127.0.0.1:5432/postgres] [--rows list,page,start,loop]
//       [--rounds 2] [--duration 10s] [--connections 32] [--workers N] [--warmup 2s]
//       [--json bench.json] [--markdown] [--show-sql]
//
// Rows (always run in this order):
//   list   GET /api/v1/vehicles?city=<city>, the nine cities in turn         pgbench: listVehicles' SELECT
//   page   GET /cities/new%20york/vehicles, logged in as a rider of new york  pgbench: listVehicles, findOpenRideRef
//   start  POST /api/v1/rides, a distinct rider and vehicle per request      pgbench: verifyToken, startRide
//   loop   per connection: start a ride, end it, again (a Node driver)       pgbench: the same two, in turn
//
// It creates a scratch database movr_bench_<random> on the server, migrates it and loads a fixed
// data set (900 users, 150 vehicles, 5000 rides), signs a rider up through the site and logs in,
// adds the bench's riders, vehicles and tokens (scripts/bench/data.ts) before the write rows,
// and between write runs deletes the bench riders' rides and makes their vehicles available
// again (autovacuum is off in the scratch database and the loaded tables are analyzed once, so
// plans do not change between runs). The server, the database and the temporary files are
// removed at the end, also on Ctrl-C. Load: wrk (/usr/bin/wrk; autocannon where it is missing) with 2 threads; pgbench
// -c <connections> -j 2 -M prepared --max-tries <MovR's attempts>, latencies from its -l log.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { type Database, openDatabase } from '../src/db/connect.ts';
import { tokenSigningKey } from '../src/movr/api-tokens.ts';
import { DEFAULT_PRICE_LIST } from '../src/movr/pricing.ts';
import { DEFAULT_REGION_MAP } from '../src/region-map.ts';
import { BENCH_CITY, BenchPairs, PAIR_STRIDE, pairNumbers, settleStatistics } from './bench/data.ts';
import { type HttpLoadResult, type HttpRequestSpec, findWrk, runHttpLoad } from './bench/http-load.ts';
import type { LoopResult } from './bench/loop-driver.ts';
import { type PgbenchResult, runPgbench } from './bench/pgbench.ts';
import { type TransactionTotals, retriesPerTransaction, scrapeTransactionTotals, totalsBetween } from './bench/movr-metrics.ts';
import { run, stopAll } from './bench/processes.ts';
import { type RowScripts, listScripts, loopScripts, pageScripts, startScripts } from './bench/scripts.ts';
import { type MemoryPeak, MemorySampler, type MovrServer, buildMovr, startMovr } from './bench/server.ts';
import { logInThroughSite, signUpThroughSite } from './bench/site.ts';
import { mean, ms, parseDuration, whole } from './bench/stats.ts';

const ROWS = ['list', 'page', 'start', 'loop'] as const;
type RowName = (typeof ROWS)[number];

const USAGE = `npm run bench -- [options]

  --db <url>            server to create the scratch database on (default postgres://postgres@127.0.0.1:5432/postgres)
  --rows <list>         rows to run, of ${ROWS.join(',')} (default all; always in that order)
  --rounds <n>          MovR/pgbench pairs per row, alternating (default 2)
  --duration <time>     per run, e.g. 10s, 1m (default 10s)
  --connections <n>     HTTP connections and pgbench clients (default 32)
  --workers <n>         MOVR_WORKERS for the server (default: not set)
  --warmup <time>       MovR warm-up before each row's first round, not measured (default 2s; 0 for none)
  --node-args=<args>    node's own options for the server, e.g. --node-args='--cpu-prof --cpu-prof-dir=/tmp/prof'
  --json <file>         write the figures as JSON
  --markdown            also print the table as markdown
  --show-sql            print the recorded statements and the pgbench scripts made of them
  --help                this text`;

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: process.env.MOVR_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    rows: { type: 'string', default: ROWS.join(',') },
    rounds: { type: 'string', default: '2' },
    duration: { type: 'string', default: '10s' },
    connections: { type: 'string', default: '32' },
    workers: { type: 'string' },
    'node-args': { type: 'string' },
    warmup: { type: 'string', default: '2s' },
    json: { type: 'string' },
    markdown: { type: 'boolean', default: false },
    'show-sql': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function wholeNumber(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) fail(`--${name} must be a whole number ≥ ${min}`);
  return n;
}

const rounds = wholeNumber('rounds', values.rounds, 1);
const connections = wholeNumber('connections', values.connections, 1);
let seconds: number;
let warmupSeconds: number;
try {
  seconds = parseDuration(values.duration);
  warmupSeconds = values.warmup === '0' ? 0 : parseDuration(values.warmup);
} catch (error) {
  fail((error as Error).message);
}
if (seconds < 1) fail('--duration must be at least 1s');
if (values.workers !== undefined) wholeNumber('workers', values.workers, 1);
const requested = values.rows.split(',').map((r) => r.trim()).filter(Boolean);
for (const row of requested) if (!(ROWS as readonly string[]).includes(row)) fail(`unknown row ${row}: choose from ${ROWS.join(', ')}`);
const rows = ROWS.filter((row) => requested.includes(row));
if (rows.length === 0) fail('--rows names no row');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const THREADS = 2;
const SECRET_KEY = randomBytes(32).toString('base64url');
const TOKEN_KEY = tokenSigningKey(SECRET_KEY);
const dbName = `movr_bench_${randomBytes(5).toString('hex')}`;
const serverUrl = new URL(values.db);
const benchUrl = new URL(values.db);
benchUrl.pathname = `/${dbName}`;
const url = benchUrl.toString();
const work = mkdtempSync(path.join(tmpdir(), 'movr-bench-'));

// ── cleanup, whatever happens ────────────────────────────────────────────────────────────────

let db: Database | undefined;
let server: MovrServer | undefined;
let sampler: MemorySampler | undefined;
let databaseCreated = false;
let interrupted = false;
let cleaning: Promise<void> | undefined;

async function admin(sqlText: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl.toString(), application_name: 'movr-bench' });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    sampler?.pause();
    await server?.stop().catch(() => undefined);
    await stopAll();
    await db?.close().catch(() => undefined);
    if (databaseCreated) {
      await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch((error: unknown) => {
        console.error(`could not drop ${dbName}: ${(error as Error).message}`);
      });
    }
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}

let interruptedAt = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      // tsx passes the terminal's Ctrl-C on as well: only a later signal is the user's second.
      if (Date.now() - interruptedAt > 1000) console.error('still cleaning up…');
      return;
    }
    interrupted = true;
    interruptedAt = Date.now();
    console.error(`\n${signal}: stopping the load and the server, dropping ${dbName}…`);
    void cleanup().finally(() => process.exit(130));
  });
}

// ── one row ──────────────────────────────────────────────────────────────────────────────────

interface MovrRun {
  rate: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers other than success by status (the loop row: of starts and ends). */
  statuses: Record<string, number>;
  socketErrors: number;
  /** Requests that reused a bench pair because the pool ran out (start row). */
  repeated: number;
  /** How long the load ran: shorter than a run when the start row's pool ran out. */
  seconds: number;
  /** The loop row: every answer to the starts and to the ends, by status. */
  bySide?: { start: Record<string, number>; end: Record<string, number> };
}

interface Round {
  movr: MovrRun;
  /** MovR's transactions and 40001 retries during its run, from its /metrics. */
  movrTransactions: TransactionTotals;
  pgbench: PgbenchResult;
  ratio: number;
  memory: MemoryPeak;
}

interface RowReport {
  row: RowName;
  unit: 'req/s' | 'cycles/s';
  description: string;
  statements: number;
  named: number;
  roundTrips: number;
  rounds: Round[];
  movr: { rate: number; p50Ms: number; p99Ms: number; retriesPerTx: number; statuses: Record<string, number>; repeated: number };
  pgbench: { rate: number; p50Ms: number; p99Ms: number; retriesPerTx: number; failed: number; aborted: number };
  ratio: number;
  ratioRange: [number, number];
  /** The highest VmRSS of any one server process during the MovR runs. */
  rssPeakMiB: number;
  /** The highest sum of VmRSS over all the server's processes. */
  rssTotalMiB: number;
  hwmPeakMiB: number;
  /** The server's processes (primary, workers, their helpers) seen while sampling. */
  processes: number;
  /** What the server logged during the row's measured runs (LOG_LEVEL=warn), by kind. */
  serverLog: Record<string, number>;
  notes: string[];
}

interface PreparedRow {
  description: string;
  unit: 'req/s' | 'cycles/s';
  scripts: RowScripts;
  movr(seconds: number): Promise<MovrRun>;
  /** Between runs of the write rows: the bench pairs back to their start. */
  reset?: () => Promise<void>;
  /** After the warm-up and after each round: grow what the row draws from if a run came close to using it up. */
  afterRun?: (movr: MovrRun, pgbench?: PgbenchResult) => Promise<void>;
  notes: string[];
}

function fromHttp(result: HttpLoadResult, conflictsExpected: boolean): MovrRun {
  const statuses: Record<string, number> = conflictsExpected ? { '409': 0, '503': 0 } : {};
  for (const [status, n] of Object.entries(result.statuses)) if (!/^2\d\d$/.test(status)) statuses[status] = n;
  return {
    rate: result.rate,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    statuses,
    socketErrors: result.socketErrors + result.timeouts,
    repeated: result.repeated,
    seconds: result.seconds,
  };
}

const http = (requests: HttpRequestSpec[], distinct: boolean, seconds: number) =>
  runHttpLoad({
    base: server!.url,
    connections,
    threads: THREADS,
    seconds,
    requests,
    distinct,
    countStatuses: distinct,
    workDir: work,
  }).then((result) => fromHttp(result, distinct));

let pairs: BenchPairs | undefined;
/** Pairs each pgbench client has for the start row: enough for ~300 transactions a second per client. */
const startDepth = () => Math.max(500, Math.ceil(seconds * 300));

async function benchPairs(): Promise<BenchPairs> {
  if (!pairs) {
    pairs = new BenchPairs(db!, connections, TOKEN_KEY);
    await pairs.prepare();
  }
  return pairs;
}

async function prepareRow(row: RowName): Promise<PreparedRow> {
  const cities = DEFAULT_REGION_MAP.cities.map((c) => c.name);
  const notes: string[] = [];
  switch (row) {
    case 'list': {
      const scripts = await listScripts(db!, work, cities);
      const requests = cities.map((city) => ({ method: 'GET' as const, path: `/api/v1/vehicles?city=${encodeURIComponent(city)}`, headers: {} }));
      return { description: 'GET /api/v1/vehicles?city=<city>, nine cities in turn', unit: 'req/s', scripts, movr: (s) => http(requests, false, s), notes };
    }
    case 'page': {
      const page = `/cities/${encodeURIComponent(BENCH_CITY)}/vehicles`;
      const rider = await signUpThroughSite(server!.url, BENCH_CITY);
      const session = await logInThroughSite(server!.url, rider, page);
      if (session.replacedOnVisit) notes.push('the page sets a new session cookie on every visit: wrk sends the same one each time');
      const [user] = await db!.execute('SELECT city, user_id FROM user_credentials WHERE username = $1', [rider.username]);
      if (!user) throw new Error(`the rider ${rider.username} signed up but has no credentials row`);
      const scripts = await pageScripts(db!, work, { city: String(user.city), id: String(user.user_id) });
      const requests = [{ method: 'GET' as const, path: page, headers: { Cookie: session.cookie, Accept: 'text/html' } }];
      return { description: 'GET /cities/new%20york/vehicles (HTML), logged in', unit: 'req/s', scripts, movr: (s) => http(requests, false, s), notes };
    }
    case 'start': {
      const bench = await benchPairs();
      await bench.ensure(startDepth());
      const scripts = await startScripts(db!, work, bench, TOKEN_KEY, DEFAULT_PRICE_LIST);
      // MovR's pairs: the same pool, every client's i = 0 first, then i = 1, …
      const most = () => bench.depth * connections;
      let movrPairs = Math.min(most(), Math.max(4000, seconds * 1000));
      const requestsFor = async (count: number) => {
        const numbers = pairNumbers(connections, 0, Math.ceil(count / connections)).slice(0, count);
        const tokens = await bench.tokensFor(numbers);
        const rowsByN = await db!.execute('SELECT n, vehicle FROM bench_pairs WHERE n = ANY($1::bigint[])', [numbers]);
        const vehicles = new Map(rowsByN.map((r) => [Number(r.n), String(r.vehicle)]));
        return numbers.map((n) => ({
          method: 'POST' as const,
          path: '/api/v1/rides',
          headers: { Authorization: `Bearer ${tokens.get(n)!}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ vehicle_city: BENCH_CITY, vehicle_id: vehicles.get(n)! }),
        }));
      };
      let requests = await requestsFor(movrPairs);
      return {
        description: 'POST /api/v1/rides, a distinct rider and vehicle per request',
        unit: 'req/s',
        scripts,
        movr: (s) => http(requests, true, s),
        reset: () => bench.reset(),
        afterRun: async (movr, pgbench) => {
          // MovR's pool: four times what the last run's rate would use in a whole round (on a
          // shared machine one round can run at two or three times the speed of the one before).
          const wanted = Math.min(most(), Math.ceil(movr.rate * seconds * 4));
          if ((movr.repeated > 0 || wanted > movrPairs) && movrPairs < most()) {
            movrPairs = Math.max(wanted, Math.min(most(), movrPairs * 2));
            requests = await requestsFor(movrPairs);
          }
          if (pgbench && pgbench.maxPerClient > 0.7 * bench.depth) await bench.ensure(bench.depth * 2);
        },
        notes,
      };
    }
    case 'loop': {
      const bench = await benchPairs();
      await bench.ensure(Math.max(bench.depth, 1));
      const scripts = await loopScripts(db!, work, bench, TOKEN_KEY, DEFAULT_PRICE_LIST);
      const numbers = Array.from({ length: connections }, (_, c) => c * PAIR_STRIDE);
      const tokens = await bench.tokensFor(numbers);
      const rowsByN = await db!.execute('SELECT n, vehicle FROM bench_pairs WHERE n = ANY($1::bigint[])', [numbers]);
      const vehicles = new Map(rowsByN.map((r) => [Number(r.n), String(r.vehicle)]));
      const driverPairs = numbers.map((n) => ({ token: tokens.get(n)!, vehicleId: vehicles.get(n)! }));
      return {
        description: 'per connection: POST /api/v1/rides, then POST …/end, again',
        unit: 'cycles/s',
        scripts,
        movr: (s) => runLoop(driverPairs, s),
        reset: () => bench.reset(),
        notes,
      };
    }
  }
}

async function runLoop(driverPairs: { token: string; vehicleId: string }[], runSeconds: number): Promise<MovrRun> {
  const configFile = path.join(work, 'loop.json');
  writeFileSync(configFile, JSON.stringify({ base: server!.url, city: BENCH_CITY, seconds: runSeconds, pairs: driverPairs }));
  const result = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'bench', 'loop-driver.ts'), configFile], {
    cwd: ROOT,
  });
  const line = result.stdout.trim().split('\n').at(-1);
  if (result.code !== 0 || !line) throw new Error(`the loop driver failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  const r = JSON.parse(line) as LoopResult;
  // Conflicts (409) and busy or unavailable answers (503) of starts and ends together: the JSON
  // has them apart.
  const statuses: Record<string, number> = { '409': 0, '503': 0 };
  for (const answers of [r.start, r.end]) {
    for (const [status, n] of Object.entries(answers)) if (!/^2\d\d$/.test(status)) statuses[status] = (statuses[status] ?? 0) + n;
  }
  return {
    rate: r.rate,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    statuses,
    bySide: { start: r.start, end: r.end },
    socketErrors: r.socketErrors,
    repeated: 0,
    seconds: r.seconds,
  };
}

/**
 * Waits until MovR's connections have all been idle for half a second: when the load generator
 * stops, requests it sent may still be running in the server (or waiting in it for a
 * connection, which the database cannot see), and a reset must not run before they committed.
 */
async function quiet(timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let idleReadings = 0;
  while (idleReadings < 10 && Date.now() < until) {
    const [row] = await db!.execute(
      `SELECT count(*)::int AS busy FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = 'movr' AND state IS DISTINCT FROM 'idle'`,
    );
    idleReadings = Number(row?.busy ?? 0) === 0 ? idleReadings + 1 : 0;
    await sleep(50);
  }
}

const statusText = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status}: ${whole(n)}`)
    .join(', ');

async function runRow(row: RowName): Promise<RowReport> {
  const prepared = await prepareRow(row);
  const { scripts } = prepared;
  console.log(
    `\n${row}: ${prepared.description}; MovR sends ${scripts.statements} statement${scripts.statements === 1 ? '' : 's'} ` +
      `(${scripts.named} named) in ${scripts.roundTrips} round trip${scripts.roundTrips === 1 ? '' : 's'} per ${prepared.unit === 'cycles/s' ? 'cycle' : 'request'}`,
  );
  if (values['show-sql']) console.log(`\n${scripts.shown}\n`);
  const maxTries = db!.transactionSettings.maxAttempts;
  if (warmupSeconds > 0) {
    const warm = await prepared.movr(warmupSeconds);
    await quiet();
    await prepared.reset?.();
    await prepared.afterRun?.(warm);
  }
  sampler!.take();
  server!.takeLogged();
  const done: Round[] = [];
  for (let round = 1; round <= rounds; round++) {
    const countsBefore = await scrapeTransactionTotals(server!.metricsUrl);
    sampler!.start();
    const movr = await prepared.movr(seconds);
    sampler!.pause();
    const memory = sampler!.take();
    await quiet();
    // After quiet(): requests still queued in the server at the end of the run are counted too.
    const movrTransactions = totalsBetween(countsBefore, await scrapeTransactionTotals(server!.metricsUrl));
    await prepared.reset?.();
    const pgbench = await runPgbench({
      url,
      files: scripts.files,
      defines: scripts.defines,
      clients: connections,
      threads: THREADS,
      seconds,
      maxTries,
      logDir: work,
      cycles: row === 'loop',
    });
    await prepared.reset?.();
    const result: Round = { movr, movrTransactions, pgbench, ratio: movr.rate / pgbench.rate, memory };
    done.push(result);
    const problems = [
      Object.values(movr.statuses).some((n) => n > 0) && `MovR answered ${statusText(movr.statuses)}`,
      movr.socketErrors > 0 && `${movr.socketErrors} socket errors or timeouts`,
      movr.repeated > 0 &&
        movr.seconds < seconds * 0.97 &&
        `MovR's bench pairs ran out after ${movr.seconds.toFixed(1)} s (the rate is over that time; ${whole(movr.repeated)} requests reused a pair)`,
      pgbench.failed > 0 && `pgbench: ${pgbench.failed} transactions failed after ${maxTries} tries`,
      pgbench.aborted > 0 && `pgbench: ${pgbench.aborted} clients aborted`,
    ].filter(Boolean);
    console.log(
      `  round ${round}: MovR ${whole(movr.rate)} ${prepared.unit} (p50 ${ms(movr.p50Ms)}, p99 ${ms(movr.p99Ms)}), ` +
        `pgbench ${whole(pgbench.rate)} ${prepared.unit === 'cycles/s' ? 'cycles/s' : 'tps'} (p50 ${ms(pgbench.p50Ms)}, p99 ${ms(pgbench.p99Ms)}), ` +
        `ratio ${result.ratio.toFixed(2)}, RSS ${memory.rssMiB.toFixed(0)} MiB per process${problems.length ? `; ${problems.join('; ')}` : ''}`,
    );
    await prepared.afterRun?.(movr, pgbench);
  }
  const logged = [...server!.takeLogged()].sort((a, b) => b[1] - a[1]);
  if (logged.length > 0) {
    console.log(`  the server logged during the row's MovR runs:`);
    for (const [kind, n] of logged.slice(0, 8)) console.log(`    ${whole(n)} × ${kind}`);
    if (logged.length > 8) console.log(`    … and ${logged.length - 8} other kinds`);
  }
  const sum = (f: (r: Round) => number) => done.reduce((total, r) => total + f(r), 0);
  const ratios = done.map((r) => r.ratio);
  const statuses: Record<string, number> = {};
  for (const r of done) for (const [status, n] of Object.entries(r.movr.statuses)) statuses[status] = (statuses[status] ?? 0) + n;
  const transactions = sum((r) => r.pgbench.transactions);
  return {
    row,
    unit: prepared.unit,
    description: prepared.description,
    statements: scripts.statements,
    named: scripts.named,
    roundTrips: scripts.roundTrips,
    rounds: done,
    movr: {
      rate: mean(done.map((r) => r.movr.rate)),
      p50Ms: mean(done.map((r) => r.movr.p50Ms)),
      p99Ms: mean(done.map((r) => r.movr.p99Ms)),
      retriesPerTx: retriesPerTransaction(done.map((r) => r.movrTransactions)),
      statuses,
      repeated: sum((r) => r.movr.repeated),
    },
    pgbench: {
      rate: mean(done.map((r) => r.pgbench.rate)),
      p50Ms: mean(done.map((r) => r.pgbench.p50Ms)),
      p99Ms: mean(done.map((r) => r.pgbench.p99Ms)),
      retriesPerTx: transactions > 0 ? sum((r) => r.pgbench.retries) / transactions : 0,
      failed: sum((r) => r.pgbench.failed),
      aborted: sum((r) => r.pgbench.aborted),
    },
    ratio: sum((r) => r.movr.rate) / sum((r) => r.pgbench.rate),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    rssPeakMiB: Math.max(...done.map((r) => r.memory.rssMiB)),
    rssTotalMiB: Math.max(...done.map((r) => r.memory.totalMiB)),
    hwmPeakMiB: Math.max(...done.map((r) => r.memory.hwmMiB)),
    processes: Math.max(...done.map((r) => r.memory.processes)),
    serverLog: Object.fromEntries(logged),
    notes: prepared.notes,
  };
}

// ── the table ────────────────────────────────────────────────────────────────────────────────

const HEADER = ['row', 'MovR', 'p50', 'p99', 'pgbench', 'p50', 'p99', 'ratio', 'retries/tx MovR', 'retries/tx pgbench', 'MovR RSS per process', 'MovR non-2xx', 'pgbench failed'];

function tableRows(reports: RowReport[]): string[][] {
  return reports.map((r) => [
    r.row,
    `${whole(r.movr.rate)} ${r.unit}`,
    ms(r.movr.p50Ms),
    ms(r.movr.p99Ms),
    `${whole(r.pgbench.rate)} ${r.unit === 'cycles/s' ? 'cycles/s' : 'tps'}`,
    ms(r.pgbench.p50Ms),
    ms(r.pgbench.p99Ms),
    rounds > 1 ? `${r.ratio.toFixed(2)} (${r.ratioRange[0].toFixed(2)}–${r.ratioRange[1].toFixed(2)})` : r.ratio.toFixed(2),
    r.movr.retriesPerTx.toFixed(3),
    r.pgbench.retriesPerTx.toFixed(3),
    `${r.rssPeakMiB.toFixed(0)} MiB (${r.processes} processes, ${r.rssTotalMiB.toFixed(0)} MiB in all)`,
    statusText(r.movr.statuses) || '0',
    whole(r.pgbench.failed),
  ]);
}

function printTable(reports: RowReport[]): void {
  const body = tableRows(reports);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const left = new Set([0, HEADER.indexOf('MovR non-2xx')]);
  const line = (cells: string[]) => cells.map((cell, i) => (left.has(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  console.log(`\n${line(HEADER)}`);
  for (const row of body) console.log(line(row));
}

function markdownTable(reports: RowReport[]): string {
  const lines = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`];
  for (const row of tableRows(reports)) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

async function gitCommit(): Promise<string> {
  const head = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT });
  const dirty = await run('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT });
  return `${head.stdout.trim() || 'unknown'}${dirty.stdout.trim() ? ' (src/ changed since)' : ''}`;
}

// ── main ─────────────────────────────────────────────────────────────────────────────────────

async function movrCommand(args: string[]): Promise<string> {
  const result = await run(process.execPath, [path.join(ROOT, 'bin', 'movr.js'), ...args], { cwd: work });
  if (result.code !== 0) throw new Error(`movr ${args.join(' ')} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
try {
  const commit = await gitCommit();
  const tool = findWrk() ? 'wrk' : 'autocannon';
  const started = new Date();
  console.log(
    `MovR bench: ${rows.join(', ')}; ${rounds} round${rounds === 1 ? '' : 's'} of ${seconds} s each side, ${connections} connections, ` +
      `${tool} and pgbench with ${THREADS} threads; commit ${commit}; ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
  buildMovr(ROOT);
  await admin(`CREATE DATABASE "${dbName}"`);
  databaseCreated = true;
  await movrCommand(['db', 'migrate', '--db', url]);
  await movrCommand(['workload', 'init', '--db', url, '--num-users', '900', '--num-vehicles', '150', '--num-rides', '5000', '--num-histories', '0']);
  db = await openDatabase(url, { poolSize: 16, applicationName: 'movr-bench' });
  await settleStatistics(db);
  server = await startMovr({
    root: ROOT,
    cwd: work,
    databaseUrl: url,
    secretKey: SECRET_KEY,
    poolSize: 32,
    workers: values.workers,
    nodeArgs: values['node-args']?.split(/\s+/).filter(Boolean),
  });
  sampler = new MemorySampler(server.child.pid!);
  console.log(`database ${dbName} (dropped at the end); MovR at ${server.url}${values.workers ? ` with MOVR_WORKERS=${values.workers}` : ''}`);

  const reports: RowReport[] = [];
  for (const row of rows) reports.push(await runRow(row));

  printTable(reports);
  const notes = reports.flatMap((r) => r.notes.map((n) => `${r.row}: ${n}`));
  console.log(
    `\nratio: MovR's rate over pgbench's (sum over rounds${rounds > 1 ? ', range of the rounds in brackets' : ''}); p50/p99: means of the rounds; ` +
      `40001 retries/tx: MovR's from its /metrics before and after each run (retries over transactions ended; 0 for rows without transactions), pgbench --max-tries ${db.transactionSettings.maxAttempts} counts its own; ` +
      `MovR RSS per process: the highest VmRSS of any one server process during the MovR runs (the number of processes and their summed peak in brackets).`,
  );
  for (const note of notes) console.log(`note: ${note}`);
  if (values.markdown) console.log(`\n${markdownTable(reports)}`);
  if (values.json) {
    writeFileSync(
      values.json,
      `${JSON.stringify(
        {
          command,
          startedAt: started.toISOString(),
          commit,
          options: { rows, rounds, seconds, connections, workers: values.workers ?? null, warmupSeconds, tool, threads: THREADS },
          machine: { cores: cpus().length, loadavg: loadavg() },
          rows: reports,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nfigures written to ${values.json}`);
  }
} catch (error) {
  if (!interrupted) {
    console.error(`\nbench failed: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 1;
  }
} finally {
  await cleanup();
}
