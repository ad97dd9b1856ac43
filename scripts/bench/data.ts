// The bench's own rows in the scratch database: riders, vehicles and API tokens in pairs, with
// deterministic keys so pgbench scripts can name them by number. Pair n has
//   rider   md5('bench-rider-'   || n)::uuid   (users, new york)
//   vehicle md5('bench-vehicle-' || n)::uuid   (vehicles, new york, available, a bench owner's)
//   token   md5('bench-token-'   || n)::uuid   (api_tokens, the row pgbench's token check finds)
// and n = client * 100000 + i: pgbench client c uses pairs c*100000 + 0, 1, 2, … in turn. The
// pairs live in bench_pairs (n, rider, vehicle), a table of the bench's own; MovR never reads it.
import type { Database } from '../../src/db/connect.ts';
import { issueToken } from '../../src/movr/api-tokens.ts';

export const BENCH_CITY = 'new york';
/** pgbench's pair numbers per client: n = client * PAIR_STRIDE + i. */
export const PAIR_STRIDE = 100_000;

export const riderExpression = (n: string) => `md5('bench-rider-' || ${n})::uuid`;
export const vehicleExpression = (n: string) => `md5('bench-vehicle-' || ${n})::uuid`;
export const tokenExpression = (n: string) => `md5('bench-token-' || ${n})::uuid`;

export interface Pair {
  readonly n: number;
  readonly riderId: string;
  readonly vehicleId: string;
}

/** Pair numbers of `clients` clients, `depth` each, interleaved: every client's i = 0 first, then i = 1, … */
export function pairNumbers(clients: number, from: number, to: number): number[] {
  const numbers: number[] = [];
  for (let i = from; i < to; i++) for (let c = 0; c < clients; c++) numbers.push(c * PAIR_STRIDE + i);
  return numbers;
}

/**
 * Makes the planner's view of the scratch database the same in every run: autovacuum off for its
 * tables (it would analyze them at moments of its own choosing, and plans would change between
 * runs), and the tables the data set filled analyzed once. Empty tables stay unanalyzed, as in
 * a fresh database: the planner assumes a few pages and uses their indexes.
 */
