// The open ride, its receipt, recording locations, ending a ride and the rider's history,
// through app.inject() on both databases.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rides } from '../../../src/db/schema.ts';
import { addPromoCode } from '../../../src/movr/promo-codes.ts';
import type { User } from '../../../src/movr/users.ts';
import { buildTestApp, logInAsRoutes } from '../../support/app.ts';
import { createRide, createUser, createVehicle, insertPromoCode } from '../../support/factories.ts';
import { queryOne, snapshot } from '../../support/snapshot.ts';
import { describeEachDatabase } from '../../support/databases.ts';
import { Browser } from '../helpers.ts';
import { XSS, XSS_ESCAPED, decodeEntities, flashesOf, follow, locationOf, logInAs, timesOf } from './riding-helpers.ts';

const MINUTE = 60_000;

/** The hrefs of the rides listed on a My rides page, in page order. */
function rideHrefsOf(html: string): string[] {
  return [...html.matchAll(/data-ride-href="([^"]+)"/g)].map((m) => m[1] ?? '');
}

function nextOf(html: string): string | undefined {
  return /<a [^>]*href="([^"]+)"[^>]*rel="next"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
}

/** The text of a receipt figure (data-field="…"). */
function figure(html: string, field: string): string | undefined {
  const match = new RegExp(`data-field="${field}">([^<]*)<`).exec(html);
  return match?.[1] ? decodeEntities(match[1]) : undefined;
}

