// `movr workload init` against real databases: counts, determinism, consistency of the loaded
// data (checked with SQL through the database), demo log-ins and the refusal to overwrite.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/connect.ts';
import { TABLE_NAMES_CHILDREN_FIRST } from '../../src/db/schema.ts';
import { DEFAULT_REGION_MAP } from '../../src/region-map.ts';
import { verifyPassword } from '../../src/movr/passwords.ts';
import {
  DEFAULT_INIT_OPTIONS,
  type InitOptions,
  MovrDataExistsError,
  formatTimestamp,
  initWorkload,
} from '../../src/workload/init.ts';
import { terminalProgress } from '../../src/workload/progress.ts';
import { describeEachDatabase } from '../support/databases.ts';

const BASE_TIME = new Date('2025-06-01T14:00:00Z');
const BASE_SQL = formatTimestamp(BASE_TIME.getTime());

function options(overrides: Partial<InitOptions> = {}): InitOptions {
  return { ...DEFAULT_INIT_OPTIONS, baseTime: BASE_TIME, demoPasswords: 'fixed', drop: true, ...overrides };
}

async function count(db: Database, sqlText: string, params: unknown[] = []): Promise<number> {
  const rows = await db.execute(sqlText, params);
  return Number(rows[0]?.n);
}

async function tableCounts(db: Database): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLE_NAMES_CHILDREN_FIRST) counts[table] = await count(db, `SELECT count(*) AS n FROM ${table}`);
  return counts;
}

/** A digest of every row of every MovR table (password hashes excepted: argon2 salts them). */
async function dump(db: Database): Promise<Record<string, string>> {
  const queries: Record<string, string> = {
    users: 'SELECT id::text, city, name, address, credit_card FROM users ORDER BY city, id',
    vehicles: `SELECT id::text, city, type, owner_id::text, creation_time::text, status, current_location, ext::text
               FROM vehicles ORDER BY city, id`,
    rides: `SELECT id::text, city, vehicle_city, rider_id::text, vehicle_id::text, start_address, end_address,
                   start_time::text, end_time::text, revenue::text FROM rides ORDER BY city, id`,
    vehicle_location_histories: `SELECT city, ride_id::text, "timestamp"::text, lat::text, long::text
                                 FROM vehicle_location_histories ORDER BY city, ride_id, "timestamp"`,
    promo_codes: 'SELECT code, description, creation_time::text, expiration_time::text, rules::text FROM promo_codes ORDER BY code',
    user_credentials: 'SELECT city, user_id::text, username, created_at::text FROM user_credentials ORDER BY username',
  };
  const digests: Record<string, string> = {};
  for (const [table, query] of Object.entries(queries)) {
    const rows = await db.execute(query);
    digests[table] = createHash('sha256').update(JSON.stringify(rows)).digest('hex');
  }
  return digests;
}

