// The MovR data set, row by row: pure functions of (options, table, row index).
//
// Shape of the data (defaults and value ranges follow `cockroach workload init movr`):
// - users, vehicles and promo codes are spread over the cities of the region map (by default
//   the 9 cities of the workload) in contiguous blocks: row i of n belongs to city
//   floor(i * cities / n), so the users of a city are a range of indices and "the k-th user of a
//   city" is found in O(1). A generator keeps the map that was active when it was created.
// - Unlike the workload's data, rides are consistent with vehicle status. Each vehicle draws a
//   status (available 40%, in_use 55%, lost 5%); in each city the k-th in_use vehicle gets an open
//   ride by the k-th user of that city. When the city has no k-th user, or there would be more
//   open rides than rides to generate, the vehicle is made available instead. So a vehicle is
//   in_use exactly when it has one open ride, and no rider has two.
// - Open rides come first in the ride sequence (grouped by city, in vehicle order), then the
//   closed rides, spread in contiguous blocks over the cities that have both users and vehicles.
//   A closed ride picks a random rider and a random vehicle of its city; closed rides of one
//   vehicle or one rider may overlap in time (the data set is a load, not a simulation).
// - Location history k belongs to ride k mod numRides and is point number floor(k / numRides) of
//   that ride; the points of a ride are spaced evenly strictly inside its time span (an open
//   ride's span ends at the base time), so (city, ride_id, timestamp) is unique by construction.
//
// The planning state is one status byte per vehicle and the list of vehicles with an open ride
// (an Int32Array): a million rides need no more memory than a few vehicles' worth of bytes.
import { BIKE_BRANDS, type VehicleColor, type VehicleStatus as AnyVehicleStatus, type VehicleType } from '../movr/rules.ts';
import { maskCardNumber } from '../movr/users.ts';
import { type City, METRES_PER_DEGREE, type RegionMap, cityCentre, metresPerDegreeLong } from '../region-map.ts';
import { RowRandom, hashString } from './random.ts';
import {
  FIRST_NAMES,
  LAST_NAMES,
  PROMO_ADJECTIVES,
  PROMO_NOUNS,
  PROMO_PHRASES,
  STREET_NAMES,
  STREET_SUFFIXES,
} from './words.ts';

export interface GenerateOptions {
  /** The cities rows are spread over. */
  regions: RegionMap;
  seed: number;
  numUsers: number;
  numVehicles: number;
  numRides: number;
  numHistories: number;
  numPromoCodes: number;
  /** Generated timestamps are relative to this instant. */
  baseTime: Date;
  /** The first this many vehicles of every city are available, whatever their draw (the demo: 5). */
  minAvailablePerCity?: number;
  /** Ended rides, with a route and a receipt, per demo account (the demo: 3). */
  demoRidesPerAccount?: number;
}

export interface UserRow {
  id: string;
  city: string;
  name: string;
  address: string;
  /** Masked: only the last four digits are ever stored. */
  creditCard: string;
}

export type VehicleStatus = Extract<AnyVehicleStatus, 'available' | 'in_use' | 'lost'>;

/**
 * The types and colours of MovR's rules in the order `cockroach workload init movr` draws them
 * (the colours are the workload's five): the default data set stays what it has always been.
 */
export const DRAWN_TYPES = ['skateboard', 'bike', 'scooter'] as const satisfies readonly VehicleType[];
export const DRAWN_COLORS = ['red', 'yellow', 'blue', 'green', 'black'] as const satisfies readonly VehicleColor[];

export interface VehicleRow {
  id: string;
  city: string;
  type: VehicleType;
  ownerId: string | null;
  /** Milliseconds since the epoch (UTC). */
  creationTime: number;
  status: VehicleStatus;
  currentLocation: string;
  /** The ext JSONB value as JSON text: {"color": …} plus "brand" for bikes. */
  extJson: string;
  /** Where it is parked: within VEHICLE_SPREAD_M of the city's centre. */
  lat: number;
  long: number;
}

/** How far from their city's centre generated vehicles are parked, at most, in metres. */
export const VEHICLE_SPREAD_M = 3_000;

