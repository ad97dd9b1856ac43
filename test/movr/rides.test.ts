// Rides against the real databases: starting (including riders racing for one vehicle),
// recording locations, ending with a fare and the best promo code, and the rider's history.
import { and, eq } from 'drizzle-orm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rideReceipts, rides, userPromoCodes, vehicleLocationHistories, vehicles } from '../../src/db/schema.ts';
import { ConflictError, NotFoundError, ValidationError } from '../../src/movr/errors.ts';
import { DEFAULT_PRICE_LIST, MAX_CHARGED_MINUTES, priceListWith } from '../../src/movr/pricing.ts';
import { addPromoCode } from '../../src/movr/promo-codes.ts';
import {
  type Ride,
  endRide,
  findOpenRide,
  findOpenRideRef,
  getRide,
  listLocations,
  listRides,
  recordLocation,
  rideCounts,
  startRide,
} from '../../src/movr/rides.ts';
import { type User, deleteAccount } from '../../src/movr/users.ts';
import { type Vehicle, addVehicle, getVehicle } from '../../src/movr/vehicles.ts';
import { INVALID_PAGE_LINK, MAX_POINTS_PER_RIDE } from '../../src/movr/rules.ts';
import { TEST_CITIES, createUser, insertPromoCode } from '../support/factories.ts';
import { countRows, snapshot } from '../support/snapshot.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';
import { expectError, minutes } from './fixtures.ts';

