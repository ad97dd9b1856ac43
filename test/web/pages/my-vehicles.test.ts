// An owner's vehicles: the list, adding one, retiring one, through app.inject() on both databases.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRide } from '../../../src/movr/rides.ts';
import type { User } from '../../../src/movr/users.ts';
import { buildTestApp, logInAsRoutes } from '../../support/app.ts';
import { createUser, createVehicle } from '../../support/factories.ts';
import { queryOne, snapshot } from '../../support/snapshot.ts';
import { describeEachDatabase } from '../../support/databases.ts';
import { Browser } from '../helpers.ts';
import { XSS, XSS_ESCAPED, csrfTokenFor, flashesOf, follow, locationOf, logInAs, vehicleIdsOf } from './riding-helpers.ts';

describeEachDatabase(
  'my vehicles pages',
  (t) => {
    let app: FastifyInstance;
    let owner: User;
    let neighbour: User;
    let rider: User;

    beforeAll(async () => {
      app = await buildTestApp(t.db, { routes: logInAsRoutes });
      [owner, neighbour, rider] = await Promise.all([
        createUser(t.db, { city: 'amsterdam', name: 'Anouk Owner', address: null }),
        createUser(t.db, { city: 'amsterdam', name: 'Noor Neighbour', address: null }),
        createUser(t.db, { city: 'amsterdam', name: 'Ruben Rider', address: null }),
      ]);
    });
    afterAll(async () => {
      await app?.close();
    });
    beforeEach(async () => {
      for (const table of ['ride_receipts', 'vehicle_location_histories', 'rides', 'vehicles']) await t.db.execute(`DELETE FROM ${table}`);
    });

    describe('GET /vehicles/mine', () => {
      it('lists the owner’s vehicles, retired ones with a badge, and nobody else’s', async () => {
        const bike = await createVehicle(t.db, {
          city: 'amsterdam',
          ownerId: owner.id,
          type: 'bike',
          brand: 'Gazelle',
          color: 'black',
          location: 'Damrak 1',
          creationTime: new Date('2025-02-01T09:00:00Z'),
        });
        const retired = await createVehicle(t.db, {
          city: 'amsterdam',
          ownerId: owner.id,
          status: 'retired',
          creationTime: new Date('2025-03-01T09:00:00Z'),
        });
        await createVehicle(t.db, { city: 'amsterdam', ownerId: neighbour.id });
        const { browser } = await logInAs(app, owner);
        const page = await browser.get('/vehicles/mine');
        expect(page.statusCode).toBe(200);
        const html = page.body;
        expect(vehicleIdsOf(html)).toEqual([bike, retired].sort());
        expect(html).toContain('<h1>My vehicles</h1>');
        expect(html).toMatch(/<a href="\/vehicles\/mine" aria-current="page">My vehicles<\/a>/);
        expect(html).toContain('1 in service, 1 retired');
        const bikeRow = html.slice(html.indexOf(`data-vehicle-id="${bike}"`));
        const bikeCells = bikeRow.slice(0, bikeRow.indexOf('</tr>'));
        expect(bikeCells).toContain('vehicle-icon--bike');
        expect(bikeCells).toContain('Gazelle');
        expect(bikeCells).toContain('Black');
        expect(bikeCells).toContain('Damrak 1');
        expect(bikeCells).toContain('1 Feb 2025');
        expect(bikeCells).toContain(`action="/vehicles/amsterdam/${bike}/retire"`);
        const retiredRow = html.slice(html.indexOf(`data-vehicle-id="${retired}"`));
        const retiredCells = retiredRow.slice(0, retiredRow.indexOf('</tr>'));
        expect(retiredCells).toContain('status-badge--retired');
        expect(retiredCells).toContain('Retired');
        expect(retiredCells).not.toContain('/retire"');
      });

      it('shows an empty state with a way to add a vehicle', async () => {
        const { browser } = await logInAs(app, rider);
        const page = await browser.get('/vehicles/mine');
        expect(page.body).toContain('You have not added a vehicle yet.');
        expect(page.body).toContain('href="/vehicles/new"');
      });

      it('sends visitors to the log-in page', async () => {
        for (const url of ['/vehicles/mine', '/vehicles/new']) {
          const response = await new Browser(app).get(url);
          expect(response.statusCode).toBe(303);
          expect(locationOf(response)).toBe(`/login?next=${encodeURIComponent(url)}`);
        }
      });
    });

    describe('adding a vehicle', () => {
      it('shows the form with the home city read-only and explained', async () => {
        const { browser } = await logInAs(app, owner);
        const page = await browser.get('/vehicles/new');
        expect(page.statusCode).toBe(200);
        const html = page.body;
        expect(html).toContain('<h1>Add a vehicle</h1>');
        for (const field of ['type', 'color', 'brand', 'location']) expect(html).toContain(`name="${field}"`);
        expect(html).not.toContain('name="city"');
        expect(html).toContain('data-testid="vehicle-city">Amsterdam<');
        expect(html).toContain('Vehicles are registered in their owner’s home city');
        for (const color of ['black', 'blue', 'green', 'red', 'white', 'yellow', 'orange', 'silver']) {
          expect(html).toContain(`<option value="${color}">`);
        }
        expect(html).toMatch(/<label class="field__label" for="field-brand">Brand <span class="field__optional">\(optional\)<\/span><\/label>/);
      });

      it('adds the vehicle in the owner’s home city, whatever city the form sends', async () => {
        const { browser, csrf } = await logInAs(app, owner);
        const response = await browser.postForm('/vehicles/new', {
          _csrf: csrf,
          type: 'scooter',
          color: 'orange',
          brand: '  Vespa ',
          location: ' Prinsengracht 263 ',
          city: 'new york',
        });
        expect(response.statusCode).toBe(303);
        expect(locationOf(response)).toBe('/vehicles/mine');
        const row = await queryOne(t.db, 'SELECT id, city, type, status, owner_id, current_location, ext FROM vehicles');
        expect(row).toMatchObject({
          city: 'amsterdam',
          type: 'scooter',
          status: 'available',
          owner_id: owner.id,
          current_location: 'Prinsengracht 263',
          ext: { color: 'orange', brand: 'Vespa' },
        });
        const page = await follow(browser, response);
        expect(flashesOf(page.body)).toEqual(['Your orange scooter is listed in Amsterdam and ready to ride.']);
        expect(vehicleIdsOf(page.body)).toEqual([String(row?.id)]);
      });

      it('re-renders the form with the typed values and a message per field', async () => {
        const { browser, csrf } = await logInAs(app, owner);
        const before = await snapshot(t.db);
        const empty = await browser.postForm('/vehicles/new', { _csrf: csrf, type: '', color: '', brand: 'Kept Brand', location: '  ' });
        expect(empty.statusCode).toBe(400);
        expect(empty.body).toContain('There is a problem');
        expect(empty.body).toContain('Choose one of: bike, scooter, skateboard.');
        expect(empty.body).toContain('Choose one of: black, blue, green, red, white, yellow, orange, silver.');
        expect(empty.body).toContain('Enter where the vehicle is parked.');
        expect(empty.body).toContain('value="Kept Brand"');
        expect(empty.body).toContain('href="#field-location"');

        const invalid = await browser.postForm('/vehicles/new', {
          _csrf: csrf,
          type: 'hoverboard',
          color: 'blue',
          brand: 'b'.repeat(41),
          location: XSS,
        });
        expect(invalid.statusCode).toBe(400);
        expect(invalid.body).toContain('<option value="blue" selected>');
        expect(invalid.body).toContain('Use at most 40 characters.');
        expect(invalid.body).not.toContain(XSS);
        expect(invalid.body).toContain(`value="${XSS_ESCAPED}"`);
        const tooLong = await browser.postForm('/vehicles/new', { _csrf: csrf, type: 'bike', color: 'red', location: 'x'.repeat(201) });
        expect(tooLong.statusCode).toBe(400);
        expect(tooLong.body).toContain('Use at most 200 characters.');
        expect(tooLong.body).toContain('<option value="bike" selected>');
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('renders a brand and location with markup in them as text', async () => {
        const { browser, csrf } = await logInAs(app, owner);
        await browser.postForm('/vehicles/new', { _csrf: csrf, type: 'bike', color: 'red', brand: '<b>x</b>', location: XSS });
        for (const url of ['/vehicles/mine', '/cities/amsterdam/vehicles']) {
          const page = await browser.get(url);
          expect(page.body, url).not.toContain(XSS);
          expect(page.body, url).toContain(XSS_ESCAPED);
          expect(page.body, url).not.toContain('<b>x</b>');
        }
      });

      it('refuses a form without the CSRF token, and visitors, changing nothing', async () => {
        const { browser } = await logInAs(app, owner);
        const before = await snapshot(t.db);
        const fields = { type: 'bike', color: 'red', location: 'Somewhere' };
        expect((await browser.postForm('/vehicles/new', fields)).statusCode).toBe(403);
        const visitor = new Browser(app);
        const token = await csrfTokenFor(visitor);
        const response = await visitor.postForm('/vehicles/new', { ...fields, _csrf: token });
        expect(response.statusCode).toBe(303);
        expect(locationOf(response)).toBe('/login');
        expect(await snapshot(t.db)).toEqual(before);
      });
    });

    describe('retiring a vehicle', () => {
      it('retires the owner’s own vehicle', async () => {
        const vehicle = await createVehicle(t.db, { city: 'amsterdam', ownerId: owner.id, type: 'bike', location: 'Dam 1' });
        const { browser, csrf } = await logInAs(app, owner);
        const response = await browser.postForm(`/vehicles/amsterdam/${vehicle}/retire`, { _csrf: csrf });
        expect(response.statusCode).toBe(303);
        expect(locationOf(response)).toBe('/vehicles/mine');
        expect((await queryOne(t.db, 'SELECT status FROM vehicles WHERE id = $1', [vehicle]))?.status).toBe('retired');
        const page = await follow(browser, response);
        expect(flashesOf(page.body)).toEqual(['Your bike at Dam 1 is retired. It is no longer offered to riders.']);
        // Retired vehicles are no longer listed to riders.
        expect(vehicleIdsOf((await app.inject({ url: '/cities/amsterdam/vehicles' })).body)).toEqual([]);
        // Retiring again: a message, nothing else.
        const again = await browser.postForm(`/vehicles/amsterdam/${vehicle}/retire`, { _csrf: csrf });
        expect(flashesOf((await follow(browser, again)).body)).toEqual(['This vehicle is already retired.']);
      });

      it('refuses someone else’s vehicle with the 403 page and changes nothing', async () => {
        const vehicle = await createVehicle(t.db, { city: 'amsterdam', ownerId: neighbour.id });
        const unowned = await createVehicle(t.db, { city: 'amsterdam', ownerId: null });
        const { browser, csrf } = await logInAs(app, owner);
        const before = await snapshot(t.db);
        for (const id of [vehicle, unowned]) {
          const response = await browser.postForm(`/vehicles/amsterdam/${id}/retire`, { _csrf: csrf });
          expect(response.statusCode).toBe(403);
          expect(response.body).toContain('You can only retire your own vehicles.');
          expect(response.body).toContain('That did not work');
        }
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('refuses a vehicle someone is riding, with a flash, and changes nothing', async () => {
        const vehicle = await createVehicle(t.db, { city: 'amsterdam', ownerId: owner.id });
        await startRide(t.db, rider, { city: 'amsterdam', id: vehicle });
        const { browser, csrf } = await logInAs(app, owner);
        const list = await browser.get('/vehicles/mine');
        expect(list.body).toContain('Being ridden');
        expect(list.body).not.toContain(`/vehicles/amsterdam/${vehicle}/retire`);
        const before = await snapshot(t.db);
        const response = await browser.postForm(`/vehicles/amsterdam/${vehicle}/retire`, { _csrf: csrf });
        expect(locationOf(response)).toBe('/vehicles/mine');
        expect(flashesOf((await follow(browser, response)).body)).toEqual([
          'Someone is riding this vehicle. Retire it once the ride has ended.',
        ]);
        expect(await snapshot(t.db)).toEqual(before);
      });

      it('refuses missing CSRF tokens (403), visitors, malformed ids and unknown cities (404), changing nothing', async () => {
        const vehicle = await createVehicle(t.db, { city: 'amsterdam', ownerId: owner.id });
        const { browser, csrf } = await logInAs(app, owner);
        const before = await snapshot(t.db);
        expect((await browser.postForm(`/vehicles/amsterdam/${vehicle}/retire`, {})).statusCode).toBe(403);
        expect((await browser.postForm(`/vehicles/amsterdam/${vehicle}/retire`, { _csrf: 'nope' })).statusCode).toBe(403);
        for (const url of [
          '/vehicles/amsterdam/not-a-uuid/retire',
          `/vehicles/amsterdam/${randomUUID()}/retire`,
          `/vehicles/atlantis/${vehicle}/retire`,
          `/vehicles/paris/${vehicle}/retire`,
        ]) {
          const response = await browser.postForm(url, { _csrf: csrf });
          expect(response.statusCode, url).toBe(404);
        }
        const visitor = new Browser(app);
        const token = await csrfTokenFor(visitor);
        const anonymous = await visitor.postForm(`/vehicles/amsterdam/${vehicle}/retire`, { _csrf: token });
        expect(locationOf(anonymous)).toBe('/login');
        expect(await snapshot(t.db)).toEqual(before);
      });
    });
  },
  { open: { poolSize: 20 } },
);
