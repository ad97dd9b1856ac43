// `npm run chaos`: MovR under database faults, measured. A scratch PostgreSQL database, `movr
// serve` in its own process behind a TCP fault proxy (test/support/fault-proxy.ts), riders
// starting and ending rides through the JSON API as careful clients do (Idempotency-Key, the
// same key again after a 503 or a lost connection), and readers listing vehicles. Each fault in
// turn, then a quiet phase; per phase: requests, answers by status and code, the time until
// /readyz and the first write succeed again, and at the end the acknowledged rides lost or
// duplicated (must be 0) and `movr workload check`. Cleans up after itself.
//
//   npx tsx scripts/chaos.ts [--db postgres://postgres@127.0.0.1:5432/postgres] [--riders 16]
//                            [--fault-seconds 5] [--json chaos.json]
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../src/db/connect.ts';
import { migrate } from '../src/db/migrate.ts';
import { issueToken, tokenSigningKey } from '../src/movr/api-tokens.ts';
import { createUser } from '../src/movr/users.ts';
import { addVehicle } from '../src/movr/vehicles.ts';
import { DEFAULT_REGION_MAP } from '../src/region-map.ts';
import { checkInvariants, formatCheck } from '../src/workload/check.ts';
import { DEFAULT_INIT_OPTIONS, initWorkload } from '../src/workload/init.ts';
import { FaultProxy } from '../test/support/fault-proxy.ts';
import { RideTraffic, type TrafficRider } from '../test/support/ride-traffic.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string', default: process.env.MOVR_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    riders: { type: 'string', default: '16' },
    'fault-seconds': { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});
const RIDERS = Number(values.riders);
const FAULT_MS = Number(values['fault-seconds']) * 1000;
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SECRET_KEY = randomBytes(24).toString('hex');

interface PhaseReport {
  phase: string;
  seconds: number;
  requests: number;
  answers: Record<string, number>;
  /** From the end of the fault until /readyz answered 200 (ms); undefined for phases without a fault. */
  readyAfterMs?: number;
  /** From the end of the fault until a write succeeded (ms). */
  writesAfterMs?: number;
}

const admin = new pg.Client({ connectionString: values.db });
await admin.connect();
const name = `movr_chaos_${Date.now().toString(36)}`;
await admin.query(`CREATE DATABASE "${name}"`);
const url = new URL(values.db);
url.pathname = `/${name}`;
const directUrl = url.toString();

let server: ChildProcess | undefined;
let proxy: FaultProxy | undefined;
try {
  // The data set, the riders and their tokens, written directly.
  const db = await openDatabase(directUrl);
  await migrate(db);
  await initWorkload(db, { ...DEFAULT_INIT_OPTIONS, numVehicles: 60, baseTime: new Date(), demoPasswords: 'random', drop: false });
  const riders: TrafficRider[] = [];
  const riderIds: string[] = [];
  const key = tokenSigningKey(SECRET_KEY);
  for (let i = 0; i < RIDERS; i++) {
    const user = await createUser(db, { name: `Chaos Rider ${i}`, city: 'new york' }, { regions: DEFAULT_REGION_MAP });
    const vehicle = await addVehicle(db, user, { type: 'scooter', color: 'black', location: `${i} Chaos Street` }, { regions: DEFAULT_REGION_MAP });
    riderIds.push(user.id);
    riders.push({ city: user.city, token: (await issueToken(db, user, key, { lifetimeMs: 3_600_000 })).token, vehicleId: vehicle.id });
  }

  proxy = await FaultProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
  const started = await startServer(proxy.url(directUrl));
  server = started.child;
  const base = started.url;
  console.log(`MovR at ${base}, database ${name} through a fault proxy on port ${proxy.port}; ${RIDERS} riders`);

  const readyz = async () => (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined))?.status ?? 0;
  const traffic = new RideTraffic(base, riders);
  const readers = startReaders(base, 4);
  traffic.start();
  const reports: PhaseReport[] = [];

  /** Runs one phase: the fault for FAULT_MS, its end, then the recovery measured. */
  async function phase(label: string, fault?: { begin: () => void | Promise<void>; end: () => void | Promise<void> }) {
    const counts = traffic.phase(label);
    const began = Date.now();
    if (!fault) {
      await sleep(FAULT_MS);
      reports.push({ phase: label, seconds: (Date.now() - began) / 1000, requests: counts.requests, answers: Object.fromEntries(counts.answers) });
      return;
    }
    await fault.begin();
    await sleep(FAULT_MS);
    await fault.end();
    const ended = Date.now();
    traffic.phase(`${label} (recovery)`);
    let readyAfterMs: number | undefined;
    while (Date.now() - ended < 30_000) {
      if ((await readyz()) === 200) {
        readyAfterMs = Date.now() - ended;
        break;
      }
      await sleep(50);
    }
    while (traffic.firstSuccess === undefined && Date.now() - ended < 30_000) await sleep(50);
    const writesAfterMs = traffic.firstSuccess === undefined ? undefined : Math.max(0, traffic.firstSuccess - ended);
    const recovery = traffic.phases.get(`${label} (recovery)`);
    const answers = Object.fromEntries(counts.answers);
    for (const [answer, n] of recovery?.answers ?? []) answers[answer] = (answers[answer] ?? 0) + n;
    reports.push({
      phase: label,
      seconds: (Date.now() - began) / 1000,
      requests: counts.requests + (recovery?.requests ?? 0),
      answers,
      ...(readyAfterMs === undefined ? {} : { readyAfterMs }),
      ...(writesAfterMs === undefined ? {} : { writesAfterMs }),
    });
    await sleep(1000);
  }

  const terminator = new pg.Client({ connectionString: directUrl });
  await terminator.connect();
  await phase('baseline');
  await phase('cut every connection', { begin: () => proxy!.cut(), end: () => {} });
  await phase('database down (cut, refuse new)', {
    begin: async () => {
      await proxy!.refuse();
      proxy!.cut();
    },
    end: () => proxy!.heal(),
  });
  await phase('database stalls (no bytes either way)', { begin: () => proxy!.stall(), end: () => proxy!.heal() });
  await phase('backends terminated (pg_terminate_backend)', {
    begin: async () => {
      await terminator.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
    },
    end: () => {},
  });
  await phase('quiet');
  await terminator.end();
  await traffic.stop();
  const readCounts = await readers.stop();

  // Acknowledged rides: each must exist exactly once; no ride may exist that was never acknowledged
  // (a write retried with its key must not have made a second ride).
  const rows = await db.execute('SELECT id FROM rides WHERE city = $1 AND rider_id = ANY($2::uuid[])', ['new york', riderIds]);
  const ids = rows.map((row) => String(row.id));
  const unique = new Set(ids);
  const lost = [...traffic.acknowledged].filter((id) => !unique.has(id)).length;
  const duplicated = ids.length - unique.size;
  const unacknowledged = [...unique].filter((id) => !traffic.acknowledged.has(id)).length;
  const check = await checkInvariants(db);
  await db.close();

  print(reports, readCounts);
  console.log(
    `\nacknowledged rides: ${traffic.acknowledged.size}; lost: ${lost}; duplicated: ${duplicated}; ` +
      `in the database but never acknowledged: ${unacknowledged}`,
  );
  console.log(`unexpected answers (not 2xx, 4xx or 503): ${traffic.unexpectedAnswers().length === 0 ? 'none' : traffic.unexpectedAnswers().join(', ')}`);
  console.log(`server process: ${server.exitCode === null ? 'up throughout' : `exited with ${server.exitCode}`}`);
  console.log(`\n${formatCheck(check)}`);
  if (values.json) {
    writeFileSync(
      values.json,
      `${JSON.stringify({ reports, reads: readCounts, acknowledged: traffic.acknowledged.size, lost, duplicated, unacknowledged, check: check.ok }, null, 2)}\n`,
    );
  }
  if (lost > 0 || duplicated > 0 || !check.ok || traffic.unexpectedAnswers().length > 0 || server.exitCode !== null) process.exitCode = 1;
} finally {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server?.once('exit', resolve));
  }
  await proxy?.close();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}

