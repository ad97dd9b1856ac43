// The server survives its database and its clients (docs/reliability.md): faults of the
// database connection (cut, refused, stalled, a backend terminated), slow and greedy clients,
// and shutdown. Database faults are made by a TCP proxy of the test's own between MovR and the
// PostgreSQL server (test/support/fault-proxy.ts); the server itself is never touched.
import net from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { databaseOptions } from '../../src/config.ts';
import { openDatabase } from '../../src/db/connect.ts';
import { runTransaction } from '../../src/db/transaction.ts';
import { issueToken, tokenSigningKey } from '../../src/movr/api-tokens.ts';
import { checkInvariants } from '../../src/workload/check.ts';
import { type RunningServer, startServer } from '../../src/web/server.ts';
import { TEST_SECRET_KEY, testConfig } from '../support/config.ts';
import { createTestDatabase, postgresAvailable } from '../support/databases.ts';
import { TEST_CITIES, createUser, createVehicle } from '../support/factories.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { RideTraffic } from '../support/ride-traffic.ts';
import { DirectTarget } from '../../src/workload/direct-target.ts';
import { DEFAULT_WRITE_WEIGHTS } from '../../src/workload/mix.ts';
import { DEFAULT_RUN_OPTIONS, runWorkload } from '../../src/workload/run.ts';

const describePostgres = postgresAvailable() ? describe : describe.skip;

/** A log stream that keeps every JSON line. */
function logCollector() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: { level: 'info', stream } };
}

/** A raw HTTP/1.1 exchange on its own socket: what was written back, and when the socket closed. */
function rawSocket(url: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect({ host: hostname, port: Number(port) });
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString()));
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  socket.on('error', () => {});
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, connected, closed, received: () => received };
}