/** A point at a distance of up to `radius` metres from a centre, uniform over the disc, drawn from rng. */
export function pointAround(rng: RowRandom, centre: { lat: number; long: number }, radius: number): { lat: number; long: number } {
  const distance = radius * Math.sqrt(rng.float());
  const angle = rng.float() * 2 * Math.PI;
  return {
    lat: round6(centre.lat + (distance * Math.sin(angle)) / METRES_PER_DEGREE),
    long: round6(centre.long + (distance * Math.cos(angle)) / metresPerDegreeLong(centre.lat)),
  };
}

export interface RideRow {
  id: string;
  city: string;
  vehicleCity: string;
  riderId: string;
  vehicleId: string;
  startAddress: string;
  /** null while the ride is open. */
  endAddress: string | null;
  /** Milliseconds since the epoch (UTC). */
  startTime: number;
  endTime: number | null;
  /** DECIMAL(10,2) as text, null while the ride is open. */
  revenue: string | null;
}

export interface HistoryRow {
  city: string;
  rideId: string;
  /** Microseconds since the epoch (UTC): points are spaced finer than a millisecond if need be. */
  timestampMicros: number;
  lat: number;
  long: number;
}

export interface PromoCodeRow {
  code: string;
  description: string;
  creationTime: number;
  expirationTime: number;
  /** {"type": "percent_discount", "value": "<n>%"} as JSON text. */
  rulesJson: string;
}

/** The demo log-ins created on top of the generated users, one per region of the default map. */
export const DEMO_ACCOUNTS = [
  { username: 'demo-newyork', city: 'new york' },
  { username: 'demo-sanfrancisco', city: 'san francisco' },
  { username: 'demo-paris', city: 'paris' },
] as const;

export interface DemoAccountSpec {
  readonly username: string;
  readonly city: string;
}

/**
 * One demo log-in per region of a map: DEMO_ACCOUNTS for the regions that have their city,
 * and `demo-<first city>` in the other regions (e.g. demo-chicago for us-central1).
 */
export function demoAccounts(cities: readonly City[]): readonly DemoAccountSpec[] {
  const accounts: DemoAccountSpec[] = [];
  const regions = [...new Set(cities.map((city) => city.region))];
  for (const region of regions) {
    const inRegion = cities.filter((city) => city.region === region);
    const known = DEMO_ACCOUNTS.find((account) => inRegion.some((city) => city.name === account.city));
    const first = inRegion[0] as City;
    accounts.push(known ?? { username: `demo-${first.name.toLowerCase().replace(/[^a-z0-9]+/g, '')}`, city: first.name });
  }
  return accounts;
}

export interface DemoUserRow extends UserRow {
  username: string;
}

/** An ended ride of a demo account, with its route (see MovrGenerator.demoRide). */
export interface DemoRide {
  id: string;
  city: string;
  riderId: string;
  vehicleId: string;
  vehicleType: VehicleType;
  startAddress: string;
  endAddress: string;
  startTime: number;
  endTime: number;
  points: { timestampMicros: number; lat: number; long: number }[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const KEY_USERS = hashString('users');
const KEY_VEHICLES = hashString('vehicles');
const KEY_RIDES = hashString('rides');
const KEY_HISTORIES = hashString('vehicle_location_histories');
const KEY_PROMO_CODES = hashString('promo_codes');
const KEY_DEMO_USERS = hashString('demo_users');
const KEY_DEMO_PASSWORDS = hashString('demo_passwords');
const KEY_DEMO_RIDES = hashString('demo_rides');

const STATUS_AVAILABLE = 0;
const STATUS_IN_USE = 1;
const STATUS_LOST = 2;
const STATUS_NAMES: readonly VehicleStatus[] = ['available', 'in_use', 'lost'];

/** The city (index into the map's cities) that row i of n belongs to: contiguous blocks. */
export function cityIndexOf(index: number, count: number, cityCount: number): number {
  return Math.floor((index * cityCount) / count);
}

/** The first row index of city c's block when n rows are spread over the cities. */
export function cityBlockStart(cityIndex: number, count: number, cityCount: number): number {
  // i is in city c or later ⇔ floor(i*9/n) ≥ c ⇔ i ≥ c*n/9 (for 9 cities).
  return Math.ceil((cityIndex * count) / cityCount);
}

export function cityBlockSize(cityIndex: number, count: number, cityCount: number): number {
  return cityBlockStart(cityIndex + 1, count, cityCount) - cityBlockStart(cityIndex, count, cityCount);
}

function nonNegativeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
}

export class MovrGenerator {
  readonly options: Readonly<GenerateOptions>;
  /** How many rides are open (rides 0..openRides-1); each belongs to one in_use vehicle. */
  readonly openRides: number;
  /** The cities rows are spread over: the map's, region by region. */
  readonly cities: readonly City[];
  /** The demo log-ins, one per region of those cities. */
  readonly demoAccounts: readonly DemoAccountSpec[];
  /** Cities (indices into `cities`) that have both users and vehicles: where closed rides go. */
  readonly rideCities: readonly number[];

