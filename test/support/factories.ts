// The one set of test data makers: users, vehicles, rides, promo codes, through the domain where
// it has a function and as rows where it has none (users without credentials, vehicles of a
// chosen status, promo codes).
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/db/connect.ts';
import { type PromoRules, promoCodes, users, vehicles } from '../../src/db/schema.ts';
import { type Ride, startRide } from '../../src/movr/rides.ts';
import { type User, type UserRef, signUp } from '../../src/movr/users.ts';
import { DEFAULT_REGION_MAP } from '../../src/region-map.ts';

/** A password signUp accepts. */
export const TEST_PASSWORD = 'Tr0mbone-Lantern-42';
/** Luhn-valid test card numbers. */
export const VISA = '4111 1111 1111 1111';
export const MASTERCARD = '5555-5555-5555-4444';
/** Fails the Luhn check (last digit changed). */
export const BAD_LUHN = '4111 1111 1111 1112';

/** What the domain functions that need the cities get in tests: the default region map. */
export const TEST_CITIES = Object.freeze({ regions: DEFAULT_REGION_MAP });

let counter = 0;

/** A unique, valid username. */
export function uniqueUsername(prefix = 'user'): string {
  counter++;
  return `${prefix}${counter}${Math.random().toString(36).slice(2, 7)}`;
}

export interface UserOverrides {
  username?: string;
  name?: string;
  city?: string;
  address?: string | null;
  cardNumber?: string | null;
}

/** A user signed up through the domain with TEST_PASSWORD (argon2: tens of milliseconds). */
export async function createUser(db: Database, overrides: UserOverrides = {}): Promise<User> {
  return signUp(
    db,
    {
      username: overrides.username ?? uniqueUsername(),
      password: TEST_PASSWORD,
      name: overrides.name ?? 'Test Rider',
      city: overrides.city ?? 'new york',
      address: overrides.address === undefined ? '1 Main Street' : overrides.address,
      cardNumber: overrides.cardNumber === undefined ? null : overrides.cardNumber,
    },
    TEST_CITIES,
  );
}

/** Several users at once (argon2 hashing runs in parallel on the thread pool). */
export async function createUsers(db: Database, count: number, city = 'new york'): Promise<User[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => createUser(db, { city, name: `Rider ${i + 1}` })));
}

export interface UserRowOverrides {
  id?: string;
  city?: string;
  name?: string | null;
  address?: string | null;
  creditCard?: string | null;
}

/**
 * A bare users row (no address or card unless given), without credentials, so it cannot log
 * in: quicker than createUser, for tests that need many riders or owners. Returns its reference.
 */
export async function createUserRow(db: Database, overrides: UserRowOverrides = {}): Promise<UserRef> {
  const ref = { id: overrides.id ?? randomUUID(), city: overrides.city ?? 'new york' };
  await db.orm.insert(users).values({
    ...ref,
    name: overrides.name === undefined ? 'Test Rider' : overrides.name,
    address: overrides.address ?? null,
    creditCard: overrides.creditCard ?? null,
  });
  return ref;
}

export interface VehicleOverrides {
  id?: string;
  city?: string;
  status?: string | null;
  ownerId?: string | null;
  type?: string | null;
  location?: string | null;
  /** The ext column's colour and brand (ignored when `ext` is given). */
  color?: string;
  brand?: string;
  ext?: Record<string, unknown> | null;
  creationTime?: Date | null;
  /** Where it is parked; none by default. */
  lat?: number | null;
  long?: number | null;
}

/** A vehicle row (any status, any owner); returns its id. */
export async function createVehicle(db: Database, overrides: VehicleOverrides = {}): Promise<string> {
  const row = vehicleRow(overrides.id ?? randomUUID(), overrides);
  await db.orm.insert(vehicles).values(row);
  return row.id;
}

/**
 * The row createVehicle inserts: by default an available red scooter in new york at
 * 10 Park Avenue, without owner, created now.
 */
export function vehicleRow(id: string, overrides: VehicleOverrides = {}): typeof vehicles.$inferInsert & { id: string } {
  const ext = { color: overrides.color ?? 'red', ...(overrides.brand === undefined ? {} : { brand: overrides.brand }) };
  return {
    id,
    city: overrides.city ?? 'new york',
    type: overrides.type === undefined ? 'scooter' : overrides.type,
    ownerId: overrides.ownerId ?? null,
    status: overrides.status === undefined ? 'available' : overrides.status,
    creationTime: overrides.creationTime === undefined ? new Date() : overrides.creationTime,
    currentLocation: overrides.location === undefined ? '10 Park Avenue' : overrides.location,
    ext: overrides.ext === undefined ? ext : overrides.ext,
    lat: overrides.lat ?? null,
    long: overrides.long ?? null,
  };
}

/**
 * An open ride of the rider (through startRide) on a new available vehicle, in the rider's
 * city unless `vehicle` says otherwise. The ride's vehicleId is that vehicle.
 */
export async function createRide(
  db: Database,
  rider: UserRef,
  options: { now?: Date; vehicle?: Omit<VehicleOverrides, 'status'> } = {},
): Promise<Ride> {
  const city = options.vehicle?.city ?? rider.city;
  const vehicleId = await createVehicle(db, { ...options.vehicle, city });
  return startRide(db, rider, { city, id: vehicleId }, options.now === undefined ? {} : { now: options.now });
}

export interface PromoCodeOverrides {
  percent?: string;
  rules?: PromoRules | null;
  creationTime?: Date | null;
  expirationTime?: Date | null;
  description?: string;
}

/** A promo code row (the domain's createPromoCode only makes percent codes valid from now). */
export async function insertPromoCode(db: Database, code: string, options: PromoCodeOverrides = {}): Promise<void> {
  await db.orm.insert(promoCodes).values({
    code,
    description: options.description ?? `${code} description`,
    creationTime: options.creationTime === undefined ? new Date('2020-01-01T00:00:00Z') : options.creationTime,
    expirationTime: options.expirationTime === undefined ? null : options.expirationTime,
    rules: options.rules === undefined ? { type: 'percent_discount', value: options.percent ?? '10%' } : options.rules,
  });
}