describePostgres('the server and its database [postgres]', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: FaultProxy;
  let server: RunningServer;
  const RIDERS = 8;
  const riders: { city: string; id: string; token: string; vehicleId: string }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const target = new URL(database.url);
    proxy = await FaultProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    const key = tokenSigningKey(TEST_SECRET_KEY);
    for (let i = 0; i < RIDERS; i++) {
      const user = await createUser(database.db, { name: `Rider ${i}` });
      const vehicleId = await createVehicle(database.db, { city: 'new york', location: `${i} Fault Lane` });
      riders.push({ city: user.city, id: user.id, token: (await issueToken(database.db, user, key)).token, vehicleId });
    }
    const config = testConfig({
      DATABASE_URL: proxy.url(database.url),
      SECRET_KEY: TEST_SECRET_KEY,
      HOST: '127.0.0.1',
      PORT: '0',
      MOVR_API_RATE_LIMIT: '0',
      MOVR_PER_ADDRESS_LOGIN_LIMITS: '0',
      MOVR_DB_CONNECT_TIMEOUT_MS: '1000',
      MOVR_DB_STATEMENT_TIMEOUT_MS: '2000',
      DATABASE_POOL_SIZE: '6',
    });
    const db = await openDatabase(config.databaseUrl, databaseOptions(config));
    server = await startServer({ config, db, logger: false, signals: [] });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await database?.destroy();
  });

  afterEach(async () => {
    await proxy.heal();
  });

  async function readyz(): Promise<number> {
    const response = await fetch(`${server.url}/readyz`).catch(() => undefined);
    return response?.status ?? 0;
  }

  it('stays up through cut, refused and stalled connections: only 2xx, 4xx and 503, every acknowledged ride exactly once', async () => {
    const traffic = new RideTraffic(server.url, riders);
    traffic.start();
    await sleep(700);
    proxy.cut();
    await sleep(700);
    // The database goes away: open connections drop, new ones are refused.
    await proxy.refuse();
    proxy.cut();
    let sawUnready = false;
    for (let i = 0; i < 10 && !sawUnready; i++) {
      sawUnready = (await readyz()) === 503;
      await sleep(300);
    }
    // The site says so in a page of its own.
    const page = await fetch(`${server.url}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toBe('2');
    expect(await page.text()).toContain('Back in a moment');
    await sleep(1500);
    await proxy.heal();
    const healed = Date.now();
    while ((await readyz()) !== 200) {
      expect(Date.now() - healed, '/readyz comes back').toBeLessThan(5000);
      await sleep(100);
    }
    await sleep(700);
    proxy.stall();
    await sleep(3000);
    await proxy.heal();
    await sleep(1500);
    await traffic.stop();

    const answers = [...traffic.phases.values()].flatMap((phase) => [...phase.answers]);
    expect(sawUnready, JSON.stringify(answers)).toBe(true);
    expect(traffic.unexpectedAnswers(), JSON.stringify(answers)).toEqual([]);
    expect(answers.some(([answer]) => answer.startsWith('503'))).toBe(true);
    expect(traffic.acknowledged.size).toBeGreaterThan(RIDERS);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    // Every acknowledged ride exists exactly once, and no other ride does.
    const rows = await database.db.execute('SELECT id FROM rides');
    const ids = rows.map((row) => String(row.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(traffic.acknowledged);
    const check = await checkInvariants(database.db);
    expect(check.ok, JSON.stringify(check)).toBe(true);
  }, 120_000);

  it('the direct workload runner rides through cut connections: errors counted, the run completes', async () => {
    const through = await openDatabase(proxy.url(database.url), { poolSize: 8, connectTimeoutMs: 1000, statementTimeoutMs: 2000 });
    try {
      const running = runWorkload(new DirectTarget(through, TEST_CITIES), {
        ...DEFAULT_RUN_OPTIONS,
        durationMs: 3000,
        concurrency: 4,
        cities: ['new york'],
        mix: { readPercent: 50, weights: DEFAULT_WRITE_WEIGHTS },
      });
      for (let i = 0; i < 3; i++) {
        await sleep(700);
        proxy.cut();
      }
      const result = await running;
      expect(result.summary.total.count).toBeGreaterThan(0);
      const kinds = Object.keys(result.summary.total.errorsByKind);
      // A cut before COMMIT leaves the database unavailable for the attempts left; one during it, the outcome unknown.
      const connectionKinds = (kind: string) => kind === 'database_unavailable' || kind === 'ambiguous_commit' || kind.startsWith('connection_');
      expect(kinds.every(connectionKinds), kinds.join(', ')).toBe(true);
    } finally {
      await through.close();
    }
  });

  it('a backend terminated while its transaction is idle costs one retry on a new connection, not the process', async () => {
    const direct = await openDatabase(database.url, { poolSize: 2 });
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      let runs = 0;
      const before = direct.transactionStats.get('terminated').reconnects;
      const value = await runTransaction(direct, 'terminated', async (tx) => {
        runs++;
        await tx.execute('SELECT 1');
        if (runs === 1) {
          const { rows } = await admin.query(
            `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
             WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`,
          );
          expect(rows.length).toBeGreaterThan(0);
          await sleep(100);
        }
        await tx.execute(`INSERT INTO promo_codes (code, description) VALUES ('terminated-once', 'x') ON CONFLICT DO NOTHING`);
        return runs;
      });
      expect(value).toBe(2);
      expect(direct.transactionStats.get('terminated').reconnects).toBe(before + 1);
      expect(await direct.execute(`SELECT count(*)::int AS n FROM promo_codes WHERE code = 'terminated-once'`)).toEqual([{ n: 1 }]);
      // The pool discarded the broken connection: the next statements run on sound ones.
      expect(await direct.execute('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await direct.close();
    }
  });
});

describe('the server and its clients', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  const logs = logCollector();

  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    const config = testConfig({
      DATABASE_URL: database.url,
      HOST: '127.0.0.1',
      PORT: '0',
      MOVR_REQUEST_TIMEOUT_MS: '1500',
      MOVR_HEADERS_TIMEOUT_MS: '1000',
      MOVR_MAX_CONNECTIONS_PER_CLIENT: '20',
    });
    server = await startServer({ config, db: database.db, logger: logs.logger, signals: [] });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await database?.destroy().catch(() => {});
  });

  it('cuts off a client whose body does not arrive within the request timeout, while others are served', async () => {
    const slow = rawSocket(server.url);
    await slow.connected;
    const sent = Date.now();
    slow.socket.write('POST /api/v1/auth/login HTTP/1.1\r\nHost: movr\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{');
    const dribble = setInterval(() => slow.socket.write(' '), 300);
    try {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
        expect(Date.now() - started).toBeLessThan(1000);
        await sleep(200);
      }
      const closedAt = await slow.closed;
      expect(closedAt - sent).toBeLessThan(5000);
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(dribble);
      slow.socket.destroy();
    }
  });

  it('closes the connections one client address opens beyond its allowance', async () => {
    const sockets = Array.from({ length: 30 }, () => rawSocket(server.url));
    try {
      await Promise.all(sockets.map((s) => s.connected));
      await sleep(300);
      const open = sockets.filter((s) => !s.socket.destroyed && s.socket.readyState === 'open').length;
      expect(open).toBeLessThanOrEqual(20);
      expect(open).toBeGreaterThan(0);
    } finally {
      for (const s of sockets) s.socket.destroy();
    }
    await sleep(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('answers a request that arrives while shutting down with 503 shutting_down and Connection: close', async () => {
    // A request half sent when the shutdown begins: its connection is not idle, so it stays.
    const client = rawSocket(server.url);
    await client.connected;
    client.socket.write('GET /api/v1/cities HTTP/1.1\r\nHost: movr\r\n');
    await sleep(100);
    const closing = server.close();
    await sleep(100);
    client.socket.write('Accept: application/json\r\n\r\n');
    await client.closed;
    await closing;
    const response = client.received();
    expect(response).toMatch(/^HTTP\/1\.1 503/);
    expect(response.toLowerCase()).toContain('connection: close');
    expect(response).toContain('"code":"shutting_down"');
  });
});
