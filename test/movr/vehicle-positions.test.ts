// Where vehicles are, on both databases: positions on adding, moving to a ride's last point when
// it ends, and near-me (nearest first, distances, the growing boxes, filters, no position).
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/movr/errors.ts';
import { DEFAULT_PRICE_LIST } from '../../src/movr/pricing.ts';
import { endRide, recordLocation, startRide } from '../../src/movr/rides.ts';
import type { User } from '../../src/movr/users.ts';
import { NEAR_SEARCH_RADII_M, addVehicle, getVehicle, listVehiclesNear } from '../../src/movr/vehicles.ts';
import { TEST_CITIES, createUser, createVehicle } from '../support/factories.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';
import { expectError } from './fixtures.ts';

/** Near Rome's centre: metres north and east of it, as a point. */
const ROME = { lat: 41.9028, long: 12.4964 };
const METRES_PER_DEGREE = 111_320;
function offset(north: number, east: number) {
  return {
    lat: ROME.lat + north / METRES_PER_DEGREE,
    long: ROME.long + east / (METRES_PER_DEGREE * Math.cos((ROME.lat * Math.PI) / 180)),
  };
}

describeEachDatabase('vehicle positions', (t) => {
  let rider: User;
  let owner: User;

  beforeAll(async () => {
    [rider, owner] = await Promise.all([createUser(t.db, { city: 'rome' }), createUser(t.db, { city: 'rome' })]);
  });
  beforeEach(() => emptyTables(t.db, { keep: ['users', 'user_credentials'] }));

  describe('addVehicle', () => {
    it('stores an optional position, and refuses a bad one', async () => {
      const placed = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Piazza Navona', position: offset(100, 0) }, TEST_CITIES);
      expect(placed.lat).toBeCloseTo(offset(100, 0).lat, 9);
      expect(placed.long).toBeCloseTo(ROME.long, 9);
      const unplaced = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Piazza Navona' }, TEST_CITIES);
      expect(unplaced).toMatchObject({ lat: null, long: null });
      const error = await expectError(
        addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Nowhere', position: { lat: 91, long: 0 } }, TEST_CITIES),
        ValidationError,
        'validation_failed',
      );
      expect(error.fields).toEqual([{ path: 'position.lat', message: 'Latitude must be between -90 and 90.' }]);
    });
  });

  describe('endRide', () => {
    it('moves the vehicle to the ride’s last recorded point', async () => {
      const vehicleId = await createVehicle(t.db, { city: 'rome', ...offset(0, 0) });
      const ride = await startRide(t.db, rider, { city: 'rome', id: vehicleId });
      await recordLocation(t.db, rider, ride, offset(200, 0), { now: new Date(Date.now() - 2000) });
      await recordLocation(t.db, rider, ride, offset(400, 300), { now: new Date(Date.now() - 1000) });
      await endRide(t.db, rider, ride, 'Via del Corso 1', { priceList: DEFAULT_PRICE_LIST });
      const vehicle = await getVehicle(t.db.orm, 'rome', vehicleId);
      expect(vehicle).toMatchObject({ status: 'available', currentLocation: 'Via del Corso 1' });
      expect(vehicle.lat).toBeCloseTo(offset(400, 300).lat, 9);
      expect(vehicle.long).toBeCloseTo(offset(400, 300).long, 9);
    });

    it('keeps the vehicle where it was when the ride recorded no point', async () => {
      const vehicleId = await createVehicle(t.db, { city: 'rome', ...offset(50, 50) });
      const ride = await startRide(t.db, rider, { city: 'rome', id: vehicleId });
      await endRide(t.db, rider, ride, 'Via del Corso 2', { priceList: DEFAULT_PRICE_LIST });
      const vehicle = await getVehicle(t.db.orm, 'rome', vehicleId);
      expect(vehicle.lat).toBeCloseTo(offset(50, 50).lat, 9);
      expect(vehicle.long).toBeCloseTo(offset(50, 50).long, 9);
    });
  });

  describe('listVehiclesNear', () => {
    it('lists available vehicles nearest first with their distance in metres', async () => {
      const far = await createVehicle(t.db, { city: 'rome', ...offset(0, 1500) });
      const near = await createVehicle(t.db, { city: 'rome', ...offset(120, 0) });
      const middle = await createVehicle(t.db, { city: 'rome', ...offset(-300, -400) });
      await createVehicle(t.db, { city: 'rome', status: 'in_use', ...offset(10, 0) });
      await createVehicle(t.db, { city: 'rome', status: 'lost', ...offset(20, 0) });
      await createVehicle(t.db, { city: 'rome' }); // no position
      await createVehicle(t.db, { city: 'paris', lat: ROME.lat, long: ROME.long }); // another city
      const listed = await listVehiclesNear(t.db.orm, { city: 'rome', ...ROME });
      expect(listed.map((v) => v.id)).toEqual([near, middle, far]);
      expect(listed.map((v) => v.distanceM)).toEqual([120, 500, 1500]);
      expect(listed.every((v) => v.status === 'available')).toBe(true);
    });

    it('finds vehicles beyond every box, and stops at the limit', async () => {
      const beyond = NEAR_SEARCH_RADII_M.at(-1)! * 1.5;
      const remote = await createVehicle(t.db, { city: 'rome', ...offset(beyond, 0) });
      const [only] = await listVehiclesNear(t.db.orm, { city: 'rome', ...ROME });
      expect(only?.id).toBe(remote);
      expect(only?.distanceM).toBe(beyond);
      const ids = await Promise.all([1, 2, 3, 4, 5].map((k) => createVehicle(t.db, { city: 'rome', ...offset(k * 10, 0) })));
      const three = await listVehiclesNear(t.db.orm, { city: 'rome', ...ROME, limit: 3 });
      expect(three.map((v) => v.id)).toEqual(ids.slice(0, 3));
    });

    it('never lists a farther vehicle before a nearer one outside the first box', async () => {
      // Inside the first box: one vehicle at 450 m; outside it, nearer than the box's corner, one at 600 m.
      const inBox = await createVehicle(t.db, { city: 'rome', ...offset(450, 0) });
      const outside = await createVehicle(t.db, { city: 'rome', ...offset(0, 600) });
      const corner = await createVehicle(t.db, { city: 'rome', ...offset(490, 490) }); // 693 m, inside the 500 m box
      const listed = await listVehiclesNear(t.db.orm, { city: 'rome', ...ROME, limit: 3 });
      expect(listed.map((v) => v.id)).toEqual([inBox, outside, corner]);
    });

    it('filters by type', async () => {
      const bike = await createVehicle(t.db, { city: 'rome', type: 'bike', ...offset(300, 0) });
      await createVehicle(t.db, { city: 'rome', type: 'scooter', ...offset(10, 0) });
      expect((await listVehiclesNear(t.db.orm, { city: 'rome', ...ROME, type: 'bike' })).map((v) => v.id)).toEqual([bike]);
    });

    it('refuses a point off the globe', async () => {
      await expectError(listVehiclesNear(t.db.orm, { city: 'rome', lat: 0, long: 181 }), ValidationError, 'validation_failed');
    });
  });
});
