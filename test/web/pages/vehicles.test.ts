// The city vehicle list and starting a ride, through app.inject() on both databases: deep links,
// filters, keyset pages, who sees the start button, starting a ride, the concurrent double start,
// and the refusals (CSRF, anonymous, malformed ids, other cities).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rides, vehicles } from '../../../src/db/schema.ts';
import { startRide } from '../../../src/movr/rides.ts';
import { getVehicle } from '../../../src/movr/vehicles.ts';
import { LOGIN_NEEDED_MESSAGE } from '../../../src/web/plugins/auth.ts';
import type { User } from '../../../src/movr/users.ts';
import { buildTestApp, logInAsRoutes } from '../../support/app.ts';
import { createUser, createVehicle, vehicleRow } from '../../support/factories.ts';
import { countRows, queryOne, snapshot } from '../../support/snapshot.ts';
import { describeEachDatabase } from '../../support/databases.ts';
import { Browser } from '../helpers.ts';
import {
  XSS,
  XSS_ESCAPED,
  csrfTokenFor,
  decodeEntities,
  flashesOf,
  follow,
  locationOf,
  logInAs,
  nextHrefOf,
  vehicleIdsOf,
} from './riding-helpers.ts';

/** "Start ride" links to the vehicle's confirmation page (the price, then the POST form). */
const START_FORM = /<a class="button button--small" href="\/cities\/[^"]+\/vehicles\/([0-9a-f-]{36})\/start">/g;

function startFormIds(html: string): string[] {
  return [...html.matchAll(START_FORM)].map((m) => m[1] ?? '');
}

async function emptyRidesAndVehicles(t: { db: { execute(sql: string): Promise<unknown> } }) {
  for (const table of ['ride_receipts', 'vehicle_location_histories', 'rides', 'vehicles']) await t.db.execute(`DELETE FROM ${table}`);
}

