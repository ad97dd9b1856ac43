// `movr workload check`: the invariants of MovR's data, one SQL query each.
//
// Every query returns the violating rows, at most EXAMPLES of them, each with an `example` (a
// readable key such as `paris/3f1e…`) and `violations`, the total number of violating rows (a
// window count, so one query gives both). No rows: the invariant holds. The queries use only SQL
// that PostgreSQL, PGlite and CockroachDB all run, read nothing but MovR's six workload tables,
// and create nothing, so they also run on a database made by `cockroach workload init movr`
// (whose random data breaks several of them by design).
import type { Database } from '../db/connect.ts';

export const EXAMPLES = 5;

export interface Invariant {
  /** Stable snake_case name, printed with each violation. */
  readonly name: string;
  /** What must hold. */
  readonly rule: string;
  /** Selects `example` (text) and `violations` (count(*) OVER ()) of violating rows. */
  readonly sql: string;
}

const ride = `r.city || '/' || r.id::text`;
const vehicle = `v.city || '/' || v.id::text`;

/** Vehicles with the number of open rides each, for the vehicle invariants. */
const vehiclesWithOpenRides = `
  SELECT v.city, v.id, v.status, count(r.id) AS open_rides
  FROM vehicles v
  LEFT JOIN rides r ON r.vehicle_city = v.city AND r.vehicle_id = v.id AND r.end_time IS NULL
  GROUP BY v.city, v.id, v.status`;

function invariant(name: string, rule: string, example: string, from: string): Invariant {
  return {
    name,
    rule,
    sql: `SELECT ${example} AS example, count(*) OVER () AS violations ${from} ORDER BY 1 LIMIT ${EXAMPLES}`,
  };
}

export const INVARIANTS: readonly Invariant[] = Object.freeze([
  invariant(
    'vehicle_in_use_without_open_ride',
    "a vehicle whose status is in_use has an open ride",
    vehicle,
    `FROM (${vehiclesWithOpenRides}) v WHERE v.status = 'in_use' AND v.open_rides = 0`,
  ),
  invariant(
    'vehicle_with_open_ride_not_in_use',
    'a vehicle with an open ride is in_use',
    vehicle,
    `FROM (${vehiclesWithOpenRides}) v WHERE v.open_rides > 0 AND (v.status IS NULL OR v.status <> 'in_use')`,
  ),
  invariant(
    'vehicle_with_several_open_rides',
    'a vehicle has at most one open ride',
    `r.vehicle_city || '/' || r.vehicle_id::text`,
    `FROM rides r WHERE r.end_time IS NULL AND r.vehicle_id IS NOT NULL
     GROUP BY r.vehicle_city, r.vehicle_id HAVING count(*) > 1`,
  ),
  invariant(
    'rider_with_several_open_rides',
    'a rider has at most one open ride',
    `r.city || '/' || r.rider_id::text`,
    `FROM rides r WHERE r.end_time IS NULL AND r.rider_id IS NOT NULL
     GROUP BY r.city, r.rider_id HAVING count(*) > 1`,
  ),
  invariant(
    'ride_vehicle_city_differs',
    "a ride's vehicle_city is its city",
    ride,
    `FROM rides r WHERE r.vehicle_city IS NULL OR r.vehicle_city <> r.city`,
  ),
  invariant(
    'ride_without_rider',
    "a ride's rider exists",
    ride,
    `FROM rides r WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.city = r.city AND u.id = r.rider_id)`,
  ),
  invariant(
    'ride_without_vehicle',
    "a ride's vehicle exists",
    ride,
    `FROM rides r WHERE NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.city = r.vehicle_city AND v.id = r.vehicle_id)`,
  ),
  invariant(
    'ride_ends_before_it_starts',
    "a ride's end_time is not before its start_time",
    ride,
    `FROM rides r WHERE r.end_time < r.start_time`,
  ),
  invariant('ride_with_negative_revenue', "a ride's revenue is not negative", ride, `FROM rides r WHERE r.revenue < 0`),
  invariant(
    'ended_ride_without_end_address',
    'an ended ride has an end address',
    ride,
    `FROM rides r WHERE r.end_time IS NOT NULL AND (r.end_address IS NULL OR r.end_address = '')`,
  ),
  invariant(
    'location_without_ride',
    'a location history point belongs to an existing ride',
    `h.city || '/' || h.ride_id::text || '@' || h."timestamp"::text`,
    `FROM vehicle_location_histories h
     WHERE NOT EXISTS (SELECT 1 FROM rides r WHERE r.city = h.city AND r.id = h.ride_id)`,
  ),
  invariant(
    'location_outside_ride',
    "a location history point lies between its ride's start and end",
    `h.city || '/' || h.ride_id::text || '@' || h."timestamp"::text`,
    `FROM vehicle_location_histories h JOIN rides r ON r.city = h.city AND r.id = h.ride_id
     WHERE h."timestamp" < r.start_time OR h."timestamp" > r.end_time`,
  ),
  invariant(
    'applied_promo_code_missing',
    'every applied promo code exists',
    `p.city || '/' || p.user_id::text || '/' || p.code`,
    `FROM user_promo_codes p WHERE NOT EXISTS (SELECT 1 FROM promo_codes c WHERE c.code = p.code)`,
  ),
  invariant(
    'promo_code_negative_usage',
    "an applied promo code's usage_count is not negative",
    `p.city || '/' || p.user_id::text || '/' || p.code`,
    `FROM user_promo_codes p WHERE p.usage_count < 0`,
  ),
]);

