// Benchmark of the MovR data generator: migrates a database, loads a large data set with
// initWorkload and prints rows/s per table, the total and the peak resident memory.
//
//   npx tsx scripts/bench-init.ts [DATABASE_URL] [--num-rides 1000000] [--num-users 50000]
//       [--num-vehicles 15000] [--num-histories 1000000] [--num-promo-codes 10000]
//       [--seed 1] [--batch-size 5000] [--concurrency N]
//
// The URL comes from the argument, else BENCH_DATABASE_URL, else a temporary PGlite directory
// (removed afterwards). Any existing MovR data in the database is replaced.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/connect.ts';
import { migrate } from '../src/db/migrate.ts';
import { initWorkload } from '../src/workload/init.ts';
import { DEFAULT_REGION_MAP } from '../src/region-map.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'num-rides': { type: 'string', default: '1000000' },
    'num-users': { type: 'string', default: '50000' },
    'num-vehicles': { type: 'string', default: '15000' },
    'num-histories': { type: 'string', default: '1000000' },
    'num-promo-codes': { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '5000' },
    concurrency: { type: 'string' },
  },
});

function integer(name: keyof typeof values): number {
  const value = Number(values[name]);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer`);
  return value;
}

let url = positionals[0] ?? process.env.BENCH_DATABASE_URL;
let tempDir: string | undefined;
if (!url) {
  tempDir = mkdtempSync(path.join(tmpdir(), 'movr-bench-'));
  url = `pglite:${tempDir}`;
}

const db = await openDatabase(url);
try {
  console.log(`database: ${db.displayUrl} (${db.kind})`);
  await migrate(db);
  const tables = new Map<string, { started: number; finished: number; rows: number }>();
  let lastReport = performance.now();
  const result = await initWorkload(db, {
    regions: DEFAULT_REGION_MAP,
    seed: integer('seed'),
    numUsers: integer('num-users'),
    numVehicles: integer('num-vehicles'),
    numRides: integer('num-rides'),
    numHistories: integer('num-histories'),
    numPromoCodes: integer('num-promo-codes'),
    batchSize: integer('batch-size'),
    ...(values.concurrency === undefined ? {} : { concurrency: integer('concurrency') }),
    drop: true,
    baseTime: new Date('2025-01-01T12:00:00Z'),
    demoPasswords: 'fixed',
    progress(table, done) {
      const now = performance.now();
      const entry = tables.get(table) ?? { started: lastReport, finished: now, rows: 0 };
      entry.finished = now;
      entry.rows = done;
      tables.set(table, entry);
      lastReport = now;
    },
  });
  const numbers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  for (const [table, { started, finished, rows }] of tables) {
    const seconds = (finished - started) / 1000;
    console.log(
      `${table.padEnd(28)} ${numbers.format(rows).padStart(10)} rows ${seconds.toFixed(1).padStart(7)} s ` +
        `${numbers.format(seconds > 0 ? rows / seconds : 0).padStart(9)} rows/s`,
    );
  }
  console.log(
    `${'total'.padEnd(28)} ${numbers.format(result.totalRows).padStart(10)} rows ${result.seconds.toFixed(1).padStart(7)} s ` +
      `${numbers.format(result.rowsPerSecond).padStart(9)} rows/s`,
  );
  // maxRSS is in kilobytes.
  console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  await db.close();
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}