const T0 = new Date('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const CONCURRENT_RIDERS = 8;
const prices = { priceList: DEFAULT_PRICE_LIST };

describeEachDatabase(
  'rides',
  (t) => {
    let owner: User;
    let riders: User[];
    let rider: User;
    let otherRider: User;
    let bostonRider: User;
    let bostonOwner: User;

    beforeAll(async () => {
      [owner, bostonRider, bostonOwner, ...riders] = await Promise.all([
        createUser(t.db, { city: 'new york', name: 'Olive Owner' }),
        createUser(t.db, { city: 'boston', name: 'Bea Boston' }),
        createUser(t.db, { city: 'boston', name: 'Bob Boston' }),
        ...Array.from({ length: CONCURRENT_RIDERS }, (_, i) => createUser(t.db, { city: 'new york', name: `Rider ${i + 1}` })),
      ]);
      rider = riders[0]!;
      otherRider = riders[1]!;
    });

    beforeEach(async () => {
      await emptyTables(t.db, { keep: ['users', 'user_credentials'] });
    });

    function addBike(location = 'Union Square', who: User = owner): Promise<Vehicle> {
      return addVehicle(t.db, who, { type: 'bike', color: 'green', location }, TEST_CITIES);
    }

    async function vehicleRow(vehicle: { city: string; id: string }) {
      const [row] = await t.db.orm
        .select()
        .from(vehicles)
        .where(and(eq(vehicles.city, vehicle.city), eq(vehicles.id, vehicle.id)));
      return row;
    }

    async function rideRow(ride: { city: string; id: string }) {
      const [row] = await t.db.orm
        .select()
        .from(rides)
        .where(and(eq(rides.city, ride.city), eq(rides.id, ride.id)));
      return row;
    }

    async function usageCounts(user: User): Promise<Record<string, number | null>> {
      const rows = await t.db.orm
        .select({ code: userPromoCodes.code, usageCount: userPromoCodes.usageCount })
        .from(userPromoCodes)
        .where(and(eq(userPromoCodes.city, user.city), eq(userPromoCodes.userId, user.id)));
      return Object.fromEntries(rows.map((r) => [r.code, r.usageCount]));
    }

    /** An ended ride: started at `start`, ended `duration` later. */
    async function pastRide(who: User, vehicle: Vehicle, start: Date, duration: number, endAddress = 'Somewhere'): Promise<Ride> {
      const ride = await startRide(t.db, who, vehicle, { now: start });
      return endRide(t.db, who, ride, endAddress, { ...prices, now: new Date(start.getTime() + duration) });
    }

    describe('startRide', () => {
      it('opens a ride from the vehicle’s location and marks the vehicle in use', async () => {
        const vehicle = await addBike('  Union Square  ');
        const ride = await startRide(t.db, rider, vehicle, { now: T0 });
        expect(ride).toEqual({
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          city: 'new york',
          vehicleCity: 'new york',
          vehicleId: vehicle.id,
          riderId: rider.id,
          vehicleType: 'bike',
          startAddress: 'Union Square',
          endAddress: null,
          startTime: T0,
          endTime: null,
          revenueCents: null,
          receipt: null,
        });
        expect(await rideRow(ride)).toEqual({
          id: ride.id,
          city: 'new york',
          vehicleCity: 'new york',
          riderId: rider.id,
          vehicleId: vehicle.id,
          startAddress: 'Union Square',
          endAddress: null,
          startTime: T0,
          endTime: null,
          revenue: null,
        });
        expect((await vehicleRow(vehicle))?.status).toBe('in_use');
        expect((await vehicleRow(vehicle))?.currentLocation).toBe('Union Square');
        expect(await getRide(t.db.orm, rider, ride)).toEqual(ride);
        expect(await findOpenRide(t.db.orm, rider)).toEqual(ride);
        expect(await findOpenRideRef(t.db.orm, rider)).toEqual({ city: ride.city, id: ride.id });
      });

      it('uses the current time when none is injected', async () => {
        const before = Date.now();
        const ride = await startRide(t.db, rider, await addBike());
        expect(ride.startTime!.getTime()).toBeGreaterThanOrEqual(before);
        expect(ride.startTime!.getTime()).toBeLessThanOrEqual(Date.now());
      });

      it('refuses a vehicle that is in use, lost or retired, and changes nothing', async () => {
        const taken = await addBike('A');
        await startRide(t.db, otherRider, taken);
        const lost = await addBike('B');
        await t.db.orm.update(vehicles).set({ status: 'lost' }).where(eq(vehicles.id, lost.id));
        const retired = await addBike('C');
        await t.db.orm.update(vehicles).set({ status: 'retired' }).where(eq(vehicles.id, retired.id));
        const before = await snapshot(t.db);
        for (const vehicle of [taken, lost, retired]) {
          const error = await expectError(startRide(t.db, rider, vehicle), ConflictError, 'vehicle_unavailable');
          expect(error.kind).toBe('conflict');
        }
        expect(await snapshot(t.db)).toEqual(before);
        expect(await findOpenRide(t.db.orm, rider)).toBeUndefined();
        expect(await findOpenRideRef(t.db.orm, rider)).toBeUndefined();
      });

      it('says not found for an unknown or malformed vehicle', async () => {
        await addBike();
        const before = await snapshot(t.db);
        await expectError(
          startRide(t.db, rider, { city: 'new york', id: '00000000-0000-4000-8000-000000000000' }),
          NotFoundError,
          'vehicle_not_found',
        );
        await expectError(startRide(t.db, rider, { city: 'new york', id: 'nope' }), NotFoundError, 'vehicle_not_found');
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('says not found for a rider that does not exist, and changes nothing', async () => {
        const vehicle = await addBike();
        const before = await snapshot(t.db);
        await expectError(
          startRide(t.db, { city: 'new york', id: '00000000-0000-4000-8000-000000000000' }, vehicle),
          NotFoundError,
          'user_not_found',
        );
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('refuses a second ride while the rider has one open, and changes nothing', async () => {
        const first = await addBike('A');
        const second = await addBike('B');
        const open = await startRide(t.db, rider, first, { now: T0 });
        const before = await snapshot(t.db);
        await expectError(startRide(t.db, rider, second, { now: at(minutes(1)) }), ConflictError, 'ride_already_open');
        expect(await snapshot(t.db)).toEqual(before);
        expect((await vehicleRow(second))?.status).toBe('available');
        expect((await findOpenRide(t.db.orm, rider))?.id).toBe(open.id);
      });

      it('refuses a vehicle outside the rider’s home city, and changes nothing', async () => {
        const newYorkBike = await addBike();
        const bostonBike = await addBike('Back Bay', bostonOwner);
        const before = await snapshot(t.db);
        await expectError(startRide(t.db, bostonRider, newYorkBike), ConflictError, 'outside_home_city');
        await expectError(startRide(t.db, rider, bostonBike), ConflictError, 'outside_home_city');
        expect(await snapshot(t.db)).toEqual(before);
        // In the home city it works.
        expect((await startRide(t.db, bostonRider, bostonBike)).city).toBe('boston');
      });

      it('starts the next ride where the previous one ended', async () => {
        const vehicle = await addBike('Start');
        await pastRide(rider, vehicle, T0, minutes(10), ' Finish Line ');
        const next = await startRide(t.db, otherRider, vehicle, { now: at(minutes(20)) });
        expect(next.startAddress).toBe('Finish Line');
      });
    });

    describe('startRide under concurrency', () => {
      it(`lets exactly one of ${CONCURRENT_RIDERS} riders racing for one vehicle have it`, async () => {
        for (let round = 0; round < 3; round++) {
          await emptyTables(t.db, { keep: ['users', 'user_credentials'] });
          const vehicle = await addBike(`Dock ${round}`);
          const results = await Promise.allSettled(riders.map((r) => startRide(t.db, r, vehicle)));
          const won = results.filter((r): r is PromiseFulfilledResult<Ride> => r.status === 'fulfilled');
          const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(CONCURRENT_RIDERS - 1);
          for (const failure of lost) {
            expect(failure.reason, String(failure.reason)).toBeInstanceOf(ConflictError);
            expect((failure.reason as ConflictError).code).toBe('vehicle_unavailable');
          }
          const winner = won[0]!.value;
          expect(await t.db.execute('SELECT id::text, rider_id::text FROM rides WHERE end_time IS NULL')).toEqual([
            { id: winner.id, rider_id: winner.riderId },
          ]);
          expect(await countRows(t.db, 'SELECT count(*) AS n FROM rides')).toBe(1);
          expect((await vehicleRow(vehicle))?.status).toBe('in_use');
          // The loser can still ride something else.
          const loserIndex = results.findIndex((r) => r.status === 'rejected');
          const loser = riders[loserIndex]!;
          expect((await startRide(t.db, loser, await addBike('Elsewhere'))).riderId).toBe(loser.id);
        }
      });

      it('lets one rider start only one of two vehicles at once', async () => {
        for (let round = 0; round < 3; round++) {
          await emptyTables(t.db, { keep: ['users', 'user_credentials'] });
          const a = await addBike('A');
          const b = await addBike('B');
          const results = await Promise.allSettled([startRide(t.db, rider, a), startRide(t.db, rider, b)]);
          const won = results.filter((r): r is PromiseFulfilledResult<Ride> => r.status === 'fulfilled');
          const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(1);
          expect(lost[0]!.reason, String(lost[0]!.reason)).toBeInstanceOf(ConflictError);
          expect((lost[0]!.reason as ConflictError).code).toBe('ride_already_open');
          expect(await countRows(t.db, 'SELECT count(*) AS n FROM rides WHERE end_time IS NULL')).toBe(1);
          const ridden = won[0]!.value.vehicleId;
          expect((await vehicleRow(a))?.status).toBe(ridden === a.id ? 'in_use' : 'available');
          expect((await vehicleRow(b))?.status).toBe(ridden === b.id ? 'in_use' : 'available');
        }
      });

      it(`lets ${CONCURRENT_RIDERS} riders start rides on ${CONCURRENT_RIDERS} different vehicles at once`, async () => {
        const bikes: Vehicle[] = [];
        for (let i = 0; i < CONCURRENT_RIDERS; i++) bikes.push(await addBike(`Dock ${i}`));
        const started = await Promise.all(riders.map((r, i) => startRide(t.db, r, bikes[i]!)));
        expect(started.map((r) => r.vehicleId)).toEqual(bikes.map((b) => b.id));
        expect(await countRows(t.db, "SELECT count(*) AS n FROM vehicles WHERE status = 'in_use'")).toBe(CONCURRENT_RIDERS);
        // …and end them all at once.
        const ended = await Promise.all(started.map((ride, i) => endRide(t.db, riders[i]!, ride, `Stop ${i}`, prices)));
        expect(ended.every((r) => r.endTime !== null && r.receipt !== null)).toBe(true);
        expect(await countRows(t.db, "SELECT count(*) AS n FROM vehicles WHERE status = 'available'")).toBe(CONCURRENT_RIDERS);
      });
    });

    describe('endRide', () => {
      it('retires the vehicle instead of freeing it when its owner deleted their account during the ride', async () => {
        const leaving = await createUser(t.db, { city: 'new york', name: 'Leaving Owner' });
        const vehicle = await addVehicle(t.db, leaving, { type: 'bike', color: 'red', location: 'Pier 1' }, TEST_CITIES);
        const ride = await startRide(t.db, rider, vehicle, { now: T0 });
        await deleteAccount(t.db, leaving);
        expect((await getVehicle(t.db.orm, vehicle.city, vehicle.id)).status).toBe('in_use');
        await endRide(t.db, rider, ride, 'Pier 2', { ...prices, now: at(minutes(5)) });
        expect(await getVehicle(t.db.orm, vehicle.city, vehicle.id)).toMatchObject({ status: 'retired', currentLocation: 'Pier 2' });
      });

      it('charges from the price list, stores revenue and receipt, and frees the vehicle at the end address', async () => {
        const vehicle = await addBike('Union Square');
        const ride = await startRide(t.db, rider, vehicle, { now: T0 });
        const end = at(minutes(12) + 30_000);
        const ended = await endRide(t.db, rider, ride, '  Times Square  ', { ...prices, now: end });
        const receipt = {
          minutes: 13,
          unlockCents: 100,
          perMinuteCents: 15,
          fareCents: 295,
          discountPercent: 0,
          discountCents: 0,
          totalCents: 295,
          promoCode: null,
          vehicleType: 'bike',
        };
        expect(ended).toEqual({
          ...ride,
          endAddress: 'Times Square',
          endTime: end,
          revenueCents: 295,
          receipt,
        });
        expect(await rideRow(ride)).toMatchObject({ endAddress: 'Times Square', endTime: end, revenue: '2.95' });
        const [receiptRow] = await t.db.orm.select().from(rideReceipts).where(eq(rideReceipts.rideId, ride.id));
        expect(receiptRow).toEqual({ city: 'new york', rideId: ride.id, createdAt: end, ...receipt });
        expect(await vehicleRow(vehicle)).toMatchObject({ status: 'available', currentLocation: 'Times Square' });
        expect(await getRide(t.db.orm, rider, ride)).toEqual(ended);
        expect(await findOpenRide(t.db.orm, rider)).toBeUndefined();
        expect(await findOpenRideRef(t.db.orm, rider)).toBeUndefined();
      });

      it('uses the given price list and charges an unknown vehicle type as a scooter', async () => {
        const vehicle = await addBike();
        await t.db.orm.update(vehicles).set({ type: 'hoverboard' }).where(eq(vehicles.id, vehicle.id));
        const ride = await startRide(t.db, rider, vehicle, { now: T0 });
        const priceList = priceListWith({ scooter: { unlockCents: 20, perMinuteCents: 7 } });
        const ended = await endRide(t.db, rider, ride, 'Here', { priceList, now: at(minutes(3)) });
        expect(ended.receipt).toMatchObject({ vehicleType: 'hoverboard', unlockCents: 20, perMinuteCents: 7, minutes: 3, totalCents: 41 });
        expect(ended.revenueCents).toBe(41);
      });

      it('charges one minute when the clock reads earlier than the start, and caps very long rides', async () => {
        const bike = await addBike();
        const early = await startRide(t.db, rider, bike, { now: T0 });
        const endedEarly = await endRide(t.db, rider, early, 'Here', { ...prices, now: at(-minutes(5)) });
        expect(endedEarly.endTime).toEqual(T0);
        expect(endedEarly.receipt?.minutes).toBe(1);
        expect(endedEarly.revenueCents).toBe(115);

        const long = await startRide(t.db, rider, bike, { now: at(minutes(10)) });
        const endedLong = await endRide(t.db, rider, long, 'There', { ...prices, now: at(minutes(10) + minutes(3 * 24 * 60)) });
        expect(endedLong.receipt?.minutes).toBe(MAX_CHARGED_MINUTES);
        expect(endedLong.revenueCents).toBe(100 + 15 * MAX_CHARGED_MINUTES);
        expect((await rideRow(long))?.revenue).toBe('217.00');
      });

      it('applies the best valid promo code and counts only that one as used', async () => {
        await insertPromoCode(t.db, 'TEN', { percent: '10%' });
        await insertPromoCode(t.db, 'QUARTER', { percent: '25%' });
        await insertPromoCode(t.db, 'HALF-EXPIRED', { percent: '50%', expirationTime: at(minutes(5)) });
        await insertPromoCode(t.db, 'ZERO', { percent: '0%' });
        await insertPromoCode(t.db, 'ODD-RULES', { rules: { type: 'free_unlock', value: 'yes' } });
        for (const code of ['TEN', 'QUARTER', 'HALF-EXPIRED', 'ZERO', 'ODD-RULES']) await addPromoCode(t.db, rider, code, { now: T0 });
        // Another rider's 90% code must not help this rider.
        await insertPromoCode(t.db, 'NINETY', { percent: '90%' });
        await addPromoCode(t.db, otherRider, 'NINETY', { now: T0 });

        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        const ended = await endRide(t.db, rider, ride, 'Here', { ...prices, now: at(minutes(12) + 30_000) });
        // 295 × 25% = 73.75 → 74 off.
        expect(ended.receipt).toMatchObject({ fareCents: 295, promoCode: 'QUARTER', discountPercent: 25, discountCents: 74, totalCents: 221 });
        expect(ended.revenueCents).toBe(221);
        expect((await rideRow(ride))?.revenue).toBe('2.21');
        expect(await usageCounts(rider)).toEqual({ TEN: 0, QUARTER: 1, 'HALF-EXPIRED': 0, ZERO: 0, 'ODD-RULES': 0 });
        expect(await usageCounts(otherRider)).toEqual({ NINETY: 0 });

        // The next ride gets the same best code again.
        const next = await startRide(t.db, rider, await addBike(), { now: at(minutes(30)) });
        await endRide(t.db, rider, next, 'There', { ...prices, now: at(minutes(31)) });
        expect((await usageCounts(rider)).QUARTER).toBe(2);
      });

      it('uses a code valid at the end of the ride, not one that has not started yet', async () => {
        await insertPromoCode(t.db, 'LATER', { percent: '80%', creationTime: at(minutes(1)) });
        await insertPromoCode(t.db, 'NOW', { percent: '5%', creationTime: T0 });
        // Added directly: addPromoCode refuses a code that is not valid yet.
        await t.db.orm.insert(userPromoCodes).values([
          { city: rider.city, userId: rider.id, code: 'LATER', timestamp: T0, usageCount: 0 },
          { city: rider.city, userId: rider.id, code: 'NOW', timestamp: T0, usageCount: 0 },
        ]);
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        const ended = await endRide(t.db, rider, ride, 'Here', { ...prices, now: at(30_000) });
        expect(ended.receipt?.promoCode).toBe('NOW');
        expect(await usageCounts(rider)).toEqual({ LATER: 0, NOW: 1 });
      });

      it('breaks a tie between equal discounts in favour of the code that expires first', async () => {
        await insertPromoCode(t.db, 'A-FOREVER', { percent: '20%' });
        await insertPromoCode(t.db, 'B-SOON', { percent: '20%', expirationTime: at(minutes(60)) });
        await insertPromoCode(t.db, 'C-LATER', { percent: '20%', expirationTime: at(minutes(600)) });
        for (const code of ['A-FOREVER', 'B-SOON', 'C-LATER']) await addPromoCode(t.db, rider, code, { now: T0 });
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        const ended = await endRide(t.db, rider, ride, 'Here', { ...prices, now: at(minutes(10)) });
        expect(ended.receipt?.promoCode).toBe('B-SOON');
        expect(await usageCounts(rider)).toEqual({ 'A-FOREVER': 0, 'B-SOON': 1, 'C-LATER': 0 });
      });

      it('charges nothing with a 100% code', async () => {
        await insertPromoCode(t.db, 'FREE', { percent: '100%' });
        await addPromoCode(t.db, rider, 'FREE', { now: T0 });
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        const ended = await endRide(t.db, rider, ride, 'Here', { ...prices, now: at(minutes(7)) });
        expect(ended.receipt).toMatchObject({ fareCents: 205, discountCents: 205, totalCents: 0, promoCode: 'FREE' });
        expect((await rideRow(ride))?.revenue).toBe('0.00');
        expect(ended.revenueCents).toBe(0);
      });

      it('refuses anyone but the rider and changes nothing', async () => {
        await insertPromoCode(t.db, 'TEN', { percent: '10%' });
        await addPromoCode(t.db, otherRider, 'TEN', { now: T0 });
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        const before = await snapshot(t.db);
        await expectError(endRide(t.db, otherRider, ride, 'Here', prices), NotFoundError, 'ride_not_found');
        await expectError(endRide(t.db, bostonRider, ride, 'Here', prices), NotFoundError, 'ride_not_found');
        await expectError(endRide(t.db, { city: 'boston', id: rider.id }, ride, 'Here', prices), NotFoundError, 'ride_not_found');
        await expectError(endRide(t.db, rider, { city: 'new york', id: 'not-a-uuid' }, 'Here', prices), NotFoundError, 'ride_not_found');
        await expectError(endRide(t.db, rider, { city: 'boston', id: ride.id }, 'Here', prices), NotFoundError, 'ride_not_found');
        expect(await snapshot(t.db)).toEqual(before);
        await expectError(getRide(t.db.orm, otherRider, ride), NotFoundError, 'ride_not_found');
      });

      it('ends a ride only once', async () => {
        await insertPromoCode(t.db, 'TEN', { percent: '10%' });
        await addPromoCode(t.db, rider, 'TEN', { now: T0 });
        const vehicle = await addBike();
        const ride = await startRide(t.db, rider, vehicle, { now: T0 });
        await endRide(t.db, rider, ride, 'First stop', { ...prices, now: at(minutes(5)) });
        const before = await snapshot(t.db);
        const error = await expectError(
          endRide(t.db, rider, ride, 'Second stop', { ...prices, now: at(minutes(50)) }),
          ConflictError,
          'ride_already_ended',
        );
        expect(error.kind).toBe('conflict');
        expect(await snapshot(t.db)).toEqual(before);
        expect((await vehicleRow(vehicle))?.currentLocation).toBe('First stop');
        expect(await usageCounts(rider)).toEqual({ TEN: 1 });
      });

      it('ends a ride only once when two requests race', async () => {
        await insertPromoCode(t.db, 'TEN', { percent: '10%' });
        await addPromoCode(t.db, rider, 'TEN', { now: T0 });
        for (let round = 0; round < 3; round++) {
          const vehicle = await addBike(`Dock ${round}`);
          const start = at(minutes(100 * round));
          const ride = await startRide(t.db, rider, vehicle, { now: start });
          const results = await Promise.allSettled(
            ['North', 'South', 'East', 'West'].map((where) =>
              endRide(t.db, rider, ride, where, { ...prices, now: new Date(start.getTime() + minutes(5)) }),
            ),
          );
          const won = results.filter((r): r is PromiseFulfilledResult<Ride> => r.status === 'fulfilled');
          const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
          expect(won).toHaveLength(1);
          for (const failure of lost) {
            expect(failure.reason, String(failure.reason)).toBeInstanceOf(ConflictError);
            expect((failure.reason as ConflictError).code).toBe('ride_already_ended');
          }
          expect(await countRows(t.db, 'SELECT count(*) AS n FROM ride_receipts WHERE ride_id = $1', [ride.id])).toBe(1);
          expect((await vehicleRow(vehicle))?.currentLocation).toBe(won[0]!.value.endAddress);
          expect(await usageCounts(rider)).toEqual({ TEN: round + 1 });
        }
      });

      it('refuses an empty, blank or too long end address and changes nothing', async () => {
        const vehicle = await addBike();
        const ride = await startRide(t.db, rider, vehicle, { now: T0 });
        const before = await snapshot(t.db);
        for (const address of ['', '   ', '\t\n', 'x'.repeat(201)]) {
          const error = await expectError(endRide(t.db, rider, ride, address, prices), ValidationError, 'validation_failed');
          expect(error.fields).toEqual([{ path: 'endAddress', message: error.message }]);
        }
        expect(await snapshot(t.db)).toEqual(before);
        // 200 characters (after trimming) is fine.
        const ended = await endRide(t.db, rider, ride, ` ${'x'.repeat(200)} `, prices);
        expect(ended.endAddress).toHaveLength(200);
      });
    });

    describe('recordLocation and listLocations', () => {
      it('records points on the rider’s open ride and lists them in time order', async () => {
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        const second = await recordLocation(t.db, rider, ride, { lat: 40.72, long: -74.0 }, { now: at(20_000) });
        expect(second).toEqual({ timestamp: at(20_000), lat: 40.72, long: -74.0 });
        await recordLocation(t.db, rider, ride, { lat: 40.71, long: -74.01 }, { now: at(10_000) });
        await recordLocation(t.db, rider, ride, { lat: 40.73, long: -73.99 }, { now: at(30_000) });
        expect((await listLocations(t.db.orm, rider, ride)).items).toEqual([
          { timestamp: at(10_000), lat: 40.71, long: -74.01 },
          { timestamp: at(20_000), lat: 40.72, long: -74.0 },
          { timestamp: at(30_000), lat: 40.73, long: -73.99 },
        ]);
      });

      it('keeps one point per instant: the same point again is answered as stored, a different one is a 409, never dropped silently', async () => {
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        await recordLocation(t.db, rider, ride, { lat: 1, long: 1 }, { now: at(1000) });
        expect(await recordLocation(t.db, rider, ride, { lat: 1, long: 1 }, { now: at(1000) })).toEqual({ timestamp: at(1000), lat: 1, long: 1 });
        await expectError(recordLocation(t.db, rider, ride, { lat: 2, long: 2 }, { now: at(1000) }), ConflictError, 'location_conflict');
        expect((await listLocations(t.db.orm, rider, ride)).items).toEqual([{ timestamp: at(1000), lat: 1, long: 1 }]);
      });

      it('pages the points, oldest first, and refuses a forged cursor', async () => {
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        for (let i = 1; i <= 5; i++) await recordLocation(t.db, rider, ride, { lat: i, long: i }, { now: at(i) });
        const first = await listLocations(t.db.orm, rider, ride, { limit: 2 });
        expect(first.items.map((p) => p.lat)).toEqual([1, 2]);
        const second = await listLocations(t.db.orm, rider, ride, { limit: 2, cursor: first.nextCursor ?? '' });
        expect(second.items.map((p) => p.lat)).toEqual([3, 4]);
        const last = await listLocations(t.db.orm, rider, ride, { limit: 2, cursor: second.nextCursor ?? '' });
        expect(last).toEqual({ items: [{ timestamp: at(5), lat: 5, long: 5 }], nextCursor: null });
        const forged = await expectError(listLocations(t.db.orm, rider, ride, { cursor: 'bm90LWEtdGltZQ' }), ValidationError);
        expect(forged.fields).toEqual([{ path: 'cursor', message: INVALID_PAGE_LINK }]);
      });

      it(`refuses more than MAX_POINTS_PER_RIDE (${MAX_POINTS_PER_RIDE}) points on one ride`, async () => {
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        const points = Array.from({ length: MAX_POINTS_PER_RIDE }, (_, i) => ({ city: ride.city, rideId: ride.id, timestamp: at(i + 1), lat: 1, long: 1 }));
        for (let i = 0; i < points.length; i += 1000) await t.db.orm.insert(vehicleLocationHistories).values(points.slice(i, i + 1000));
        const error = await expectError(
          recordLocation(t.db, rider, ride, { lat: 2, long: 2 }, { now: at(MAX_POINTS_PER_RIDE + 10) }),
          ConflictError,
          'ride_points_limit',
        );
        expect(error.message).toContain('5,000');
      });

      it('accepts the extreme coordinates', async () => {
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        await recordLocation(t.db, rider, ride, { lat: -90, long: -180 }, { now: at(1) });
        await recordLocation(t.db, rider, ride, { lat: 90, long: 180 }, { now: at(2) });
        expect((await listLocations(t.db.orm, rider, ride)).items.map((p) => [p.lat, p.long])).toEqual([
          [-90, -180],
          [90, 180],
        ]);
      });

      it('refuses coordinates out of range, naming each bad one, and writes nothing', async () => {
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        const before = await snapshot(t.db);
        const cases: [{ lat: number; long: number }, string[]][] = [
          [{ lat: 90.0001, long: 0 }, ['lat']],
          [{ lat: -91, long: 0 }, ['lat']],
          [{ lat: Number.NaN, long: 0 }, ['lat']],
          [{ lat: Number.POSITIVE_INFINITY, long: 0 }, ['lat']],
          [{ lat: 0, long: 180.5 }, ['long']],
          [{ lat: 0, long: -181 }, ['long']],
          [{ lat: 0, long: Number.NaN }, ['long']],
          [{ lat: 100, long: -200 }, ['lat', 'long']],
        ];
        for (const [point, paths] of cases) {
          const error = await expectError(recordLocation(t.db, rider, ride, point), ValidationError);
          expect(error.fields.map((f) => f.path), JSON.stringify(point)).toEqual(paths);
        }
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('records only on the rider’s own ride', async () => {
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        const before = await snapshot(t.db);
        await expectError(recordLocation(t.db, otherRider, ride, { lat: 1, long: 1 }), NotFoundError, 'ride_not_found');
        await expectError(recordLocation(t.db, bostonRider, ride, { lat: 1, long: 1 }), NotFoundError, 'ride_not_found');
        await expectError(
          recordLocation(t.db, rider, { city: 'new york', id: '00000000-0000-4000-8000-000000000000' }, { lat: 1, long: 1 }),
          NotFoundError,
          'ride_not_found',
        );
        expect(await snapshot(t.db)).toEqual(before);
        await expectError(listLocations(t.db.orm, otherRider, ride), NotFoundError, 'ride_not_found');
      });

      it('refuses to record on an ended ride but still lists its points', async () => {
        const ride = await startRide(t.db, rider, await addBike(), { now: T0 });
        await recordLocation(t.db, rider, ride, { lat: 5, long: 6 }, { now: at(1000) });
        await endRide(t.db, rider, ride, 'Here', { ...prices, now: at(minutes(2)) });
        const before = await snapshot(t.db);
        await expectError(
          recordLocation(t.db, rider, ride, { lat: 1, long: 1 }, { now: at(minutes(3)) }),
          ConflictError,
          'ride_already_ended',
        );
        expect(await snapshot(t.db)).toEqual(before);
        expect((await listLocations(t.db.orm, rider, ride)).items).toEqual([{ timestamp: at(1000), lat: 5, long: 6 }]);
      });
    });

    describe('listRides and rideCounts', () => {
      it('walks the rider’s rides newest first, a page at a time, without duplicates or gaps', async () => {
        const bike = await addBike();
        const made: Ride[] = [];
        // Eight ended rides, two pairs of them with the same start time (the id breaks the tie)…
        const starts = [0, 60, 60, 120, 180, 240, 240, 300].map((m) => at(minutes(m)));
        for (const start of starts) made.push(await pastRide(rider, bike, start, minutes(10)));
        // …one open ride, the newest…
        made.push(await startRide(t.db, rider, bike, { now: at(minutes(400)) }));
        // …and another rider's ride, never listed.
        await pastRide(otherRider, await addBike('Other'), at(minutes(30)), minutes(5));

        const expected = [...made]
          .sort((a, b) => b.startTime!.getTime() - a.startTime!.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
          .map((r) => r.id);

        const seen: string[] = [];
        const sizes: number[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const page = await listRides(t.db.orm, rider, { limit: 4, cursor });
          sizes.push(page.items.length);
          seen.push(...page.items.map((r) => r.id));
          for (const ride of page.items) expect(ride.riderId).toBe(rider.id);
          if (page.nextCursor === null) break;
          cursor = page.nextCursor;
        }
        expect(sizes).toEqual([4, 4, 1]);
        expect(seen).toEqual(expected);
        expect(new Set(seen).size).toBe(made.length);

        const first = (await listRides(t.db.orm, rider)).items;
        expect(first).toHaveLength(9);
        expect(first[0]).toMatchObject({ endTime: null, revenueCents: null, receipt: null });
        expect(first[1]).toMatchObject({ revenueCents: 115 + 15 * 9, receipt: { minutes: 10 } });
      });

      it('pages with a page size of one across equal start times', async () => {
        const bike = await addBike();
        for (let i = 0; i < 3; i++) await pastRide(rider, bike, T0, minutes(1));
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await listRides(t.db.orm, rider, { limit: 1, cursor });
          seen.push(...page.items.map((r) => r.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor && seen.length < 10);
        expect(seen).toHaveLength(3);
        expect([...seen].sort().reverse()).toEqual(seen);
      });

      it('accepts a fractional or NaN page size', async () => {
        const bike = await addBike();
        for (let i = 0; i < 3; i++) await pastRide(rider, bike, at(minutes(10 * i)), minutes(1));
        expect((await listRides(t.db.orm, rider, { limit: 1.5 })).items).toHaveLength(1);
        expect((await listRides(t.db.orm, rider, { limit: Number.NaN })).items).toHaveLength(3);
      });

      it('gives an empty page for a rider without rides', async () => {
        expect(await listRides(t.db.orm, rider)).toEqual({ items: [], nextCursor: null });
        expect(await rideCounts(t.db.orm, rider)).toEqual({ total: 0, open: 0 });
      });

      it('refuses a malformed cursor', async () => {
        const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
        const cursors = [
          'garbage',
          '!!!',
          b64(5),
          b64(null),
          b64({ a: 1 }),
          b64(['not a date', '00000000-0000-4000-8000-000000000000']),
          b64([T0.toISOString(), 'not-a-uuid']),
          b64([T0.toISOString()]),
          b64([T0.toISOString(), 42]),
        ];
        for (const cursor of cursors) {
          const error = await expectError(listRides(t.db.orm, rider, { cursor }), ValidationError);
          expect(error.fields.map((f) => f.path), cursor).toEqual(['cursor']);
        }
      });

      it('counts all and open rides of the rider', async () => {
        const bike = await addBike();
        await pastRide(rider, bike, T0, minutes(5));
        await pastRide(rider, bike, at(minutes(10)), minutes(5));
        await startRide(t.db, rider, bike, { now: at(minutes(20)) });
        await pastRide(otherRider, await addBike('Other'), T0, minutes(5));
        expect(await rideCounts(t.db.orm, rider)).toEqual({ total: 3, open: 1 });
        expect(await rideCounts(t.db.orm, otherRider)).toEqual({ total: 1, open: 0 });
        expect(await rideCounts(t.db.orm, bostonRider)).toEqual({ total: 0, open: 0 });
      });
    });

    it('keeps the vehicle and ride data consistent after a mixed sequence', async () => {
      const bike = await addBike();
      await pastRide(rider, bike, T0, minutes(3));
      await startRide(t.db, otherRider, bike, { now: at(minutes(10)) });
      expect((await getVehicle(t.db.orm, 'new york', bike.id)).status).toBe('in_use');
      const mismatched = await t.db.execute(`
        SELECT v.id FROM vehicles v
        LEFT JOIN rides r ON r.vehicle_city = v.city AND r.vehicle_id = v.id AND r.end_time IS NULL
        GROUP BY v.id, v.status
        HAVING (v.status = 'in_use') <> (count(r.id) = 1)`);
      expect(mismatched).toEqual([]);
    });
  },
  { open: { poolSize: 20 } },
);