export interface InvariantResult {
  readonly name: string;
  readonly rule: string;
  readonly violations: number;
  /** Up to EXAMPLES keys of violating rows, in order. */
  readonly examples: string[];
  /** Set when the query itself failed (e.g. a table is missing): the invariant is not known to hold. */
  readonly error?: string;
}

export interface CheckResult {
  readonly ok: boolean;
  readonly results: InvariantResult[];
  /** The invariants that failed (violated or could not be checked). */
  readonly failed: InvariantResult[];
}

/** Runs every invariant's query, one after the other, and reports each. Never throws for a violation. */
export async function checkInvariants(db: Database, invariants: readonly Invariant[] = INVARIANTS): Promise<CheckResult> {
  const results: InvariantResult[] = [];
  for (const inv of invariants) {
    try {
      const rows = await db.execute(inv.sql);
      results.push({
        name: inv.name,
        rule: inv.rule,
        violations: rows.length === 0 ? 0 : Number(rows[0]?.violations),
        examples: rows.map((row) => String(row.example)),
      });
    } catch (error) {
      results.push({ name: inv.name, rule: inv.rule, violations: 0, examples: [], error: (error as Error).message });
    }
  }
  const failed = results.filter((r) => r.violations > 0 || r.error !== undefined);
  return { ok: failed.length === 0, results, failed };
}

/** The check's report: a line per invariant, with counts and examples of violations. */
export function formatCheck(result: CheckResult): string {
  const lines: string[] = [];
  const width = Math.max(...result.results.map((r) => r.name.length));
  for (const r of result.results) {
    if (r.error !== undefined) lines.push(`  ERROR  ${r.name.padEnd(width)}  could not be checked: ${r.error}`);
    else if (r.violations === 0) lines.push(`  ok     ${r.name.padEnd(width)}  ${r.rule}`);
    else {
      const more = r.violations > r.examples.length ? ', …' : '';
      lines.push(`  FAIL   ${r.name.padEnd(width)}  ${r.violations} violation${r.violations === 1 ? '' : 's'}: ${r.rule}`);
      lines.push(`         ${''.padEnd(width)}  e.g. ${r.examples.join(', ')}${more}`);
    }
  }
  const violations = result.failed.reduce((sum, r) => sum + r.violations, 0);
  lines.push(
    result.ok
      ? `check: all ${result.results.length} invariants hold`
      : `check: ${result.failed.length} of ${result.results.length} invariants fail (${violations} violations)`,
  );
  return lines.join('\n');
}