describeEachDatabase(
  'vehicle list and starting rides',
  (t) => {
    let app: FastifyInstance;
    let owner: User;
    let nyRider: User;
    let nyRider2: User;
    let parisRider: User;

    beforeAll(async () => {
      app = await buildTestApp(t.db, { routes: logInAsRoutes });
      [owner, nyRider, nyRider2, parisRider] = await Promise.all([
        createUser(t.db, { city: 'new york', name: 'Olga Owner', address: null }),
        createUser(t.db, { city: 'new york', name: 'Nina Rider', address: null }),
        createUser(t.db, { city: 'new york', name: 'Ned Rider', address: null }),
        createUser(t.db, { city: 'paris', name: 'Paul Rider', address: null }),
      ]);
    });
    afterAll(async () => {
      await app?.close();
    });
    beforeEach(async () => {
      await emptyRidesAndVehicles(t);
    });

    describe('GET /cities/:city/vehicles', () => {
      it('works as a deep link, with no earlier visit, and lists what each vehicle is', async () => {
        const bike = await createVehicle(t.db, {
          type: 'bike',
          color: 'blue',
          brand: 'Brompton',
          ownerId: owner.id,
          location: '12 Broadway',
        });
        const scooter = await createVehicle(t.db, { type: 'scooter', status: 'in_use', color: 'red', location: '5 Wall St' });
        const response = await app.inject({ url: '/cities/new%20york/vehicles', headers: { accept: 'text/html' } });
        expect(response.statusCode).toBe(200);
        expect(response.headers['content-type']).toContain('text/html');
        const html = response.body;
        expect(html).toContain('<h1>Vehicles in New York</h1>');
        expect(vehicleIdsOf(html).sort()).toEqual([bike, scooter].sort());
        const bikeRow = html.slice(html.indexOf(`data-vehicle-id="${bike}"`), html.indexOf('</tr>', html.indexOf(`data-vehicle-id="${bike}"`)));
        expect(bikeRow).toContain('vehicle-icon--bike');
        expect(bikeRow).toContain('Bike');
        expect(bikeRow).toContain('Blue');
        expect(bikeRow).toContain('Brompton');
        expect(bikeRow).toContain('status-badge--available');
        expect(bikeRow).toContain('12 Broadway');
        expect(bikeRow).toContain('Olga Owner');
        const scooterRow = html.slice(html.indexOf(`data-vehicle-id="${scooter}"`));
        expect(scooterRow.slice(0, scooterRow.indexOf('</tr>'))).toContain('status-badge--in_use');
        // No owner: a dash.
        expect(scooterRow.slice(0, scooterRow.indexOf('</tr>'))).toMatch(/data-label="Owner">—</);
        // A link to the city list, and the city nav item is current.
        expect(html).toContain('href="/">All cities</a>');
        expect(html).toMatch(/<a href="\/" aria-current="page">Cities<\/a>/);
      });

      it('answers an unknown city with the friendly 404 page, never a 500', async () => {
        for (const url of ['/cities/atlantis/vehicles', '/cities/%3Cscript%3E/vehicles', '/cities/%E0%A4%A/vehicles']) {
          const response = await app.inject({ url, headers: { accept: 'text/html' } });
          expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
          expect(response.statusCode, url).toBeLessThan(500);
          expect(response.body).not.toContain('<script>');
        }
        const response = await app.inject({ url: '/cities/atlantis/vehicles', headers: { accept: 'text/html' } });
        expect(response.statusCode).toBe(404);
        expect(response.body).toContain('We can’t find that page');
      });

      it('redirects a differently written city name to the canonical address, filters kept', async () => {
        const response = await app.inject({ url: '/cities/New%20York/vehicles?type=bike' });
        expect(response.statusCode).toBe(301);
        expect(locationOf(response)).toBe('/cities/new%20york/vehicles?type=bike');
      });

      it('shows an empty city as such', async () => {
        const response = await app.inject({ url: '/cities/rome/vehicles' });
        expect(response.statusCode).toBe(200);
        expect(response.body).toContain('There are no vehicles in Rome yet.');
      });

      it('renders a vehicle location with markup in it as text', async () => {
        await createVehicle(t.db, { location: XSS, brand: XSS });
        const response = await app.inject({ url: '/cities/new%20york/vehicles' });
        expect(response.statusCode).toBe(200);
        expect(response.body).not.toContain(XSS);
        expect(response.body).toContain(XSS_ESCAPED);
      });

      it('filters by type and status, and keeps the chosen values in the form', async () => {
        const ids = {
          availableBike: await createVehicle(t.db, { type: 'bike' }),
          inUseBike: await createVehicle(t.db, { type: 'bike', status: 'in_use' }),
          availableScooter: await createVehicle(t.db, { type: 'scooter' }),
          lostSkateboard: await createVehicle(t.db, { type: 'skateboard', status: 'lost' }),
          retiredBike: await createVehicle(t.db, { type: 'bike', status: 'retired' }),
        };
        const list = async (query: string) => {
          const response = await app.inject({ url: `/cities/new%20york/vehicles${query}` });
          expect(response.statusCode, query).toBe(200);
          return response.body;
        };
        expect(vehicleIdsOf(await list('')).sort()).toEqual(
          [ids.availableBike, ids.inUseBike, ids.availableScooter].sort(),
        );
        const bikes = await list('?type=bike');
        expect(vehicleIdsOf(bikes).sort()).toEqual([ids.availableBike, ids.inUseBike].sort());
        expect(bikes).toContain('<option value="bike" selected>');
        const available = await list('?status=available');
        expect(vehicleIdsOf(available).sort()).toEqual([ids.availableBike, ids.availableScooter].sort());
        expect(available).toContain('<option value="available" selected>');
        const both = await list('?type=bike&status=in_use');
        expect(vehicleIdsOf(both)).toEqual([ids.inUseBike]);
        expect(both).toContain('Clear filters');
        // Empty values (the "All types" option) mean no filter.
        expect(vehicleIdsOf(await list('?type=&status=')).length).toBe(3);
        // Lost and retired vehicles are never offered, even when asked for.
        expect(vehicleIdsOf(await list('?status=lost'))).not.toContain(ids.lostSkateboard);
        expect(await list('?type=skateboard&status=available')).toContain('No vehicles match these filters.');
      });

      it('ignores filter values it does not know, saying so, and never answers 500', async () => {
        await createVehicle(t.db, { type: 'bike' });
        await createVehicle(t.db, { type: 'scooter' });
        const unknownType = await app.inject({ url: '/cities/new%20york/vehicles?type=hoverboard' });
        expect(unknownType.statusCode).toBe(200);
        expect(vehicleIdsOf(unknownType.body)).toHaveLength(2);
        expect(decodeEntities(unknownType.body)).toContain('“hoverboard” is not a vehicle type MovR knows');
        const xssStatus = await app.inject({ url: `/cities/new%20york/vehicles?status=${encodeURIComponent(XSS)}` });
        expect(xssStatus.statusCode).toBe(200);
        expect(xssStatus.body).not.toContain(XSS);
        expect(xssStatus.body).toContain('is not a status you can filter by');
        for (const query of ['?type=bike&type=scooter', `?type=${'x'.repeat(500)}`, '?cursor=not-a-cursor']) {
          const response = await app.inject({ url: `/cities/new%20york/vehicles${query}`, headers: { accept: 'text/html' } });
          expect(response.statusCode, query).toBe(400);
          expect(response.body, query).toContain('That did not work');
        }
      });

      it('walks every page with the Next page link: each vehicle exactly once, filters kept', async () => {
        const all = Array.from({ length: 47 }, (_, i) =>
          vehicleRow(randomUUID(), { city: 'seattle', type: i % 3 === 0 ? 'bike' : 'scooter' }),
        );
        await t.db.orm.insert(vehicles).values(all);
        const walk = async (start: string) => {
          const seen: string[] = [];
          let url: string | undefined = start;
          let pages = 0;
          while (url) {
            const response = await app.inject({ url });
            expect(response.statusCode, url).toBe(200);
            seen.push(...vehicleIdsOf(response.body));
            pages++;
            if (pages > 1) expect(response.body).toContain('First page');
            url = nextHrefOf(response.body);
            if (url) expect(url).toContain('cursor=');
            expect(pages).toBeLessThan(10);
          }
          return { seen, pages };
        };
        const everything = await walk('/cities/seattle/vehicles');
        expect(everything.pages).toBe(3);
        expect(everything.seen).toHaveLength(47);
        expect(new Set(everything.seen)).toEqual(new Set(all.map((v) => v.id)));
        expect(everything.seen).toEqual([...everything.seen].sort());

        const bikes = all.filter((v) => v.type === 'bike').map((v) => v.id);
        const filtered = await walk('/cities/seattle/vehicles?type=scooter');
        expect(filtered.seen).toHaveLength(47 - bikes.length);
        expect(filtered.seen.some((id) => bikes.includes(id))).toBe(false);
        expect(filtered.pages).toBe(2);
      });
    });

    describe('the start ride button', () => {
      it('is offered to logged-in riders of the city on available vehicles only', async () => {
        const available = await createVehicle(t.db, { status: 'available' });
        await createVehicle(t.db, { status: 'in_use' });
        await createVehicle(t.db, { status: 'lost' });
        const rider = await logInAs(app, nyRider);
        const html = (await rider.browser.get('/cities/new%20york/vehicles')).body;
        expect(startFormIds(html)).toEqual([available]);
        expect(html).not.toContain('Log in to ride');
      });

      it('leads to a confirmation step with the unlock fee and the per-minute price, before anything is charged', async () => {
        const vehicle = await createVehicle(t.db, { type: 'bike', location: '7 Elm St' });
        const rider = await logInAs(app, nyRider);
        const page = await rider.browser.get(`/cities/new%20york/vehicles/${vehicle}/start`);
        expect(page.statusCode).toBe(200);
        expect(page.body).toContain('<dd data-field="unlock">$1.00</dd>');
        expect(page.body).toContain('<dd data-field="per-minute">$0.15</dd>');
        // Nothing happened yet: the vehicle is still available, and the form to confirm carries the CSRF token.
        expect((await getVehicle(t.db.orm, 'new york', vehicle)).status).toBe('available');
        const form = page.body.slice(page.body.indexOf(`action="/cities/new%20york/vehicles/${vehicle}/start"`));
        expect(form.slice(0, form.indexOf('</form>'))).toMatch(/name="_csrf" value="[^"]{20,}"[\s\S]*Confirm and unlock/);
        expect(page.body).not.toContain('<script');
      });

      it('shows prices in the city’s currency, and sends visitors to log in first, saying why', async () => {
        const paris = await createVehicle(t.db, { city: 'paris', type: 'scooter' });
        const rider = await logInAs(app, parisRider);
        const page = await rider.browser.get(`/cities/paris/vehicles/${paris}/start`);
        expect(page.body).toContain('<dd data-field="unlock">€1.00</dd>');
        expect(page.body).toContain('<dd data-field="per-minute">€0.35</dd>');
        const list = await rider.browser.get('/cities/paris/vehicles');
        expect(list.body).toContain('€1.00 unlock + €0.35/min');
        const visitor = new Browser(app);
        const redirect = await visitor.get(`/cities/paris/vehicles/${paris}/start`);
        expect(redirect.statusCode).toBe(303);
        const login = await visitor.get(locationOf(redirect));
        expect(flashesOf(login.body)).toContain(LOGIN_NEEDED_MESSAGE);
        expect((await rider.browser.get(`/cities/paris/vehicles/${randomUUID()}/start`)).statusCode).toBe(404);
      });

      it('is not offered to visitors, who are asked to log in instead', async () => {
        await createVehicle(t.db, { status: 'available' });
        const html = (await app.inject({ url: '/cities/new%20york/vehicles' })).body;
        expect(startFormIds(html)).toEqual([]);
        expect(html).toContain('Log in to ride');
        expect(html).toContain('href="/login?next=%2Fcities%2Fnew%2520york%2Fvehicles"');
      });

      it('is not offered to riders from another city, who are pointed to their home city', async () => {
        await createVehicle(t.db, { status: 'available' });
        const rider = await logInAs(app, parisRider);
        const html = (await rider.browser.get('/cities/new%20york/vehicles')).body;
        expect(startFormIds(html)).toEqual([]);
        expect(html).toContain('You ride in your home city, Paris');
        expect(html).toContain('href="/cities/paris/vehicles"');
        expect(html).not.toContain('Log in to ride');
      });

      it('is not offered while the rider has a ride in progress, which is linked instead', async () => {
        const first = await createVehicle(t.db);
        await createVehicle(t.db);
        const ride = await startRide(t.db, nyRider, { city: 'new york', id: first });
        const rider = await logInAs(app, nyRider);
        const html = (await rider.browser.get('/cities/new%20york/vehicles')).body;
        expect(startFormIds(html)).toEqual([]);
        expect(html).toContain(`href="/rides/new%20york/${ride.id}"`);
        expect(html).toContain('You have a ride in progress.');
      });
    });

    describe('POST /cities/:city/vehicles/:id/start', () => {
      it('starts a ride: the ride is stored, the vehicle is in use, and the rider lands on the open ride', async () => {
        const vehicle = await createVehicle(t.db, { type: 'bike', location: '7 Elm St' });
        const rider = await logInAs(app, nyRider);
        const response = await rider.browser.postForm(`/cities/new%20york/vehicles/${vehicle}/start`, { _csrf: rider.csrf });
        expect(response.statusCode).toBe(303);
        const ride = await queryOne(t.db, 'SELECT id, rider_id, start_address, end_time FROM rides WHERE vehicle_id = $1', [vehicle]);
        expect(ride).toMatchObject({ rider_id: nyRider.id, start_address: '7 Elm St', end_time: null });
        expect(locationOf(response)).toBe(`/rides/new%20york/${String(ride?.id)}`);
        expect((await queryOne(t.db, 'SELECT status FROM vehicles WHERE id = $1', [vehicle]))?.status).toBe('in_use');
        const page = await follow(rider.browser, response);
        expect(page.statusCode).toBe(200);
        expect(flashesOf(page.body)).toEqual(['Your bike is unlocked. Have a good ride!']);
      });

      it('two riders starting the same vehicle at once: exactly one ride, the other is told someone took it', async () => {
        const vehicle = await createVehicle(t.db);
        const [first, second] = await Promise.all([logInAs(app, nyRider), logInAs(app, nyRider2)]);
        const url = `/cities/new%20york/vehicles/${vehicle}/start`;
        const responses = await Promise.all([
          first.browser.postForm(url, { _csrf: first.csrf }),
          second.browser.postForm(url, { _csrf: second.csrf }),
        ]);
        expect(responses.map((r) => r.statusCode)).toEqual([303, 303]);
        expect(await countRows(t.db, 'SELECT count(*) AS n FROM rides WHERE vehicle_id = $1', [vehicle])).toBe(1);
        const winners = responses.filter((r) => locationOf(r).startsWith('/rides/'));
        const losers = responses.filter((r) => locationOf(r) === '/cities/new%20york/vehicles');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(1);
        const loser = responses[0] === losers[0] ? first : second;
        const page = await follow(loser.browser, losers[0]!);
        expect(flashesOf(page.body)).toEqual(['Someone just took this vehicle. Please choose another one.']);
        expect((await queryOne(t.db, 'SELECT status FROM vehicles WHERE id = $1', [vehicle]))?.status).toBe('in_use');
      });

      it('a vehicle someone else rides: back to the list with the flash', async () => {
        const vehicle = await createVehicle(t.db);
        await startRide(t.db, nyRider2, { city: 'new york', id: vehicle });
        const rider = await logInAs(app, nyRider);
        const response = await rider.browser.postForm(`/cities/new%20york/vehicles/${vehicle}/start`, { _csrf: rider.csrf });
        expect(locationOf(response)).toBe('/cities/new%20york/vehicles');
        expect(flashesOf((await follow(rider.browser, response)).body)).toEqual([
          'Someone just took this vehicle. Please choose another one.',
        ]);
      });

      it('a rider with a ride in progress is sent to it, with a flash', async () => {
        const [first, second] = [await createVehicle(t.db), await createVehicle(t.db)];
        const open = await startRide(t.db, nyRider, { city: 'new york', id: first });
        const rider = await logInAs(app, nyRider);
        const response = await rider.browser.postForm(`/cities/new%20york/vehicles/${second}/start`, { _csrf: rider.csrf });
        expect(locationOf(response)).toBe(`/rides/new%20york/${open.id}`);
        expect(flashesOf((await follow(rider.browser, response)).body)).toEqual([
          'You already have a ride in progress. End it before starting another.',
        ]);
        expect((await queryOne(t.db, 'SELECT status FROM vehicles WHERE id = $1', [second]))?.status).toBe('available');
      });

      it('a vehicle in another city than the rider’s: a flash, no ride', async () => {
        const vehicle = await createVehicle(t.db);
        const rider = await logInAs(app, parisRider);
        const response = await rider.browser.postForm(`/cities/new%20york/vehicles/${vehicle}/start`, { _csrf: rider.csrf });
        expect(locationOf(response)).toBe('/cities/new%20york/vehicles');
        const [message] = flashesOf((await follow(rider.browser, response)).body);
        expect(message).toContain('You can ride in your home city, Paris, only');
        expect(await countRows(t.db, 'SELECT count(*) AS n FROM rides')).toBe(0);
      });

      it('refuses a form without the CSRF token (403) and changes nothing', async () => {
        const vehicle = await createVehicle(t.db);
        const rider = await logInAs(app, nyRider);
        const before = await snapshot(t.db);
        for (const fields of [{}, { _csrf: 'forged-token' }] as Record<string, string>[]) {
          const response = await rider.browser.postForm(`/cities/new%20york/vehicles/${vehicle}/start`, fields);
          expect(response.statusCode).toBe(403);
          expect(response.body).toContain('This form has expired');
        }
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('sends visitors to the log-in page and changes nothing', async () => {
        const vehicle = await createVehicle(t.db);
        const visitor = new Browser(app);
        const token = await csrfTokenFor(visitor);
        const before = await snapshot(t.db);
        const response = await visitor.postForm(`/cities/new%20york/vehicles/${vehicle}/start`, { _csrf: token });
        expect(response.statusCode).toBe(303);
        expect(locationOf(response)).toBe('/login');
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('answers malformed and unknown ids, and unknown cities, with the 404 page', async () => {
        const vehicle = await createVehicle(t.db);
        const rider = await logInAs(app, nyRider);
        const before = await snapshot(t.db);
        for (const url of [
          '/cities/new%20york/vehicles/not-a-uuid/start',
          `/cities/new%20york/vehicles/${vehicle}x/start`,
          `/cities/new%20york/vehicles/${randomUUID()}/start`,
          `/cities/atlantis/vehicles/${vehicle}/start`,
          `/cities/boston/vehicles/${vehicle}/start`,
        ]) {
          const response = await rider.browser.postForm(url, { _csrf: rider.csrf });
          expect(response.statusCode, url).toBe(404);
          expect(response.body, url).toContain('We can’t find that page');
        }
        expect(await snapshot(t.db)).toEqual(before);
        expect(await t.db.orm.select().from(rides)).toEqual([]);
      });
    });
  },
  { open: { poolSize: 20 } },
);