  private readonly base: number;
  private readonly status: Uint8Array;
  /** Vehicle index of open ride r. */
  private readonly openRideVehicles: Int32Array;
  /** First open ride of each city (cities.length + 1 entries). */
  private readonly openRideCityStart: Int32Array;
  private readonly closedRides: number;
  private readonly pointsPerRide: number;
  private readonly ridesWithExtraPoint: number;

  private readonly rng: RowRandom;
  /** A second stream for looking up referenced rows (ids of users, vehicles, rides). */
  private readonly aux: RowRandom;
  // Results of rideCore, kept in fields so that the per-history path allocates nothing.
  private coreId = '';
  private coreCity = 0;
  private coreStart = 0;
  private coreEnd = 0;

  constructor(options: GenerateOptions) {
    for (const name of ['numUsers', 'numVehicles', 'numRides', 'numHistories', 'numPromoCodes'] as const) {
      nonNegativeInteger(name, options[name]);
    }
    const base = options.baseTime.getTime();
    if (!Number.isFinite(base)) throw new RangeError('baseTime is not a valid date');
    if (options.numHistories > 0 && options.numRides === 0) {
      throw new RangeError(
        `Cannot generate ${options.numHistories} location histories without rides: each history belongs to a ride (set numRides > 0 or numHistories = 0)`,
      );
    }
    this.options = Object.freeze({ ...options, baseTime: new Date(base) });
    this.cities = options.regions.cities;
    this.demoAccounts = demoAccounts(this.cities);
    const cityCount = this.cities.length;
    this.base = base;
    this.rng = new RowRandom(options.seed);
    this.aux = new RowRandom(options.seed);

    const { numUsers, numVehicles, numRides, numHistories } = options;
    this.status = new Uint8Array(numVehicles);
    const openVehicles: number[] = [];
    const openCityStart = new Int32Array(cityCount + 1);
    const rideCities: number[] = [];
    for (let c = 0; c < cityCount; c++) {
      openCityStart[c] = openVehicles.length;
      const usersInCity = this.blockSize(c, numUsers);
      const first = this.blockStart(c, numVehicles);
      const end = this.blockStart(c + 1, numVehicles);
      if (usersInCity > 0 && end > first) rideCities.push(c);
      let opened = 0;
      const availableUntil = first + (options.minAvailablePerCity ?? 0);
      for (let j = first; j < end; j++) {
        const drawn = j < availableUntil ? STATUS_AVAILABLE : this.rawStatus(j);
        if (drawn !== STATUS_IN_USE) {
          this.status[j] = drawn;
        } else if (opened < usersInCity && openVehicles.length < numRides) {
          this.status[j] = STATUS_IN_USE;
          openVehicles.push(j);
          opened++;
        } else {
          this.status[j] = STATUS_AVAILABLE;
        }
      }
    }
    openCityStart[cityCount] = openVehicles.length;
    if (numRides > 0 && rideCities.length === 0) {
      throw new RangeError(
        `Cannot generate ${numRides} rides: no city has both users and vehicles (${numUsers} users and ${numVehicles} vehicles are spread over ${cityCount} cities)`,
      );
    }
    this.openRideVehicles = Int32Array.from(openVehicles);
    this.openRideCityStart = openCityStart;
    this.openRides = openVehicles.length;
    this.closedRides = numRides - this.openRides;
    this.rideCities = Object.freeze(rideCities);
    this.pointsPerRide = numRides > 0 ? Math.floor(numHistories / numRides) : 0;
    this.ridesWithExtraPoint = numRides > 0 ? numHistories % numRides : 0;
    // Points are spaced at least 1 µs apart inside a span of at least one minute.
    if (this.pointsPerRide + 1 >= MINUTE * 1000) {
      throw new RangeError('Too many location histories per ride: keep numHistories / numRides below 60 million');
    }
  }

