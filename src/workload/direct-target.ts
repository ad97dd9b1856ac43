// The direct target of `movr workload run`: MovR's transactions run in this process against the
// database, through the same domain functions and transaction runner as the web server.
//
// Riders (and the users of add_user) are created with createUser: users without log-in
// credentials, one short INSERT each, as the CockroachDB workload adds users; signing up would
// spend most of the run hashing passwords. The hot read is the statement of
// prepareCityVehiclesRead, sent through lean-read.ts on PostgreSQL and CockroachDB. The other
// reads pick random rows the way the CockroachDB workload does, from a random key with a
// wrap-around: the first row after a random UUID (or code), else the first row.
import type { Database } from '../db/connect.ts';
import type { RegionMap } from '../region-map.ts';
import { DEFAULT_PRICE_LISTS, type PriceLists } from '../movr/pricing.ts';
import { addPromoCode, createPromoCode, listActivePromoCodes } from '../movr/promo-codes.ts';
import { endRide, recordLocation, startRide } from '../movr/rides.ts';
import { createUser } from '../movr/users.ts';
import { type CityVehiclesRead, addVehicle, listVehicles, prepareCityVehiclesRead } from '../movr/vehicles.ts';
import { leanCountingRead } from './lean-read.ts';
import type { WriteOperation } from './mix.ts';
import type { RowRandom } from './random.ts';
import type { RetryCounts } from './stats.ts';
import {
  type RideHandle,
  type Rider,
  type WorkloadTarget,
  WorkloadConflict,
  personName,
  pointIn,
  promoCodeValues,
  randomCodeCursor,
  streetAddress,
  vehicleValues,
} from './target.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export class DirectTarget implements WorkloadTarget {
  readonly description: string;
  readonly unsupported = new Map<WriteOperation, string>();
  private readonly read: (city: string) => Promise<number>;
  private readonly statement: string;
  private readonly priceLists: PriceLists;
  private readonly regions: RegionMap;
  private retryBaseline: Record<string, number> = {};

  constructor(
    private readonly db: Database,
    options: { regions: RegionMap; priceLists?: PriceLists },
  ) {
    this.description = `${db.displayUrl} (${db.kind})`;
    const domainRead: CityVehiclesRead = prepareCityVehiclesRead(db.orm);
    this.statement = domainRead.sql;
    this.read = leanCountingRead(db, domainRead.sql) ?? domainRead;
    this.priceLists = options.priceLists ?? DEFAULT_PRICE_LISTS;
    this.regions = options.regions;
  }

  /** The statement of the hot read, with $1 for the city. */
  get readSql(): string {
    return this.statement;
  }

  async createRider(city: string, _label: string, rng: RowRandom): Promise<Rider> {
    const user = await createUser(this.db, { name: personName(rng), city, address: streetAddress(rng) }, { regions: this.regions });
    return { city: user.city, id: user.id, openRide: null, openedAt: 0, rideInDoubt: false };
  }

  async readVehicles(city: string): Promise<void> {
    await this.read(city);
  }

  async createPromoCode(rng: RowRandom): Promise<void> {
    const label = `${Date.now().toString(36)}${rng.int(2 ** 31).toString(36)}`;
    const values = promoCodeValues(rng, label);
    const now = new Date();
    await createPromoCode(
      this.db,
      {
        code: values.code,
        description: values.description,
        percentOff: values.percentOff,
        expiresAt: new Date(now.getTime() + values.validDays * DAY_MS),
      },
      { now },
    );
  }

  async applyPromoCode(rider: Rider, rng: RowRandom): Promise<boolean> {
    let page = await listActivePromoCodes(this.db, { limit: 1, cursor: randomCodeCursor(rng) });
    if (page.items.length === 0) page = await listActivePromoCodes(this.db, { limit: 1 });
    const promo = page.items[0];
    if (!promo) return false;
    await addPromoCode(this.db, rider, promo.code);
    return true;
  }

  async addUser(city: string, _label: string, rng: RowRandom): Promise<void> {
    await createUser(this.db, { name: personName(rng), city, address: streetAddress(rng) }, { regions: this.regions });
  }

  async addVehicle(owner: Rider, rng: RowRandom): Promise<void> {
    await addVehicle(this.db, owner, { ...vehicleValues(rng), position: pointIn(this.regions, owner.city, rng) }, { regions: this.regions });
  }

  async startRide(rider: Rider, rng: RowRandom): Promise<RideHandle> {
    const filter = { city: rider.city, status: 'available', limit: 1 };
    let page = await listVehicles(this.db, { ...filter, cursor: rng.uuid() });
    if (page.items.length === 0) page = await listVehicles(this.db, filter);
    const vehicle = page.items[0];
    if (!vehicle) throw new WorkloadConflict('no_vehicle_available', `no vehicle is available in ${rider.city}`);
    const ride = await startRide(this.db, rider, { city: vehicle.city, id: vehicle.id });
    return { city: ride.city, id: ride.id };
  }

  async recordLocation(rider: Rider, ride: RideHandle, rng: RowRandom): Promise<void> {
    await recordLocation(this.db, rider, ride, pointIn(this.regions, ride.city, rng));
  }

  async endRide(rider: Rider, ride: RideHandle, rng: RowRandom): Promise<void> {
    await endRide(this.db, rider, ride, streetAddress(rng), { priceList: this.priceLists[this.regions.currencyOf(ride.city)] });
  }

  markRetries(): void {
    this.retryBaseline = retriesByTransaction(this.db);
  }

  retries(): RetryCounts {
    const byTransaction: Record<string, number> = {};
    let total = 0;
    for (const [name, retries] of Object.entries(retriesByTransaction(this.db))) {
      const since = retries - (this.retryBaseline[name] ?? 0);
      if (since > 0) {
        byTransaction[name] = since;
        total += since;
      }
    }
    return { total, byTransaction };
  }

  async close(): Promise<void> {
    // The database belongs to the caller.
  }
}

function retriesByTransaction(db: Database): Record<string, number> {
  return Object.fromEntries(Object.entries(db.transactionStats.snapshot()).map(([name, counts]) => [name, counts.retries]));
}
