// Reading and changing vehicles.
import { count, isNull, ne, or } from 'drizzle-orm';
import type { Executor } from '../db/connect.ts';
import { vehicles } from '../db/schema.ts';

/** The status of a vehicle taken out of service for good; such vehicles are not offered or counted. */
export const RETIRED = 'retired';

/**
 * How many vehicles each city has, retired ones excluded, in one GROUP BY query. Cities without
 * vehicles are absent from the map (read them as 0).
 */
export async function countVehiclesByCity(db: Executor): Promise<Map<string, number>> {
  const rows = await db
    .select({ city: vehicles.city, vehicles: count() })
    .from(vehicles)
    .where(or(isNull(vehicles.status), ne(vehicles.status, RETIRED)))
    .groupBy(vehicles.city);
  return new Map(rows.map((row) => [row.city, row.vehicles]));
}
