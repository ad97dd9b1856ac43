// Vehicles against the real databases: adding (validation), listing with keyset pagination and
// filters, looking one up, retiring (owner only, not in use, once) and counting per city.
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { vehicles } from '../../src/db/schema.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../src/movr/errors.ts';
import { DEFAULT_PRICE_LIST } from '../../src/movr/pricing.ts';
import { endRide, startRide } from '../../src/movr/rides.ts';
import type { User } from '../../src/movr/users.ts';
import { LOCATION_MAX_LENGTH, MAX_PAGE_SIZE, MAX_VEHICLES_PER_OWNER, pageSize } from '../../src/movr/rules.ts';
import {
  type Vehicle,
  addVehicle,
  countVehiclesByCity,
  getVehicle,
  countOwnedVehicles,
  listOwnedVehicles,
  listVehicles,
  retireVehicle,
} from '../../src/movr/vehicles.ts';
import { TEST_CITIES, createUser } from '../support/factories.ts';
import { snapshot } from '../support/snapshot.ts';
import { describeEachDatabase, emptyTables } from '../support/databases.ts';
import { expectError } from './fixtures.ts';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('pageSize', () => {
  it('is a whole number between 1 and MAX_PAGE_SIZE, 20 by default', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(Number.NaN)).toBe(20);
    expect(pageSize(10)).toBe(10);
    expect(pageSize(2.9)).toBe(2);
    expect(pageSize(0)).toBe(1);
    expect(pageSize(-3)).toBe(1);
    expect(pageSize(0.5)).toBe(1);
    expect(pageSize(1000)).toBe(MAX_PAGE_SIZE);
    expect(pageSize(Number.POSITIVE_INFINITY)).toBe(MAX_PAGE_SIZE);
    expect(pageSize(Number.NEGATIVE_INFINITY)).toBe(1);
  });
});