describeEachDatabase(
  'ride pages',
  (t) => {
    let app: FastifyInstance;
    let rider: User;
    let other: User;

    beforeAll(async () => {
      app = await buildTestApp(t.db, { routes: logInAsRoutes });
      [rider, other] = await Promise.all([createUser(t.db, { city: 'boston', name: 'Bea Rider', address: null }), createUser(t.db, { city: 'boston', name: 'Otto Other', address: null })]);
    });
    afterAll(async () => {
      await app?.close();
    });
    beforeEach(async () => {
      for (const table of ['ride_receipts', 'vehicle_location_histories', 'user_promo_codes', 'promo_codes', 'rides', 'vehicles']) {
        await t.db.execute(`DELETE FROM ${table}`);
      }
    });

    async function openRide(user: User, options: { minutesAgo?: number; type?: string; location?: string; color?: string } = {}) {
      const ride = await createRide(t.db, user, {
        now: new Date(Date.now() - (options.minutesAgo ?? 0) * MINUTE),
        vehicle: { city: 'boston', type: options.type ?? 'bike', color: options.color ?? 'green', location: options.location ?? '1 Beacon St' },
      });
      return { vehicle: ride.vehicleId ?? '', ride, path: `/rides/boston/${ride.id}` };
    }

    describe('the open ride', () => {
      it('shows the vehicle, where and when it started, the elapsed time and the forms', async () => {
        const { path, ride } = await openRide(rider, { minutesAgo: 12.5, type: 'scooter', color: 'yellow', location: '9 Tremont St' });
        const { browser } = await logInAs(app, rider);
        const response = await browser.get(path);
        expect(response.statusCode).toBe(200);
        const html = response.body;
        expect(html).toContain('<h1>Your ride</h1>');
        expect(html).toContain('Yellow scooter');
        expect(html).toContain('9 Tremont St');
        expect(timesOf(html)).toContain(ride.startTime?.toISOString().replace(/\.\d{3}Z$/, 'Z'));
        expect(html).toMatch(/<time class="ride-elapsed" datetime="PT12M">12 min<\/time>/);
        // Fare so far: $1.00 + 13 × $0.39.
        expect(html).toContain('$6.07');
        expect(html).toContain(`action="${path}/locations"`);
        expect(html).toContain(`action="${path}/end"`);
        expect(html).toContain('name="endAddress"');
        expect(html).toContain('0 points');
        expect((html.match(/name="_csrf" value="[^"]{20,}"/g) ?? []).length).toBeGreaterThanOrEqual(3);
        expect(html).toMatch(/<a href="\/rides" aria-current="page">My rides<\/a>/);
      });

      it('is a 404 for anyone but its rider, for malformed ids and unknown cities', async () => {
        const { ride, path } = await openRide(rider);
        const { browser } = await logInAs(app, other);
        for (const url of [
          path,
          '/rides/boston/not-a-uuid',
          `/rides/boston/${randomUUID()}`,
          `/rides/paris/${ride.id}`,
          `/rides/atlantis/${ride.id}`,
        ]) {
          const response = await browser.get(url);
          expect(response.statusCode, url).toBe(404);
          expect(response.body, url).toContain('We can’t find that page');
          expect(response.body, url).not.toContain('1 Beacon St');
        }
      });

      it('sends visitors to the log-in page, to come back afterwards', async () => {
        const { path } = await openRide(rider);
        const response = await app.inject({ url: path });
        expect(response.statusCode).toBe(303);
        expect(locationOf(response)).toBe(`/login?next=${encodeURIComponent(path)}`);
      });
    });

    describe('recording locations', () => {
      it('records a point and lists it', async () => {
        const { path, ride } = await openRide(rider);
        const { browser, csrf } = await logInAs(app, rider);
        const response = await browser.postForm(`${path}/locations`, { _csrf: csrf, lat: '42.3601', long: '-71.0589' });
        expect(locationOf(response)).toBe(path);
        const page = await follow(browser, response);
        expect(flashesOf(page.body)).toEqual(['Location recorded.']);
        expect(page.body).toContain('1 point');
        expect(page.body).toContain('42.36010');
        expect(page.body).toContain('-71.05890');
        const row = await queryOne(t.db, 'SELECT lat, long FROM vehicle_location_histories WHERE ride_id = $1', [ride.id]);
        expect(row).toEqual({ lat: 42.3601, long: -71.0589 });
      });

      it('re-renders the ride with field messages and the typed values for invalid coordinates', async () => {
        const { path } = await openRide(rider);
        const { browser, csrf } = await logInAs(app, rider);
        const before = await snapshot(t.db);
        for (const [lat, long, message] of [
          ['', '10', 'Enter the latitude.'],
          ['abc', '10', 'Enter the latitude as a number of degrees'],
          ['91', '10', 'Latitude must be between -90 and 90.'],
          ['10', '-181', 'Longitude must be between -180 and 180.'],
        ] as const) {
          const response = await browser.postForm(`${path}/locations`, { _csrf: csrf, lat, long });
          expect(response.statusCode, `${lat},${long}`).toBe(400);
          expect(response.body).toContain(message);
          expect(response.body).toContain(`id="field-lat" name="lat" type="text" value="${lat}"`);
          expect(response.body).toContain('aria-invalid="true"');
        }
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('refuses other riders (404), forms without the CSRF token (403) and ended rides', async () => {
        const { path } = await openRide(rider);
        const intruder = await logInAs(app, other);
        const owner = await logInAs(app, rider);
        const before = await snapshot(t.db);
        expect((await intruder.browser.postForm(`${path}/locations`, { _csrf: intruder.csrf, lat: '1', long: '1' })).statusCode).toBe(404);
        expect((await owner.browser.postForm(`${path}/locations`, { lat: '1', long: '1' })).statusCode).toBe(403);
        expect(await snapshot(t.db)).toEqual(before);
        await follow(owner.browser, await owner.browser.postForm(`${path}/end`, { _csrf: owner.csrf, endAddress: '2 State St' }));
        const late = await owner.browser.postForm(`${path}/locations`, { _csrf: owner.csrf, lat: '1', long: '1' });
        expect(locationOf(late)).toBe(path);
        expect(flashesOf((await follow(owner.browser, late)).body)).toEqual(['This ride has already ended.']);
      });
    });

    describe('ending a ride', () => {
      it('an empty address re-renders the page with a field message, and the ride stays open', async () => {
        const { path, ride } = await openRide(rider);
        const { browser, csrf } = await logInAs(app, rider);
        const before = await snapshot(t.db);
        for (const endAddress of ['', '   ']) {
          const response = await browser.postForm(`${path}/end`, { _csrf: csrf, endAddress });
          expect(response.statusCode).toBe(400);
          expect(response.body).toContain('<h1>Your ride</h1>');
          expect(response.body).toContain('There is a problem');
          expect(response.body).toContain('Enter where you left the vehicle.');
          expect(response.body).toContain(`value="${endAddress}"`);
        }
        const tooLong = 'x'.repeat(201);
        const response = await browser.postForm(`${path}/end`, { _csrf: csrf, endAddress: tooLong });
        expect(response.statusCode).toBe(400);
        expect(response.body).toContain('Use at most 200 characters.');
        expect(response.body).toContain(`value="${tooLong}"`);
        expect(await snapshot(t.db)).toEqual(before);
        expect((await queryOne(t.db, 'SELECT end_time FROM rides WHERE id = $1', [ride.id]))?.end_time).toBeNull();
      });

      it('charges the fare with the best promo code and shows the receipt', async () => {
        await insertPromoCode(t.db, 'SPRING25', { description: 'Spring', percent: '25%' });
        await addPromoCode(t.db, rider, 'SPRING25');
        // A 12 min 30 s bike ride: 13 minutes, $1.00 + 13 × $0.15 = $2.95; 25% off $0.74; $2.21.
        const { path, ride, vehicle } = await openRide(rider, { minutesAgo: 12.5, type: 'bike' });
        const { browser, csrf } = await logInAs(app, rider);
        const response = await browser.postForm(`${path}/end`, { _csrf: csrf, endAddress: '  100 Cambridge St  ' });
        expect(response.statusCode).toBe(303);
        expect(locationOf(response)).toBe(path);
        const row = await queryOne(t.db, 'SELECT end_address, revenue::text AS revenue, end_time FROM rides WHERE id = $1', [ride.id]);
        expect(row).toMatchObject({ end_address: '100 Cambridge St', revenue: '2.21' });
        expect(row?.end_time).not.toBeNull();
        const vehicleRow = await queryOne(t.db, 'SELECT status, current_location FROM vehicles WHERE id = $1', [vehicle]);
        expect(vehicleRow).toEqual({ status: 'available', current_location: '100 Cambridge St' });

        const page = await follow(browser, response);
        expect(page.statusCode).toBe(200);
        expect(flashesOf(page.body)).toEqual(['Ride ended. Thanks for riding with MovR! You paid $2.21.']);
        const html = page.body;
        expect(html).toContain('<h1>Ride receipt</h1>');
        expect(html).toContain('1 Beacon St');
        expect(html).toContain('100 Cambridge St');
        expect(timesOf(html).length).toBeGreaterThanOrEqual(2);
        expect(html).toContain('<time datetime="PT12M">12 min</time>');
        expect(html).toContain('13 min × $0.15/min');
        expect(figure(html, 'unlock')).toBe('$1.00');
        expect(figure(html, 'time')).toBe('$1.95');
        expect(figure(html, 'fare')).toBe('$2.95');
        expect(html).toContain('<code>SPRING25</code>');
        expect(html).toContain('25% off');
        expect(figure(html, 'discount')).toBe('−$0.74');
        expect(figure(html, 'total')).toBe('$2.21');
        // No forms on a receipt.
        expect(html).not.toContain('name="endAddress"');
        expect(html).not.toContain('/locations"');
      });

      it('ending twice: the flash says so and the rider lands on the receipt, charged once', async () => {
        const { path, ride } = await openRide(rider, { minutesAgo: 3 });
        const { browser, csrf } = await logInAs(app, rider);
        await follow(browser, await browser.postForm(`${path}/end`, { _csrf: csrf, endAddress: 'First Place' }));
        const before = await snapshot(t.db);
        const again = await browser.postForm(`${path}/end`, { _csrf: csrf, endAddress: 'Second Place' });
        expect(again.statusCode).toBe(303);
        expect(locationOf(again)).toBe(path);
        const page = await follow(browser, again);
        expect(flashesOf(page.body)).toEqual(['This ride has already ended. Here is its receipt.']);
        expect(page.body).toContain('First Place');
        expect(page.body).not.toContain('Second Place');
        expect(await snapshot(t.db)).toEqual(before);
        expect((await queryOne(t.db, 'SELECT count(*)::int AS n FROM ride_receipts WHERE ride_id = $1', [ride.id]))?.n).toBe(1);
      });

      it('two concurrent ends of one ride: one receipt, both riders land on it', async () => {
        const { path, ride } = await openRide(rider, { minutesAgo: 3 });
        const [a, b] = await Promise.all([logInAs(app, rider), logInAs(app, rider)]);
        const responses = await Promise.all([
          a.browser.postForm(`${path}/end`, { _csrf: a.csrf, endAddress: 'Here' }),
          b.browser.postForm(`${path}/end`, { _csrf: b.csrf, endAddress: 'There' }),
        ]);
        expect(responses.map((r) => [r.statusCode, locationOf(r)])).toEqual([
          [303, path],
          [303, path],
        ]);
        expect((await queryOne(t.db, 'SELECT count(*)::int AS n FROM ride_receipts WHERE ride_id = $1', [ride.id]))?.n).toBe(1);
      });

      it('ending another rider’s ride is a 404 and changes nothing; so is a missing CSRF token (403)', async () => {
        const { path } = await openRide(rider);
        const intruder = await logInAs(app, other);
        const owner = await logInAs(app, rider);
        const before = await snapshot(t.db);
        const forged = await intruder.browser.postForm(`${path}/end`, { _csrf: intruder.csrf, endAddress: 'Stolen' });
        expect(forged.statusCode).toBe(404);
        expect(forged.body).toContain('We can’t find that page');
        const empty = await intruder.browser.postForm(`${path}/end`, { _csrf: intruder.csrf, endAddress: '' });
        expect(empty.statusCode).toBe(404);
        for (const fields of [{ endAddress: 'No token' }, { _csrf: 'wrong', endAddress: 'Bad token' }] as Record<string, string>[]) {
          const response = await owner.browser.postForm(`${path}/end`, fields);
          expect(response.statusCode).toBe(403);
        }
        for (const url of ['/rides/boston/not-a-uuid/end', `/rides/boston/${randomUUID()}/end`, `/rides/atlantis/${randomUUID()}/end`]) {
          expect((await owner.browser.postForm(url, { _csrf: owner.csrf, endAddress: 'X' })).statusCode, url).toBe(404);
        }
        const visitor = await app.inject({ method: 'POST', url: `${path}/end`, payload: { endAddress: 'X' } });
        expect(visitor.statusCode).toBe(403);
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('renders an end address with markup in it as text, on the receipt and in My rides', async () => {
        const { path } = await openRide(rider, { location: XSS });
        const { browser, csrf } = await logInAs(app, rider);
        const invalid = await browser.postForm(`${path}/end`, { _csrf: csrf, endAddress: `${XSS}${'y'.repeat(200)}` });
        expect(invalid.statusCode).toBe(400);
        expect(invalid.body).not.toContain(XSS);
        await browser.postForm(`${path}/end`, { _csrf: csrf, endAddress: XSS });
        for (const url of [path, '/rides']) {
          const page = await browser.get(url);
          expect(page.statusCode).toBe(200);
          expect(page.body, url).not.toContain(XSS);
          expect(page.body, url).toContain(XSS_ESCAPED);
        }
      });

      it('a ride without a receipt (generated data) shows just what was paid', async () => {
        const vehicle = await createVehicle(t.db, { city: 'boston' });
        const id = randomUUID();
        await t.db.orm.insert(rides).values({
          id,
          city: 'boston',
          vehicleCity: 'boston',
          riderId: rider.id,
          vehicleId: vehicle,
          startAddress: 'Old Start',
          endAddress: 'Old End',
          startTime: new Date('2024-03-01T10:00:00Z'),
          endTime: new Date('2024-03-01T10:25:00Z'),
          revenue: '7.50',
        });
        const { browser } = await logInAs(app, rider);
        const page = await browser.get(`/rides/boston/${id}`);
        expect(page.statusCode).toBe(200);
        expect(figure(page.body, 'total')).toBe('$7.50');
        expect(figure(page.body, 'fare')).toBeUndefined();
        // Shown in Boston time, with its abbreviation.
        expect(page.body).toContain('1 Mar 2024, 05:00 EST');
        expect(page.body).toContain('25 min');
      });
    });

    describe('GET /rides', () => {
      it('lists the rider’s rides newest first, page by page, each once, with the open ride highlighted on top', async () => {
        const vehicle = await createVehicle(t.db, { city: 'boston', type: 'skateboard' });
        const base = Date.parse('2025-01-01T08:00:00Z');
        const ended = Array.from({ length: 45 }, (_, i) => ({
          id: randomUUID(),
          city: 'boston',
          vehicleCity: 'boston',
          riderId: rider.id,
          vehicleId: vehicle,
          startAddress: `Start ${i}`,
          endAddress: `End ${i}`,
          // Two rides share each start time, so the id breaks ties.
          startTime: new Date(base + Math.floor(i / 2) * 60 * MINUTE),
          endTime: new Date(base + Math.floor(i / 2) * 60 * MINUTE + 10 * MINUTE),
          revenue: '1.50',
        }));
        await t.db.orm.insert(rides).values(ended);
        // Someone else's ride is never listed.
        await t.db.orm.insert(rides).values({ ...ended[0]!, id: randomUUID(), riderId: other.id, startAddress: 'Not mine' });
        const { path: openPath } = await openRide(rider, { minutesAgo: 5 });

        const { browser } = await logInAs(app, rider);
        const seen: string[] = [];
        let url: string | undefined = '/rides';
        let pages = 0;
        let first = '';
        while (url) {
          const page = await browser.get(url);
          expect(page.statusCode, url).toBe(200);
          if (pages === 0) first = page.body;
          expect(page.body).toContain('Ride in progress');
          expect(page.body).toContain(`class="button" href="${openPath}"`);
          expect(page.body).not.toContain('Not mine');
          seen.push(...rideHrefsOf(page.body));
          url = nextOf(page.body);
          pages++;
          expect(pages).toBeLessThan(10);
        }
        expect(pages).toBe(3);
        expect(seen).toHaveLength(46);
        expect(new Set(seen).size).toBe(46);
        // Newest first: the open ride, then the ended ones by start time, then id, descending.
        const expected = [...ended]
          .sort((a, b) => b.startTime.getTime() - a.startTime.getTime() || (a.id < b.id ? 1 : -1))
          .map((ride) => `/rides/boston/${ride.id}`);
        expect(seen).toEqual([openPath, ...expected]);
        // The open ride's row is highlighted and says "In progress" with a link.
        const openRow = first.slice(first.indexOf('<tr class="table__row--highlight"'));
        expect(openRow.slice(0, openRow.indexOf('</tr>'))).toContain(`<a class="in-progress-link" href="${openPath}">In progress</a>`);
        expect(first.match(/table__row--highlight/g)).toHaveLength(1);
        // An ended row: icon, addresses, times, duration and fare.
        const row = first.slice(first.indexOf(`data-ride-href="${expected[0]}"`));
        const cells = row.slice(0, row.indexOf('</tr>'));
        expect(cells).toContain('vehicle-icon--skateboard');
        expect(cells).toContain('Start 44');
        expect(cells).toContain('End 44');
        expect(cells).toContain('2 Jan 2025, 01:00 EST');
        expect(cells).toContain('2 Jan 2025, 01:10 EST');
        expect(cells).toContain('10 min');
        expect(cells).toContain('$1.50');
      });

      it('shows a first-time rider where to find a vehicle, and refuses a forged page link', async () => {
        const { browser } = await logInAs(app, other);
        const page = await browser.get('/rides');
        expect(page.statusCode).toBe(200);
        expect(page.body).toContain('You have not taken a ride yet.');
        expect(page.body).toContain('href="/cities/boston/vehicles"');
        const forged = await browser.get('/rides?cursor=garbage');
        expect(forged.statusCode).toBe(400);
        expect(forged.body).toContain('That page link is not valid.');
      });

      it('sends visitors to the log-in page', async () => {
        const response = await new Browser(app).get('/rides');
        expect(response.statusCode).toBe(303);
        expect(locationOf(response)).toBe('/login?next=%2Frides');
      });
    });
  },
  { open: { poolSize: 20 } },
);