export async function settleStatistics(db: Database): Promise<string[]> {
  const tables = await db.execute(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
  );
  const filled: string[] = [];
  for (const table of tables) {
    const name = String(table.name).replace(/"/g, '""');
    await db.execute(`ALTER TABLE "${name}" SET (autovacuum_enabled = false)`);
    const [row] = await db.execute(`SELECT EXISTS (SELECT 1 FROM "${name}") AS filled`);
    if (row?.filled) filled.push(`"${name}"`);
  }
  if (filled.length > 0) await db.execute(`ANALYZE ${filled.join(', ')}`);
  return filled;
}

export class BenchPairs {
  /** Pairs made so far per client (i < depth exist for every client < clients). */
  depth = 0;
  private readonly tokens = new Map<number, string>();

  constructor(
    private readonly db: Database,
    readonly clients: number,
    private readonly tokenKey: Buffer,
  ) {}

  /** The bench owner (of every bench vehicle) and the pairs table. */
  async prepare(): Promise<void> {
    await this.db.execute(
      `CREATE TABLE IF NOT EXISTS bench_pairs (n bigint PRIMARY KEY, rider uuid NOT NULL, vehicle uuid NOT NULL)`,
    );
    await this.db.execute(
      `INSERT INTO users (id, city, name, address) VALUES (md5('bench-owner')::uuid, $1, 'Bench Owner', '1 Bench Street')
       ON CONFLICT DO NOTHING`,
      [BENCH_CITY],
    );
  }

  /** Makes pairs until every client has `depth` of them (plus any extra numbers given). */
  async ensure(wantedDepth: number, extra: number[] = []): Promise<void> {
    // A client's numbers stay below the next client's (and the capture pair, PAIR_STRIDE - 1).
    const depth = Math.min(wantedDepth, PAIR_STRIDE - 1);
    const numbers = [...pairNumbers(this.clients, this.depth, Math.max(depth, this.depth)), ...extra];
    if (numbers.length === 0) return;
    await this.db.execute(
      `INSERT INTO bench_pairs (n, rider, vehicle)
       SELECT n, ${riderExpression('n')}, ${vehicleExpression('n')} FROM unnest($1::bigint[]) AS n ON CONFLICT DO NOTHING`,
      [numbers],
    );
    const now = `(now() AT TIME ZONE 'utc')`;
    const these = `FROM bench_pairs p WHERE p.n = ANY($2::bigint[])`;
    await this.db.execute(
      `INSERT INTO users (id, city, name, address) SELECT p.rider, $1, 'Bench Rider ' || p.n, p.n || ' Bench Street' ${these}
       ON CONFLICT DO NOTHING`,
      [BENCH_CITY, numbers],
    );
    await this.db.execute(
      `INSERT INTO vehicles (id, city, type, owner_id, creation_time, status, current_location, ext)
       SELECT p.vehicle, $1, 'scooter', md5('bench-owner')::uuid, ${now}, 'available', p.n || ' Bench Street', '{"color":"black"}'::jsonb ${these}
       ON CONFLICT DO NOTHING`,
      [BENCH_CITY, numbers],
    );
    await this.db.execute(
      `INSERT INTO api_tokens (city, user_id, id, created_at, expires_at)
       SELECT $1, p.rider, ${tokenExpression('p.n')}, ${now}, ${now} + interval '1 day' ${these}
       ON CONFLICT DO NOTHING`,
      [BENCH_CITY, numbers],
    );
    this.depth = Math.max(depth, this.depth);
    await this.db.execute('ANALYZE users, vehicles, api_tokens');
  }

  async pair(n: number): Promise<Pair> {
    const [row] = await this.db.execute('SELECT rider, vehicle FROM bench_pairs WHERE n = $1', [n]);
    if (!row) throw new Error(`bench pair ${n} does not exist`);
    return { n, riderId: String(row.rider), vehicleId: String(row.vehicle) };
  }

  /**
   * Bearer tokens for these pairs, issued by MovR's own issueToken with the server's secret
   * (a real token and api_tokens row, as POST /api/v1/auth/login makes, without its argon2 check).
   */
  async tokensFor(numbers: number[], concurrency = 16): Promise<Map<number, string>> {
    const missing = numbers.filter((n) => !this.tokens.has(n));
    if (missing.length > 0) {
      const rows = await this.db.execute('SELECT n, rider FROM bench_pairs WHERE n = ANY($1::bigint[])', [missing]);
      const riders = new Map(rows.map((row) => [Number(row.n), String(row.rider)]));
      let next = 0;
      const worker = async () => {
        while (next < missing.length) {
          const n = missing[next++]!;
          const rider = riders.get(n);
          if (!rider) throw new Error(`bench pair ${n} does not exist`);
          const issued = await issueToken(this.db, { city: BENCH_CITY, id: rider }, this.tokenKey, { lifetimeMs: 12 * 3600_000 });
          this.tokens.set(n, issued.token);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    }
    return new Map(numbers.map((n) => [n, this.tokens.get(n)!]));
  }

  /**
   * Back to the start: every ride of a bench rider (open or ended, with its receipt) deleted and
   * every bench vehicle available at its bench address, then VACUUM ANALYZE of what changed, so
   * that each run starts from the same tables.
   */
  async reset(): Promise<void> {
    await this.db.execute(
      `DELETE FROM ride_receipts r USING rides d, bench_pairs p
       WHERE r.city = d.city AND r.ride_id = d.id AND d.city = $1 AND d.rider_id = p.rider`,
      [BENCH_CITY],
    );
    await this.db.execute(
      `DELETE FROM vehicle_location_histories h USING rides d, bench_pairs p
       WHERE h.city = d.city AND h.ride_id = d.id AND d.city = $1 AND d.rider_id = p.rider`,
      [BENCH_CITY],
    );
    await this.db.execute(`DELETE FROM rides d USING bench_pairs p WHERE d.city = $1 AND d.rider_id = p.rider`, [BENCH_CITY]);
    await this.db.execute(
      `UPDATE vehicles v SET status = 'available', current_location = p.n || ' Bench Street' FROM bench_pairs p
       WHERE v.city = $1 AND v.id = p.vehicle AND (v.status IS DISTINCT FROM 'available' OR v.current_location IS DISTINCT FROM p.n || ' Bench Street')`,
      [BENCH_CITY],
    );
    // Dead rows of the tables with data go; their statistics stay what they were. ride_receipts
    // is left alone: vacuumed empty, it would be known to be empty and read by a sequential scan,
    // whose relation-wide SIREAD lock makes every SERIALIZABLE ride conflict with every other.
    await this.db.execute('VACUUM rides, vehicles');
  }
}