  private cityAt(index: number): City {
    return this.cities[index] as City;
  }

  private indexOf(index: number, count: number): number {
    return cityIndexOf(index, count, this.cities.length);
  }

  private blockStart(cityIndex: number, count: number): number {
    return cityBlockStart(cityIndex, count, this.cities.length);
  }

  private blockSize(cityIndex: number, count: number): number {
    return cityBlockSize(cityIndex, count, this.cities.length);
  }

  // ---- users -----------------------------------------------------------------------------

  userId(index: number): string {
    return this.aux.reset(KEY_USERS, index).uuid();
  }

  user(index: number): UserRow {
    const rng = this.rng.reset(KEY_USERS, index);
    const id = rng.uuid();
    return {
      id,
      city: this.cityAt(this.indexOf(index, this.options.numUsers)).name,
      name: personName(rng),
      address: streetAddress(rng),
      creditCard: maskCardNumber(rng.digits(16)),
    };
  }

  /** The index of a random regular user of city c drawn from `rng`, or -1 if the city has none. */
  private randomUserOf(rng: RowRandom, cityIndex: number): number {
    const count = this.blockSize(cityIndex, this.options.numUsers);
    return count === 0 ? -1 : this.blockStart(cityIndex, this.options.numUsers) + rng.int(count);
  }

  // ---- vehicles --------------------------------------------------------------------------

  private rawStatus(index: number): number {
    const draw = this.aux.reset(KEY_VEHICLES, index).float();
    return draw < 0.4 ? STATUS_AVAILABLE : draw < 0.95 ? STATUS_IN_USE : STATUS_LOST;
  }

  vehicleId(index: number): string {
    const rng = this.aux.reset(KEY_VEHICLES, index);
    rng.next(); // the status draw
    return rng.uuid();
  }

  vehicle(index: number): VehicleRow {
    const rng = this.rng.reset(KEY_VEHICLES, index);
    rng.next(); // the status draw, already planned in the constructor
    const id = rng.uuid();
    const cityIndex = this.indexOf(index, this.options.numVehicles);
    const type = rng.pick(DRAWN_TYPES);
    const color = rng.pick(DRAWN_COLORS);
    const extJson =
      type === 'bike'
        ? `{"brand": "${rng.pick(BIKE_BRANDS)}", "color": "${color}"}`
        : `{"color": "${color}"}`;
    const owner = this.randomUserOf(rng, cityIndex);
    // Vehicles are older than every ride (rides start at most 30 days before the base time).
    const creationTime = this.base - rng.between(31 * DAY, 730 * DAY);
    const currentLocation = streetAddress(rng);
    // Drawn last, so every other value is what it was before vehicles had positions.
    const { lat, long } = pointAround(rng, cityCentre(this.cityAt(cityIndex)), VEHICLE_SPREAD_M);
    return {
      id,
      city: this.cityAt(cityIndex).name,
      type,
      ownerId: owner < 0 ? null : this.userId(owner),
      creationTime,
      status: STATUS_NAMES[this.status[index] as number] as VehicleStatus,
      currentLocation,
      extJson,
      lat,
      long,
    };
  }

  // ---- rides -----------------------------------------------------------------------------

  /** The city index of ride r. */
  private rideCityIndex(ride: number): number {
    if (ride < this.openRides) {
      return this.indexOf(this.openRideVehicles[ride] as number, this.options.numVehicles);
    }
    const q = ride - this.openRides;
    return this.rideCities[Math.floor((q * this.rideCities.length) / this.closedRides)] as number;
  }

