// A region-aware instance (MOVR_REGION) checks at start-up that the database serves its region.
import type { RegionName } from '../region-map.ts';
import type { Database } from './connect.ts';
import { quoteIdent } from './regions.ts';

/**
 * On CockroachDB, whether the database has the instance's region (MOVR_REGION) and the
 * connection's node is in it. A warning to log, or undefined when all is well (or when there is
 * nothing to check: no MOVR_REGION, not CockroachDB).
 */
export async function checkInstanceRegion(db: Database, region: RegionName | undefined): Promise<string | undefined> {
  if (region === undefined || db.kind !== 'cockroachdb') return undefined;
  try {
    const database = String((await db.execute('SELECT current_database() AS name'))[0]?.name ?? '');
    const regions = (await db.execute(`SHOW REGIONS FROM DATABASE ${quoteIdent(database)}`)).map((r) => String(r.region));
    if (regions.length === 0) {
      return (
        `MOVR_REGION is ${region}, but the database ${database} has no regions: its rows are not kept near ` +
        'their cities (run "movr db regions --apply")'
      );
    }
    if (!regions.includes(region)) {
      return (
        `MOVR_REGION is ${region}, but the database ${database} has only the regions ${regions.join(', ')}: ` +
        `the cities of ${region} are served from other regions (add it with "movr db regions --apply")`
      );
    }
    const gateway = (await db.execute('SELECT gateway_region() AS region'))[0]?.region;
    if (typeof gateway === 'string' && gateway !== region) {
      return (
        `MOVR_REGION is ${region}, but DATABASE_URL points at a node in ${gateway}: every query crosses ` +
        `regions; point it at a node in ${region}`
      );
    }
    return undefined;
  } catch (error) {
    return `could not check MOVR_REGION ${region} against the database: ${(error as Error).message}`;
  }
}