/** `movr serve` in a child process; resolves with its URL once it listens. */
async function startServer(databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['bin/movr.js', 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      SECRET_KEY,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      LOG_LEVEL: 'warn',
      MOVR_API_RATE_LIMIT: '0',
      MOVR_PER_ADDRESS_LOGIN_LIMITS: '0',
      MOVR_DB_CONNECT_TIMEOUT_MS: '1000',
      MOVR_DB_STATEMENT_TIMEOUT_MS: '2000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /MovR is running at (\S+)/.exec(output);
      if (match?.[1]) resolve({ child, url: match[1] });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`movr serve exited (${code}) before listening:\n${output}`)));
  });
}

/** Readers listing a city's vehicles, for load beside the writes; counted by status. */
function startReaders(base: string, count: number) {
  const answers = new Map<string, number>();
  let stopped = false;
  const loops = Array.from({ length: count }, async (_, i) => {
    const city = DEFAULT_REGION_MAP.cities[i % DEFAULT_REGION_MAP.cities.length]!.name;
    while (!stopped) {
      const answer = await fetch(`${base}/api/v1/vehicles?city=${encodeURIComponent(city)}`, { signal: AbortSignal.timeout(10_000) }).then(
        async (response) => {
          const body = (await response.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
          return response.status < 400 ? String(response.status) : `${response.status} ${body?.error?.code ?? '?'}`;
        },
        () => 'network',
      );
      answers.set(answer, (answers.get(answer) ?? 0) + 1);
      if (answer !== '200') await sleep(100);
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return Object.fromEntries(answers);
    },
  };
}

function print(reports: PhaseReport[], reads: Record<string, number>): void {
  const rows = reports.map((r) => [
    r.phase,
    r.seconds.toFixed(1),
    String(r.requests),
    Object.entries(r.answers)
      .sort((a, b) => b[1] - a[1])
      .map(([answer, n]) => `${answer}: ${n}`)
      .join(', '),
    r.readyAfterMs === undefined ? '' : `${(r.readyAfterMs / 1000).toFixed(2)} s`,
    r.writesAfterMs === undefined ? '' : `${(r.writesAfterMs / 1000).toFixed(2)} s`,
  ]);
  const header = ['phase', 'seconds', 'writes sent', 'answers', '/readyz 200 after', 'writes succeed after'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(line(row));
  console.log(`\nvehicle list reads: ${Object.entries(reads).map(([answer, n]) => `${answer}: ${n}`).join(', ')}`);
}