  /**
   * Draws the start of ride r's stream (its time span and id) into the core fields; `end` is the
   * base time for an open ride. Used by ride() and, through the aux stream, by history().
   */
  private rideCore(rng: RowRandom, ride: number): RowRandom {
    rng.reset(KEY_RIDES, ride);
    const cityIndex = this.rideCityIndex(ride);
    let start: number;
    let end: number;
    if (ride < this.openRides) {
      start = this.base - rng.between(MINUTE, 120 * MINUTE);
      end = this.base;
      rng.next(); // keeps the id at the same position in the stream as for closed rides
    } else {
      start = this.base - rng.between(MINUTE, 30 * DAY);
      end = Math.min(start + rng.between(MINUTE, 59 * HOUR), this.base);
    }
    this.coreId = rng.uuid();
    this.coreCity = cityIndex;
    this.coreStart = start;
    this.coreEnd = end;
    return rng;
  }

  ride(index: number): RideRow {
    const rng = this.rideCore(this.rng, index);
    const id = this.coreId;
    const city = this.cityAt(this.coreCity).name;
    const startTime = this.coreStart;
    if (index < this.openRides) {
      const vehicleIndex = this.openRideVehicles[index] as number;
      const cityIndex = this.coreCity;
      const k = index - (this.openRideCityStart[cityIndex] as number);
      const vehicle = this.vehicle(vehicleIndex); // uses this.rng: our own draws are done
      return {
        id,
        city,
        vehicleCity: city,
        riderId: this.userId(this.blockStart(cityIndex, this.options.numUsers) + k),
        vehicleId: vehicle.id,
        startAddress: vehicle.currentLocation,
        endAddress: null,
        startTime,
        endTime: null,
        revenue: null,
      };
    }
    const rider = this.randomUserOf(rng, this.coreCity);
    const vehicleCount = this.blockSize(this.coreCity, this.options.numVehicles);
    const vehicleIndex = this.blockStart(this.coreCity, this.options.numVehicles) + rng.int(vehicleCount);
    const cents = rng.int(10_000);
    const startAddress = streetAddress(rng);
    const endAddress = streetAddress(rng);
    return {
      id,
      city,
      vehicleCity: city,
      riderId: this.userId(rider),
      vehicleId: this.vehicleId(vehicleIndex),
      startAddress,
      endAddress,
      startTime,
      endTime: this.coreEnd,
      revenue: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
    };
  }

  // ---- vehicle location histories --------------------------------------------------------

  history(index: number): HistoryRow {
    const { numRides } = this.options;
    const ride = index % numRides;
    const point = Math.floor(index / numRides);
    const points = this.pointsPerRide + (ride < this.ridesWithExtraPoint ? 1 : 0);
    const rideRng = this.rideCore(this.aux, ride);
    // The ride's path: a start near the city centre and a heading, from the ride's own stream.
    const city = this.cityAt(this.coreCity);
    // Cities without known coordinates get a stand-in centre derived from their name.
    const centre = cityCentre(city);
    const originLat = centre.lat + (rideRng.float() - 0.5) * 0.06;
    const originLong = centre.long + (rideRng.float() - 0.5) * 0.08;
    const heading = rideRng.float() * 2 * Math.PI;
    const rng = this.rng.reset(KEY_HISTORIES, index);
    const step = 0.0004 * (point + 1);
    const spanMicros = (this.coreEnd - this.coreStart) * 1000;
    return {
      city: city.name,
      rideId: this.coreId,
      timestampMicros: this.coreStart * 1000 + Math.floor((spanMicros * (point + 1)) / (points + 1)),
      lat: round6(originLat + step * Math.sin(heading) + (rng.float() - 0.5) * 0.0002),
      long: round6(originLong + step * Math.cos(heading) + (rng.float() - 0.5) * 0.0002),
    };
  }

  // ---- promo codes -----------------------------------------------------------------------