/** Every consistency rule of the generated data set, checked in SQL. */
async function expectConsistent(db: Database): Promise<void> {
  // A vehicle is in_use exactly when it has exactly one open ride.
  const vehicles = await db.execute(`
    SELECT v.city, v.id, v.status, count(r.id) AS open_rides
    FROM vehicles v LEFT JOIN rides r ON r.vehicle_city = v.city AND r.vehicle_id = v.id AND r.end_time IS NULL
    GROUP BY v.city, v.id, v.status`);
  const mismatched = vehicles.filter((v) => (v.status === 'in_use') !== (Number(v.open_rides) === 1));
  expect(mismatched).toEqual([]);
  expect(vehicles.every((v) => Number(v.open_rides) <= 1)).toBe(true);
  // No rider has two open rides.
  expect(
    await count(db, `SELECT count(*) AS n FROM (SELECT city, rider_id FROM rides WHERE end_time IS NULL
                     GROUP BY city, rider_id HAVING count(*) > 1) t`),
  ).toBe(0);
  // Open rides are open in every column; closed ones are closed in every column.
  expect(
    await count(
      db,
      `SELECT count(*) AS n FROM rides WHERE NOT (
         (end_time IS NULL AND end_address IS NULL AND revenue IS NULL) OR
         (end_time IS NOT NULL AND end_address IS NOT NULL AND revenue IS NOT NULL))`,
    ),
  ).toBe(0);
  // A ride, its vehicle and its rider are in one city.
  const rides = await count(db, 'SELECT count(*) AS n FROM rides');
  expect(
    await count(
      db,
      `SELECT count(*) AS n FROM rides r
       JOIN vehicles v ON v.city = r.vehicle_city AND v.id = r.vehicle_id
       JOIN users u ON u.city = r.city AND u.id = r.rider_id
       WHERE r.city = r.vehicle_city AND v.city = r.city AND u.city = r.city`,
    ),
  ).toBe(rides);
  // Times: rides start within 30 days before the base time and end 1 minute to 59 hours later,
  // never after it; open rides started at most two hours ago.
  expect(
    await count(
      db,
      `SELECT count(*) AS n FROM rides WHERE
         start_time < $1::timestamp - interval '30 days' OR start_time >= $1::timestamp
         OR end_time > $1::timestamp OR end_time < start_time + interval '1 minute'
         OR end_time > start_time + interval '59 hours'
         OR (end_time IS NULL AND start_time < $1::timestamp - interval '120 minutes')`,
      [BASE_SQL],
    ),
  ).toBe(0);
  expect(
    await count(db, `SELECT count(*) AS n FROM rides WHERE revenue < 0 OR revenue > 99.99`),
  ).toBe(0);
  // Location points lie strictly inside their ride's span, in its city, near the city centre.
  const histories = await count(db, 'SELECT count(*) AS n FROM vehicle_location_histories');
  expect(
    await count(
      db,
      `SELECT count(*) AS n FROM vehicle_location_histories h JOIN rides r ON r.city = h.city AND r.id = h.ride_id
       WHERE h."timestamp" > r.start_time AND h."timestamp" < coalesce(r.end_time, $1::timestamp)`,
      [BASE_SQL],
    ),
  ).toBe(histories);
  const points = await db.execute('SELECT city, min(lat) AS a, max(lat) AS b, min(long) AS c, max(long) AS d FROM vehicle_location_histories GROUP BY city');
  for (const p of points) {
    const city = DEFAULT_REGION_MAP.cities.find((c) => c.name === p.city);
    expect(city).toBeDefined();
    for (const lat of [p.a, p.b]) expect(Math.abs(Number(lat) - (city?.lat ?? 0))).toBeLessThan(0.5);
    for (const long of [p.c, p.d]) expect(Math.abs(Number(long) - (city?.long ?? 0))).toBeLessThan(0.5);
  }
  // Owners are users of the vehicle's city (the FK allows a null owner only).
  const owned = await count(db, 'SELECT count(*) AS n FROM vehicles WHERE owner_id IS NOT NULL');
  expect(
    await count(db, 'SELECT count(*) AS n FROM vehicles v JOIN users u ON u.city = v.city AND u.id = v.owner_id'),
  ).toBe(owned);
  // Vehicles with no owner are in cities without (regular) users.
  expect(
    await count(
      db,
      `SELECT count(*) AS n FROM vehicles v WHERE v.owner_id IS NULL AND EXISTS (
         SELECT 1 FROM users u WHERE u.city = v.city AND NOT EXISTS (
           SELECT 1 FROM user_credentials c WHERE c.city = u.city AND c.user_id = u.id))`,
    ),
  ).toBe(0);
  // Card numbers are masked: no run of five digits anywhere.
  const cards = await db.execute('SELECT credit_card FROM users');
  expect(cards.filter((c) => !/^\*{4} \*{4} \*{4} \d{4}$/.test(String(c.credit_card)))).toEqual([]);
  // Demo users have no open rides.
  expect(
    await count(
      db,
      `SELECT count(*) AS n FROM rides r JOIN user_credentials c ON c.city = r.city AND c.user_id = r.rider_id
       WHERE r.end_time IS NULL`,
    ),
  ).toBe(0);
}