describeEachDatabase('vehicles', (t) => {
  let owner: User;
  let otherOwner: User;
  let rider: User;
  let bostonOwner: User;

  beforeAll(async () => {
    [owner, otherOwner, rider, bostonOwner] = await Promise.all([
      createUser(t.db, { city: 'new york', name: 'Olive Owner' }),
      createUser(t.db, { city: 'new york', name: 'Oscar Other' }),
      createUser(t.db, { city: 'new york', name: 'Rita Rider' }),
      createUser(t.db, { city: 'boston', name: 'Bo Stone' }),
    ]);
  });

  beforeEach(async () => {
    await emptyTables(t.db, { keep: ['users', 'user_credentials'] });
  });

  describe('addVehicle', () => {
    it('adds an available vehicle in the owner’s city with trimmed, lower-cased details', async () => {
      const now = new Date('2025-05-01T10:00:00Z');
      const vehicle = await addVehicle(
        t.db,
        owner,
        { type: ' Bike ', color: ' RED ', brand: '  Fuji ', location: '  5th Avenue & 42nd  ' },
        { ...TEST_CITIES, now });
      expect(vehicle).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        city: 'new york',
        type: 'bike',
        status: 'available',
        currentLocation: '5th Avenue & 42nd',
        color: 'red',
        brand: 'Fuji',
        ownerId: owner.id,
        ownerName: 'Olive Owner',
        creationTime: now,
        lat: null,
        long: null,
      });
      const [row] = await t.db.orm.select().from(vehicles).where(eq(vehicles.id, vehicle.id));
      expect(row?.ext).toEqual({ color: 'red', brand: 'Fuji' });
      expect(await getVehicle(t.db.orm, 'new york', vehicle.id)).toEqual(vehicle);
    });

    it('stores no brand when it is blank', async () => {
      const vehicle = await addVehicle(t.db, owner, { type: 'scooter', color: 'blue', brand: '   ', location: 'Soho', city: 'new york' }, TEST_CITIES);
      expect(vehicle.brand).toBeNull();
      const [row] = await t.db.orm.select().from(vehicles).where(eq(vehicles.id, vehicle.id));
      expect(row?.ext).toEqual({ color: 'blue' });
    });

    it('reports every problem at once and writes nothing', async () => {
      const before = await snapshot(t.db);
      const error = await expectError(
        addVehicle(t.db, owner, { type: 'unicycle', color: 'plaid', brand: 'b'.repeat(41), location: '   ', city: 'atlantis' }, TEST_CITIES),
        ValidationError,
      );
      expect(error.fields.map((f) => f.path)).toEqual(['type', 'color', 'brand', 'location', 'city']);
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('requires type, color and location', async () => {
      const before = await snapshot(t.db);
      const error = await expectError(addVehicle(t.db, owner, { type: '', color: '', location: '' }, TEST_CITIES), ValidationError);
      expect(error.fields.map((f) => f.path)).toEqual(['type', 'color', 'location']);
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('limits the location to LOCATION_MAX_LENGTH characters after trimming', async () => {
      const before = await snapshot(t.db);
      const error = await expectError(
        addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'x'.repeat(LOCATION_MAX_LENGTH + 1) }, TEST_CITIES),
        ValidationError,
      );
      expect(error.fields).toEqual([{ path: 'location', message: error.message }]);
      expect(await snapshot(t.db)).toEqual(before);
      const longest = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: ` ${'x'.repeat(LOCATION_MAX_LENGTH)} ` }, TEST_CITIES);
      expect(longest.currentLocation).toHaveLength(LOCATION_MAX_LENGTH);
    });

    it('limits the brand to 40 characters', async () => {
      const error = await expectError(
        addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Here', brand: 'b'.repeat(41) }, TEST_CITIES),
        ValidationError,
      );
      expect(error.fields.map((f) => f.path)).toEqual(['brand']);
      expect((await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Here', brand: 'b'.repeat(40) }, TEST_CITIES)).brand).toHaveLength(40);
    });

    it('says not found for an owner that does not exist', async () => {
      const before = await snapshot(t.db);
      await expectError(
        addVehicle(t.db, { city: 'new york', id: UNKNOWN_ID }, { type: 'bike', color: 'red', location: 'Here' }, TEST_CITIES),
        NotFoundError,
        'user_not_found',
      );
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('refuses a city other than the owner’s home city and writes nothing', async () => {
      const before = await snapshot(t.db);
      const error = await expectError(
        addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Back Bay', city: 'boston' }, TEST_CITIES),
        ValidationError,
      );
      expect(error.fields).toEqual([{ path: 'city', message: expect.stringContaining('new york') }]);
      expect(await snapshot(t.db)).toEqual(before);
    });
  });

  describe('listVehicles', () => {
    async function addMany(count: number, who: User = owner, type = 'bike'): Promise<Vehicle[]> {
      const added: Vehicle[] = [];
      for (let i = 0; i < count; i++) {
        added.push(await addVehicle(t.db, who, { type, color: 'black', location: `Dock ${i}` }, TEST_CITIES));
      }
      return added;
    }

    it('walks all of a city’s vehicles in id order, a page at a time, without duplicates or gaps', async () => {
      const added = await addMany(25);
      await addMany(3, bostonOwner); // another city: never listed
      const expected = added.map((v) => v.id).sort();

      const seen: string[] = [];
      const pageSizes: number[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await listVehicles(t.db.orm, { city: 'new york', limit: 10, cursor });
        pageSizes.push(page.items.length);
        seen.push(...page.items.map((v) => v.id));
        for (const vehicle of page.items) expect(vehicle.city).toBe('new york');
        if (page.nextCursor === null) break;
        expect(page.nextCursor).toBe(page.items.at(-1)?.id);
        cursor = page.nextCursor;
      }
      expect(pageSizes).toEqual([10, 10, 5]);
      expect(seen).toEqual(expected);
      expect(new Set(seen).size).toBe(25);
    });

    it('reads every column of each vehicle as getVehicle does (nulls, odd text, no owner)', async () => {
      const added = await addMany(2);
      const odd = await addVehicle(t.db, otherOwner, { type: 'bike', color: 'red', brand: 'Pinarello', location: `Quai d'Orsay "7" \\ 東京 😀`, position: { lat: 40.712812345678901, long: -74.00600000000001 } }, TEST_CITIES);
      const bare = '11111111-1111-4111-8111-111111111111';
      await t.db.orm.insert(vehicles).values({ id: bare, city: 'new york', creationTime: new Date('2026-03-04T05:06:07.891Z') });
      const orphan = '22222222-2222-4222-8222-222222222222';
      await t.db.orm.insert(vehicles).values({ id: orphan, city: 'new york', type: 'scooter', ext: { color: 'blue', note: { nested: [1, null] } } });

      const listed = (await listVehicles(t.db.orm, { city: 'new york' })).items;
      const expected = await Promise.all([...added.map((v) => v.id), odd.id, bare, orphan].map((id) => getVehicle(t.db.orm, 'new york', id)));
      expect(listed).toEqual(expected.sort((a, b) => a.id.localeCompare(b.id)));
      const bareListed = listed.find((v) => v.id === bare)!;
      expect(bareListed).toMatchObject({ type: null, status: null, currentLocation: null, color: null, brand: null, ownerId: null, ownerName: null });
      expect(bareListed.creationTime).toEqual(new Date('2026-03-04T05:06:07.891Z'));
      expect(listed.find((v) => v.id === odd.id)).toMatchObject({ brand: 'Pinarello', color: 'red', ownerName: 'Oscar Other', currentLocation: `Quai d'Orsay "7" \\ 東京 😀` });
      expect(listed.find((v) => v.id === orphan)).toMatchObject({ color: 'blue', type: 'scooter' });
      // Positions survive the text round trip to the last bit.
      expect(listed.find((v) => v.id === odd.id)).toMatchObject({ lat: 40.712812345678901, long: -74.00600000000001 });
      expect(bareListed).toMatchObject({ lat: null, long: null });
    });

    it('gives a null cursor when the last page is exactly full', async () => {
      await addMany(20);
      const first = await listVehicles(t.db.orm, { city: 'new york', limit: 10 });
      const second = await listVehicles(t.db.orm, { city: 'new york', limit: 10, cursor: first.nextCursor! });
      expect(second.items).toHaveLength(10);
      expect(second.nextCursor).toBeNull();
    });

    it('returns an empty last page for a cursor past the end', async () => {
      await addMany(2);
      const page = await listVehicles(t.db.orm, { city: 'new york', cursor: 'ffffffff-ffff-4fff-bfff-ffffffffffff' });
      expect(page).toEqual({ items: [], nextCursor: null });
      expect(await listVehicles(t.db.orm, { city: 'rome' })).toEqual({ items: [], nextCursor: null });
    });

    it('clamps the page size between 1 and MAX_PAGE_SIZE', async () => {
      await addMany(3);
      expect((await listVehicles(t.db.orm, { city: 'new york', limit: 0 })).items).toHaveLength(1);
      expect((await listVehicles(t.db.orm, { city: 'new york', limit: -5 })).items).toHaveLength(1);
      expect((await listVehicles(t.db.orm, { city: 'new york' })).items).toHaveLength(3);
      expect(MAX_PAGE_SIZE).toBe(100);
    });

    it('treats a fractional, infinite or NaN page size sensibly instead of failing or hiding vehicles', async () => {
      await addMany(3);
      const fractional = await listVehicles(t.db.orm, { city: 'new york', limit: 2.5 });
      expect(fractional.items).toHaveLength(2);
      expect(fractional.nextCursor).not.toBeNull();
      expect((await listVehicles(t.db.orm, { city: 'new york', limit: Number.NaN })).items).toHaveLength(3);
      expect((await listVehicles(t.db.orm, { city: 'new york', limit: Number.POSITIVE_INFINITY })).items).toHaveLength(3);
    });

    it('filters by type and status', async () => {
      const bikes = await addMany(3, owner, 'bike');
      const scooters = await addMany(2, owner, 'scooter');
      await t.db.orm.update(vehicles).set({ status: 'lost' }).where(eq(vehicles.id, scooters[0]!.id));
      const ids = (page: { items: Vehicle[] }) => page.items.map((v) => v.id).sort();

      expect(ids(await listVehicles(t.db.orm, { city: 'new york', type: 'bike' }))).toEqual(bikes.map((v) => v.id).sort());
      expect(ids(await listVehicles(t.db.orm, { city: 'new york', type: 'scooter' }))).toEqual([scooters[1]!.id]);
      expect(ids(await listVehicles(t.db.orm, { city: 'new york', type: 'scooter', status: 'available' }))).toEqual([scooters[1]!.id]);
      expect(ids(await listVehicles(t.db.orm, { city: 'new york', type: 'skateboard' }))).toEqual([]);
    });

    it('pages through a filtered list', async () => {
      const bikes = await addMany(7, owner, 'bike');
      await addMany(6, owner, 'skateboard');
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listVehicles(t.db.orm, { city: 'new york', type: 'bike', limit: 3, cursor });
        seen.push(...page.items.map((v) => v.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(bikes.map((v) => v.id).sort());
    });

    it('never lists lost or retired vehicles to riders, whatever the status asked for', async () => {
      const [kept, retired, lost] = await addMany(3);
      await retireVehicle(t.db, owner, 'new york', retired!.id);
      await t.db.orm.update(vehicles).set({ status: 'lost' }).where(eq(vehicles.id, lost!.id));
      expect((await listVehicles(t.db.orm, { city: 'new york' })).items.map((v) => v.id)).toEqual([kept!.id]);
      expect((await listVehicles(t.db.orm, { city: 'new york', status: 'retired' })).items).toEqual([]);
      expect((await listVehicles(t.db.orm, { city: 'new york', status: 'lost' })).items).toEqual([]);
      expect((await listVehicles(t.db.orm, { city: 'new york', status: 'lost', cursor: '00000000-0000-4000-8000-000000000000' })).items).toEqual([]);
      expect((await countVehiclesByCity(t.db.orm)).get('new york')).toBe(1);
    });

    it('lists a vehicle with a NULL status (workload data) as not retired', async () => {
      const [vehicle] = await addMany(1);
      await t.db.orm.update(vehicles).set({ status: null }).where(eq(vehicles.id, vehicle!.id));
      expect((await listVehicles(t.db.orm, { city: 'new york' })).items.map((v) => v.id)).toEqual([vehicle!.id]);
      expect((await countVehiclesByCity(t.db.orm)).get('new york')).toBe(1);
    });

    it('refuses a malformed cursor', async () => {
      await addMany(1);
      for (const cursor of ['', 'nonsense', '1; DROP TABLE vehicles', '00000000-0000-4000-8000-00000000000z']) {
        const error = await expectError(listVehicles(t.db.orm, { city: 'new york', cursor }), ValidationError);
        expect(error.fields.map((f) => f.path)).toEqual(['cursor']);
      }
    });
  });

  describe('getVehicle', () => {
    it('says not found for an unknown id, a malformed id or the wrong city', async () => {
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Here' }, TEST_CITIES);
      await expectError(getVehicle(t.db.orm, 'new york', UNKNOWN_ID), NotFoundError, 'vehicle_not_found');
      await expectError(getVehicle(t.db.orm, 'new york', 'not-a-uuid'), NotFoundError, 'vehicle_not_found');
      await expectError(getVehicle(t.db.orm, 'new york', ''), NotFoundError, 'vehicle_not_found');
      await expectError(getVehicle(t.db.orm, 'boston', vehicle.id), NotFoundError, 'vehicle_not_found');
    });

    it('accepts an upper-case id', async () => {
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Here' }, TEST_CITIES);
      expect((await getVehicle(t.db.orm, 'new york', vehicle.id.toUpperCase())).id).toBe(vehicle.id);
    });
  });

  describe('retireVehicle', () => {
    it('retires the owner’s vehicle', async () => {
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Here' }, TEST_CITIES);
      const retired = await retireVehicle(t.db, owner, 'new york', vehicle.id);
      expect(retired).toEqual({ ...vehicle, status: 'retired' });
      expect((await getVehicle(t.db.orm, 'new york', vehicle.id)).status).toBe('retired');
    });

    it('refuses anyone but the owner and changes nothing', async () => {
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Here' }, TEST_CITIES);
      const before = await snapshot(t.db);
      const error = await expectError(retireVehicle(t.db, otherOwner, 'new york', vehicle.id), ForbiddenError, 'not_vehicle_owner');
      expect(error.kind).toBe('forbidden');
      // Same id, a user of another city.
      await expectError(retireVehicle(t.db, { city: 'boston', id: owner.id }, 'new york', vehicle.id), ForbiddenError, 'not_vehicle_owner');
      await expectError(retireVehicle(t.db, bostonOwner, 'new york', vehicle.id), ForbiddenError, 'not_vehicle_owner');
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('says not found for an unknown vehicle', async () => {
      const before = await snapshot(t.db);
      await expectError(retireVehicle(t.db, owner, 'new york', UNKNOWN_ID), NotFoundError, 'vehicle_not_found');
      await expectError(retireVehicle(t.db, owner, 'new york', 'garbage'), NotFoundError, 'vehicle_not_found');
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('refuses while the vehicle is out on a ride, and allows it once the ride has ended', async () => {
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Here' }, TEST_CITIES);
      const ride = await startRide(t.db, rider, vehicle);
      const before = await snapshot(t.db);
      await expectError(retireVehicle(t.db, owner, 'new york', vehicle.id), ConflictError, 'vehicle_in_use');
      expect(await snapshot(t.db)).toEqual(before);
      await endRide(t.db, rider, ride, 'There', { priceList: DEFAULT_PRICE_LIST });
      expect((await retireVehicle(t.db, owner, 'new york', vehicle.id)).status).toBe('retired');
    });

    it('refuses a vehicle marked in use even without an open ride (workload data)', async () => {
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Here' }, TEST_CITIES);
      await t.db.orm.update(vehicles).set({ status: 'in_use' }).where(eq(vehicles.id, vehicle.id));
      await expectError(retireVehicle(t.db, owner, 'new york', vehicle.id), ConflictError, 'vehicle_in_use');
      expect((await getVehicle(t.db.orm, 'new york', vehicle.id)).status).toBe('in_use');
    });

    it('refuses to retire a vehicle twice', async () => {
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Here' }, TEST_CITIES);
      await retireVehicle(t.db, owner, 'new york', vehicle.id);
      const before = await snapshot(t.db);
      await expectError(retireVehicle(t.db, owner, 'new york', vehicle.id), ConflictError, 'vehicle_retired');
      expect(await snapshot(t.db)).toEqual(before);
    });

    it('makes a retired vehicle impossible to ride', async () => {
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'Here' }, TEST_CITIES);
      await retireVehicle(t.db, owner, 'new york', vehicle.id);
      await expectError(startRide(t.db, rider, vehicle), ConflictError, 'vehicle_unavailable');
    });
  });

  describe('listOwnedVehicles', () => {
    it('lists the owner’s vehicles in id order, retired ones included, a page at a time', async () => {
      const first = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'A' }, { ...TEST_CITIES, now: new Date('2025-01-01T00:00:00Z') });
      const second = await addVehicle(t.db, owner, { type: 'scooter', color: 'red', location: 'B' }, { ...TEST_CITIES, now: new Date('2025-02-01T00:00:00Z') });
      const third = await addVehicle(t.db, owner, { type: 'skateboard', color: 'red', location: 'C' }, { ...TEST_CITIES, now: new Date('2025-03-01T00:00:00Z') });
      await addVehicle(t.db, otherOwner, { type: 'bike', color: 'red', location: 'D' }, TEST_CITIES);
      await retireVehicle(t.db, owner, 'new york', second.id);
      const expected = [
        [first.id, 'available'],
        [second.id, 'retired'],
        [third.id, 'available'],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
      const owned = await listOwnedVehicles(t.db.orm, owner);
      expect(owned.items.map((v) => [v.id, v.status])).toEqual(expected);
      expect(owned.nextCursor).toBeNull();
      const page1 = await listOwnedVehicles(t.db.orm, owner, { limit: 2 });
      expect(page1.items.map((v) => v.id)).toEqual(expected.slice(0, 2).map(([id]) => id));
      const page2 = await listOwnedVehicles(t.db.orm, owner, { limit: 2, cursor: page1.nextCursor ?? '' });
      expect(page2).toEqual({ items: [expect.objectContaining({ id: expected[2]![0] })], nextCursor: null });
      await expectError(listOwnedVehicles(t.db.orm, owner, { cursor: 'not-an-id' }), ValidationError);
      expect(await countOwnedVehicles(t.db.orm, owner)).toEqual({ active: 2, retired: 1 });
      expect(await listOwnedVehicles(t.db.orm, rider)).toEqual({ items: [], nextCursor: null });
      expect(await listOwnedVehicles(t.db.orm, { city: 'boston', id: owner.id })).toEqual({ items: [], nextCursor: null });
    });

    it(`refuses an owner’s vehicle beyond MAX_VEHICLES_PER_OWNER (${MAX_VEHICLES_PER_OWNER}) in service; retired ones do not count`, async () => {
      await t.db.orm.insert(vehicles).values(
        Array.from({ length: MAX_VEHICLES_PER_OWNER }, () => ({ id: randomUUID(), city: 'new york', ownerId: owner.id, type: 'bike', status: 'available', currentLocation: 'X' })),
      );
      const before = await snapshot(t.db);
      const error = await expectError(addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'A' }, TEST_CITIES), ConflictError, 'vehicle_limit_reached');
      expect(error.message).toContain(String(MAX_VEHICLES_PER_OWNER));
      expect(await snapshot(t.db)).toEqual(before);
      const [one] = (await listOwnedVehicles(t.db.orm, owner, { limit: 1 })).items;
      await retireVehicle(t.db, owner, 'new york', one!.id);
      await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'A' }, TEST_CITIES);
    });
  });

  describe('countVehiclesByCity', () => {
    it('counts each city’s vehicles, retired ones excluded', async () => {
      const vehicle = await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'A' }, TEST_CITIES);
      await addVehicle(t.db, owner, { type: 'bike', color: 'red', location: 'B' }, TEST_CITIES);
      await addVehicle(t.db, otherOwner, { type: 'bike', color: 'red', location: 'C' }, TEST_CITIES);
      await addVehicle(t.db, bostonOwner, { type: 'bike', color: 'red', location: 'D' }, TEST_CITIES);
      const retired = await addVehicle(t.db, bostonOwner, { type: 'bike', color: 'red', location: 'E' }, TEST_CITIES);
      await retireVehicle(t.db, bostonOwner, 'boston', retired.id);
      await startRide(t.db, rider, vehicle); // in use still counts

      const counts = await countVehiclesByCity(t.db.orm);
      expect(Object.fromEntries(counts)).toEqual({ 'new york': 3, boston: 1 });
      expect(typeof counts.get('new york')).toBe('number');
    });

    it('omits cities whose vehicles are all retired', async () => {
      const vehicle = await addVehicle(t.db, bostonOwner, { type: 'bike', color: 'red', location: 'A' }, TEST_CITIES);
      await retireVehicle(t.db, bostonOwner, 'boston', vehicle.id);
      expect((await countVehiclesByCity(t.db.orm)).size).toBe(0);
    });
  });
});