  promoCode(index: number): PromoCodeRow {
    const rng = this.rng.reset(KEY_PROMO_CODES, index);
    const adjective = rng.pick(PROMO_ADJECTIVES);
    const noun = rng.pick(PROMO_NOUNS);
    const percent = 5 * rng.between(1, 6);
    const creationTime = this.base - rng.between(DAY, 365 * DAY);
    // Valid for one week to one year: some codes have expired, some are still valid.
    const expirationTime = creationTime + rng.between(7 * DAY, 365 * DAY);
    return {
      // The index makes codes unique by construction.
      code: `${adjective}_${noun}_${index}`,
      description: `${rng.pick(PROMO_PHRASES)}: ${percent}% off your ride`,
      creationTime,
      expirationTime,
      rulesJson: `{"type": "percent_discount", "value": "${percent}%"}`,
    };
  }

  // ---- demo accounts ---------------------------------------------------------------------

  /**
   * Demo account a's k-th ended ride (k days ago, 6 to 25 minutes long) on one of its city's
   * vehicles, with a route of 6 to 12 points from near the vehicle's position; its receipt is
   * worked out by the caller with the price list of the city's currency.
   */
  demoRide(account: number, k: number): DemoRide {
    const demo = this.demoUser(account);
    const key = account * 1000 + k;
    const cityIndex = this.cities.findIndex((city) => city.name === demo.city);
    const vehicleCount = this.blockSize(cityIndex, this.options.numVehicles);
    if (cityIndex < 0 || vehicleCount === 0) throw new RangeError(`The demo account ${demo.username} has no vehicles in ${demo.city}`);
    const pick = this.aux.reset(KEY_DEMO_RIDES, key).int(vehicleCount);
    const vehicle = this.vehicle(this.blockStart(cityIndex, this.options.numVehicles) + pick); // uses this.rng
    const rng = this.rng.reset(KEY_DEMO_RIDES, key);
    const id = rng.uuid();
    const start = this.base - (k + 1) * DAY + rng.between(0, 12 * HOUR);
    const minutes = rng.between(6, 25);
    const end = start + minutes * MINUTE - rng.between(1, 50) * 1000;
    const count = rng.between(6, 12);
    const heading = rng.float() * 2 * Math.PI;
    const points: DemoRide['points'] = [];
    let { lat, long } = { lat: vehicle.lat, long: vehicle.long };
    for (let i = 0; i < count; i++) {
      const turn = heading + (rng.float() - 0.5) * 1.2;
      lat = round6(lat + 0.0009 * Math.sin(turn));
      long = round6(long + 0.0012 * Math.cos(turn));
      points.push({ timestampMicros: (start + Math.floor(((end - start) * (i + 1)) / (count + 1))) * 1000, lat, long });
    }
    return {
      id,
      city: demo.city,
      riderId: demo.id,
      vehicleId: vehicle.id,
      vehicleType: vehicle.type,
      startAddress: vehicle.currentLocation,
      endAddress: streetAddress(rng),
      startTime: start,
      endTime: end,
      points,
    };
  }

  demoUser(index: number): DemoUserRow {
    const account = this.demoAccounts[index];
    if (!account) throw new RangeError(`There are ${this.demoAccounts.length} demo accounts`);
    const rng = this.rng.reset(KEY_DEMO_USERS, index);
    return {
      id: rng.uuid(),
      city: account.city,
      username: account.username,
      name: personName(rng),
      address: streetAddress(rng),
      creditCard: maskCardNumber(rng.digits(16)),
    };
  }
}

/**
 * The well-known password of demo account i, the same on every load and for every seed
 * (for the embedded demo database), e.g. "movr-demo-sunny-bridge".
 */
export function fixedDemoPassword(index: number): string {
  const rng = new RowRandom(0).reset(KEY_DEMO_PASSWORDS, index);
  return `movr-demo-${rng.pick(PROMO_ADJECTIVES)}-${rng.pick(PROMO_NOUNS)}`;
}

export function personName(rng: RowRandom): string {
  return `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
}

export function streetAddress(rng: RowRandom): string {
  return `${rng.between(1, 9999)} ${rng.pick(STREET_NAMES)} ${rng.pick(STREET_SUFFIXES)}`;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