describeEachDatabase('initWorkload', (t) => {
  it('loads the CockroachDB workload defaults, plus three demo users', async () => {
    const reports: [string, number, number][] = [];
    const result = await initWorkload(t.db, options({ progress: (table, done, total) => reports.push([table, done, total]) }));
    const expected = {
      users: 53,
      vehicles: 15,
      rides: 500,
      vehicle_location_histories: 1000,
      promo_codes: 1000,
      user_promo_codes: 0,
      user_credentials: 3,
      ride_receipts: 0,
      api_tokens: 0,
      idempotency_keys: 0,
      sessions: 0,
      operators: 0,
      operator_actions: 0,
    };
    expect(await tableCounts(t.db)).toEqual(expected);
    expect(result.rows).toEqual(expected);
    expect(result.totalRows).toBe(2571);
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.rowsPerSecond).toBeCloseTo(result.totalRows / result.seconds);
    // Progress: tables in insert order, each ending with done = total.
    const order = [...new Set(reports.map(([table]) => table))];
    expect(order).toEqual(['users', 'promo_codes', 'vehicles', 'rides', 'vehicle_location_histories', 'user_credentials']);
    for (const table of order) {
      const last = reports.filter(([name]) => name === table).at(-1);
      expect(last?.[1]).toBe(last?.[2]);
    }
    await expectConsistent(t.db);

    // Rows spread over all 9 cities in contiguous blocks: 50 users are 5 or 6 per city.
    const perCity = await t.db.execute(`SELECT city, count(*) AS n FROM users
      WHERE NOT EXISTS (SELECT 1 FROM user_credentials c WHERE c.city = users.city AND c.user_id = users.id)
      GROUP BY city`);
    expect(perCity).toHaveLength(9);
    for (const row of perCity) expect([5, 6]).toContain(Number(row.n));
    const statuses = await t.db.execute('SELECT DISTINCT status FROM vehicles');
    for (const row of statuses) expect(['available', 'in_use', 'lost']).toContain(row.status);
    const types = await t.db.execute(`SELECT type, ext->>'color' AS color, ext->>'brand' AS brand FROM vehicles`);
    for (const row of types) {
      expect(['skateboard', 'bike', 'scooter']).toContain(row.type);
      expect(['red', 'yellow', 'blue', 'green', 'black']).toContain(row.color);
      expect(row.brand === null).toBe(row.type !== 'bike');
    }
    const rules = await t.db.execute(`SELECT DISTINCT rules->>'type' AS type FROM promo_codes`);
    expect(rules).toEqual([{ type: 'percent_discount' }]);
    expect(await count(t.db, `SELECT count(*) AS n FROM promo_codes WHERE expiration_time < $1::timestamp`, [BASE_SQL])).toBeGreaterThan(0);
    expect(await count(t.db, `SELECT count(*) AS n FROM promo_codes WHERE expiration_time > $1::timestamp`, [BASE_SQL])).toBeGreaterThan(0);
    expect(await count(t.db, `SELECT count(*) AS n FROM promo_codes WHERE creation_time >= $1::timestamp`, [BASE_SQL])).toBe(0);
  });

  it('creates demo accounts, one per region, that log in with the returned passwords', async () => {
    const first = await initWorkload(t.db, options());
    expect(first.demoAccounts.map((a) => [a.username, a.city])).toEqual([
      ['demo-newyork', 'new york'],
      ['demo-sanfrancisco', 'san francisco'],
      ['demo-paris', 'paris'],
    ]);
    const credentials = await t.db.execute(
      `SELECT c.username, c.password_hash, u.name, u.city FROM user_credentials c
       JOIN users u ON u.city = c.city AND u.id = c.user_id ORDER BY c.username`,
    );
    expect(credentials).toHaveLength(3);
    for (const account of first.demoAccounts) {
      const row = credentials.find((c) => c.username === account.username);
      expect(row?.name).toBe(account.name);
      expect(row?.city).toBe(account.city);
      expect(account.password.length).toBeGreaterThanOrEqual(12);
      expect(await verifyPassword(String(row?.password_hash), account.password)).toBe(true);
      expect(await verifyPassword(String(row?.password_hash), `${account.password}x`)).toBe(false);
    }
    // 'fixed' passwords are the same on every load and for every seed.
    const again = await initWorkload(t.db, options({ seed: 42 }));
    expect(again.demoAccounts.map((a) => a.password)).toEqual(first.demoAccounts.map((a) => a.password));

    const random1 = await initWorkload(t.db, options({ demoPasswords: 'random' }));
    const random2 = await initWorkload(t.db, options({ demoPasswords: 'random' }));
    for (const [i, account] of random2.demoAccounts.entries()) {
      expect(account.password.length).toBeGreaterThanOrEqual(16);
      expect(account.password).not.toBe(random1.demoAccounts[i]?.password);
      expect(account.password).not.toBe(first.demoAccounts[i]?.password);
      const [row] = await t.db.execute('SELECT password_hash FROM user_credentials WHERE username = $1', [account.username]);
      expect(await verifyPassword(String(row?.password_hash), account.password)).toBe(true);
    }
  });

  it('is deterministic: the same seed and base time give the same rows, whatever the batch size', async () => {
    await initWorkload(t.db, options());
    const first = await dump(t.db);
    await initWorkload(t.db, options({ batchSize: 37, concurrency: 3 }));
    expect(await dump(t.db)).toEqual(first);

    await initWorkload(t.db, options({ seed: 2 }));
    const otherSeed = await dump(t.db);
    for (const table of ['users', 'vehicles', 'rides', 'vehicle_location_histories', 'promo_codes', 'user_credentials']) {
      expect(otherSeed[table], table).not.toBe(first[table]);
    }
    await initWorkload(t.db, options({ baseTime: new Date(BASE_TIME.getTime() + 3_600_000) }));
    expect((await dump(t.db)).rides).not.toBe(first.rides);
  });

  it('refuses to overwrite MovR data without drop, and replaces it with drop', async () => {
    await initWorkload(t.db, options());
    const before = await dump(t.db);
    const attempt = initWorkload(t.db, options({ drop: false, seed: 3 }));
    await expect(attempt).rejects.toBeInstanceOf(MovrDataExistsError);
    await expect(initWorkload(t.db, options({ drop: false }))).rejects.toThrow(/--drop/);
    expect(await dump(t.db)).toEqual(before);

    await initWorkload(t.db, options({ drop: true, numUsers: 20, numRides: 30, numHistories: 40 }));
    const counts = await tableCounts(t.db);
    expect(counts.users).toBe(23);
    expect(counts.rides).toBe(30);
    expect(counts.vehicle_location_histories).toBe(40);
    await expectConsistent(t.db);
  });

  it('loads into empty tables without drop', async () => {
    for (const table of TABLE_NAMES_CHILDREN_FIRST) await t.db.execute(`DELETE FROM ${table}`);
    const result = await initWorkload(t.db, options({ drop: false, numPromoCodes: 10 }));
    expect(result.rows.promo_codes).toBe(10);
    expect((await tableCounts(t.db)).rides).toBe(500);
  });

  it('handles no rides: every vehicle is available or lost', async () => {
    const result = await initWorkload(t.db, options({ numRides: 0, numHistories: 0 }));
    expect(result.rows.rides).toBe(0);
    expect(await count(t.db, `SELECT count(*) AS n FROM vehicles WHERE status = 'in_use'`)).toBe(0);
    await expectConsistent(t.db);
  });

  it('handles cities without users: no owners, no rides there', async () => {
    // 3 users land in new york, san francisco and amsterdam (rows i*9/3 = 0, 3, 6).
    const result = await initWorkload(t.db, options({ numUsers: 3, numVehicles: 30, numRides: 50, numHistories: 120 }));
    expect(result.rows.rides).toBe(50);
    await expectConsistent(t.db);
    const rideCities = await t.db.execute('SELECT DISTINCT city FROM rides ORDER BY city');
    expect(rideCities.map((r) => r.city)).toEqual(['amsterdam', 'new york', 'san francisco']);
    const owners = await t.db.execute(
      'SELECT city, count(owner_id) AS owned, count(*) AS total FROM vehicles GROUP BY city ORDER BY city',
    );
    for (const row of owners) {
      const hasUsers = ['new york', 'san francisco', 'amsterdam'].includes(String(row.city));
      expect(Number(row.owned)).toBe(hasUsers ? Number(row.total) : 0);
    }
    // Each of those cities has one user: at most one open ride per city.
    expect(await count(t.db, 'SELECT count(*) AS n FROM rides WHERE end_time IS NULL')).toBeLessThanOrEqual(3);
    expect(await count(t.db, `SELECT count(*) AS n FROM vehicles WHERE status = 'in_use'`)).toBe(
      await count(t.db, 'SELECT count(*) AS n FROM rides WHERE end_time IS NULL'),
    );
  });

  it('rejects impossible options before touching the data', async () => {
    await initWorkload(t.db, options());
    const before = await dump(t.db);
    await expect(initWorkload(t.db, options({ numRides: 0 }))).rejects.toThrow(/location histories without rides/);
    await expect(initWorkload(t.db, options({ numUsers: 0, numHistories: 0 }))).rejects.toThrow(
      /no city has both users and vehicles/,
    );
    await expect(initWorkload(t.db, options({ batchSize: 0 }))).rejects.toThrow(/batchSize/);
    expect(await dump(t.db)).toEqual(before);
  });
});

