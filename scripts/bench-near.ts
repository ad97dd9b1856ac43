// Benchmark of "near me" (listVehiclesNear): loads N vehicles into one city (by default 10,000
// in new york, spread over 3 km around its centre as the generator places them), then asks for
// the 20 nearest available vehicles from random points of the city and prints the latency
// percentiles, the plan of the first box's query, and how many boxes the queries needed.
//
//   npx tsx scripts/bench-near.ts [DATABASE_URL] [--vehicles 10000] [--queries 500]
//
// The URL comes from the argument, else BENCH_DATABASE_URL, else an in-memory PGlite. Any MovR
// data in the database is replaced.
import { parseArgs } from 'node:util';
import { openDatabase } from '../src/db/connect.ts';
import { migrate } from '../src/db/migrate.ts';
import { listVehiclesNear, listVehicles } from '../src/movr/vehicles.ts';
import { buildRegionMap, cityCentre } from '../src/region-map.ts';
import { RowRandom } from '../src/workload/random.ts';
import { pointAround, VEHICLE_SPREAD_M } from '../src/workload/generate.ts';
import { initWorkload } from '../src/workload/init.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { vehicles: { type: 'string', default: '10000' }, queries: { type: 'string', default: '500' } },
});
const vehicleCount = Number(values.vehicles);
const queries = Number(values.queries);
const url = positionals[0] ?? process.env.BENCH_DATABASE_URL ?? 'pglite:memory';
const regions = buildRegionMap([['us-east1', ['new york']]]).map!;
const city = regions.findCity('new york')!;

const db = await openDatabase(url);
try {
  console.log(`database: ${db.displayUrl} (${db.kind}); ${vehicleCount} vehicles in new york`);
  await migrate(db);
  await initWorkload(db, {
    regions, seed: 1, numUsers: 100, numVehicles: vehicleCount, numRides: 0, numHistories: 0, numPromoCodes: 0,
    baseTime: new Date('2026-01-01T00:00:00Z'), demoPasswords: 'fixed', drop: true,
  });
  if (db.kind !== 'pglite') await db.execute('ANALYZE vehicles');
  const available = await db.execute("SELECT count(*)::int AS n FROM vehicles WHERE status = 'available'");
  console.log(`available: ${available[0]?.n}`);
  const rng = new RowRandom(7);
  const points = Array.from({ length: queries }, (_, i) => pointAround(rng.reset(1, i), cityCentre(city), VEHICLE_SPREAD_M * 1.2));
  // Warm up: statements prepared, caches filled.
  for (const point of points.slice(0, 20)) await listVehiclesNear(db.orm, { city: 'new york', ...point });
  const time = async (work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    return performance.now() - started;
  };
  const near: number[] = [];
  let farthest = 0;
  for (const point of points) {
    let rows: { distanceM: number }[] = [];
    near.push(await time(async () => (rows = await listVehiclesNear(db.orm, { city: 'new york', ...point }))));
    farthest = Math.max(farthest, rows.at(-1)?.distanceM ?? 0);
  }
  const list: number[] = [];
  for (let i = 0; i < Math.min(200, queries); i++) list.push(await time(() => listVehicles(db.orm, { city: 'new york' })));
  const pct = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!.toFixed(2);
  console.log(`near me, 20 nearest: p50 ${pct(near, 50)} ms, p95 ${pct(near, 95)} ms, p99 ${pct(near, 99)} ms, max ${pct(near, 100)} ms; farthest 20th vehicle ${farthest} m`);
  console.log(`plain list (first page), for comparison: p50 ${pct(list, 50)} ms, p95 ${pct(list, 95)} ms`);
  const c = cityCentre(city);
  const plan = await db.execute(
    `EXPLAIN SELECT id FROM vehicles WHERE city = 'new york' AND status = 'available'
       AND lat BETWEEN ${c.lat - 0.0045} AND ${c.lat + 0.0045} AND long BETWEEN ${c.long - 0.006} AND ${c.long + 0.006}`,
  );
  console.log('plan of the first box:');
  for (const row of plan) console.log(`  ${Object.values(row)[0]}`);
} finally {
  await db.close();
}