describe('terminalProgress', () => {
  function fakeStream(isTTY: boolean) {
    const output: string[] = [];
    const stream = { isTTY, write: (chunk: string) => output.push(chunk) } as unknown as NodeJS.WriteStream;
    return { stream, output };
  }

  it('prints one line per finished table when not on a terminal', () => {
    const { stream, output } = fakeStream(false);
    const progress = terminalProgress(stream);
    progress.update('users', 5000, 10000);
    progress.update('users', 10000, 10000);
    progress.update('rides', 0, 0);
    progress.finish();
    expect(output).toHaveLength(2);
    expect(output[0]).toMatch(/^users .*100%.*10,000\/10,000.*\n$/);
    expect(output[1]).toMatch(/^rides .*0\/0/);
  });

  it('redraws a bar in place on a terminal, at most about ten times a second', () => {
    const { stream, output } = fakeStream(true);
    const progress = terminalProgress(stream);
    for (let done = 1; done <= 1000; done++) progress.update('rides', done, 1000);
    progress.update('vehicle_location_histories', 10, 20);
    progress.finish();
    const text = output.join('');
    expect(output.length).toBeLessThan(20);
    expect(text).toContain('\rrides');
    expect(text).toMatch(/\[#{24}\] 100%/);
    expect(text).toContain('1,000/1,000');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.match(/\n/g)).toHaveLength(2);
  });
});
