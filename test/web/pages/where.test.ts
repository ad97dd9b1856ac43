// Where things are, on the pages: the city map and "Nearest to me", the route on the ride page
// and the receipt, local times and money, the world map, who is logged in, and form addresses
// that a reload can GET.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_LIST } from '../../../src/movr/pricing.ts';
import { endRide, recordLocation, startRide } from '../../../src/movr/rides.ts';
import type { User } from '../../../src/movr/users.ts';
import { buildTestApp, logInAsRoutes } from '../../support/app.ts';
import { TEST_PASSWORD, createUser, createVehicle } from '../../support/factories.ts';
import { describeEachDatabase, emptyTables } from '../../support/databases.ts';
import { fieldErrorOf, loggedInBrowser } from '../helpers.ts';
import { logInAs, vehicleIdsOf } from './riding-helpers.ts';

const PARIS = { lat: 48.8566, long: 2.3522 };
const north = (metres: number) => ({ lat: PARIS.lat + metres / 111_320, long: PARIS.long });

describeEachDatabase('pages: maps, near me, local time and money', (t) => {
  let app: FastifyInstance;
  let rider: User;

  beforeAll(async () => {
    app = await buildTestApp(t.db, { routes: logInAsRoutes });
    rider = await createUser(t.db, { city: 'paris', username: `paris-${Date.now()}` });
  });
  afterAll(() => app.close());
  beforeEach(() => emptyTables(t.db, { keep: ['users', 'user_credentials'] }));

  describe('the city page', () => {
    it('maps every listed vehicle with a position, each mark linking to its row', async () => {
      const ids = [];
      for (const metres of [100, 300, 700]) ids.push(await createVehicle(t.db, { city: 'paris', ...north(metres) }));
      await createVehicle(t.db, { city: 'paris' }); // no position: listed, not mapped
      const html = (await app.inject({ url: '/cities/paris/vehicles' })).body;
      const map = html.slice(html.indexOf('<svg class="map map--city"'), html.indexOf('</svg>', html.indexOf('map--city')));
      expect(map.match(/<a href="#vehicle-/g)).toHaveLength(3);
      for (const id of ids) {
        expect(map).toContain(`href="#vehicle-${id}"`);
        expect(html).toContain(`<tr id="vehicle-${id}"`);
      }
      expect(map).toContain('role="img"');
      expect(map).toContain('Map of 3 vehicles in Paris');
    });

    it('"Nearest to me" lists the available vehicles nearest first, with their distance', async () => {
      const far = await createVehicle(t.db, { city: 'paris', ...north(1200) });
      const near = await createVehicle(t.db, { city: 'paris', ...north(80) });
      await createVehicle(t.db, { city: 'paris', status: 'in_use', ...north(5) });
      const page = await app.inject({ url: `/cities/paris/vehicles?lat=${PARIS.lat}&long=${PARIS.long}` });
      expect(page.statusCode).toBe(200);
      expect(vehicleIdsOf(page.body).filter((id, i, all) => all.indexOf(id) === i)).toEqual([near, far]);
      expect([...page.body.matchAll(/data-field="distance">([^<]+)</g)].map((m) => m[1])).toEqual(['80 m', '1.2 km']);
      expect(page.body).toContain('class="map__you"');
    });

    it('checks the point in one round, with examples from the city', async () => {
      const page = await app.inject({ url: '/cities/paris/vehicles?lat=north&long=200' });
      expect(page.statusCode).toBe(400);
      expect(fieldErrorOf(page.body, 'lat')).toBe('Enter the latitude as a number of degrees between -90 and 90, e.g. 48.8566.');
      expect(fieldErrorOf(page.body, 'long')).toBe('Longitude must be between -180 and 180.');
      expect(page.body).toContain('e.g. 2.3522');
    });

    it('enhances the form with a location button from a script of its own (the CSP allows no inline script)', async () => {
      const html = (await app.inject({ url: '/cities/paris/vehicles' })).body;
      expect(html).toContain('<script src="/static/near-me.js" defer></script>');
      expect(html).toMatch(/<button[^>]*data-locate hidden>Use my location<\/button>/);
      expect(html).not.toMatch(/<script>(?!<\/script>)/);
      const script = await app.inject({ url: '/static/near-me.js' });
      expect(script.statusCode).toBe(200);
      expect(script.body).toContain('navigator.geolocation.getCurrentPosition');
    });
  });

  describe('the ride page and the receipt', () => {
    it('draw the route, show Paris time with its abbreviation and euros', async () => {
      const vehicle = await createVehicle(t.db, { city: 'paris', type: 'bike', ...north(0) });
      const start = new Date('2026-01-15T09:00:00.000Z');
      const ride = await startRide(t.db, rider, { city: 'paris', id: vehicle }, { now: start });
      for (let i = 1; i <= 4; i++) await recordLocation(t.db, rider, ride, north(i * 100), { now: new Date(start.getTime() + i * 60_000) });
      const { browser } = await logInAs(app, rider);
      const open = await browser.get(`/rides/paris/${ride.id}`);
      expect(open.body).toContain('15 Jan 2026, 10:00 CET');
      expect(open.body).toMatch(/points="[^"]+"/);
      expect(/class="map__route" points="([^"]+)"/.exec(open.body)?.[1]?.split(' ')).toHaveLength(4);
      await endRide(t.db, rider, ride, 'Rue de Rivoli 1', { priceList: { ...DEFAULT_PRICE_LIST, bike: { unlockCents: 100, perMinuteCents: 14 } }, now: new Date(start.getTime() + 5 * 60_000) });
      const receipt = await browser.get(`/rides/paris/${ride.id}`);
      expect(receipt.body).toContain('15 Jan 2026, 10:05 CET');
      expect(receipt.body).toContain('<td class="numeric" data-field="total">€1.70</td>');
      expect(receipt.body).toContain('data-field="currency">EUR<');
      expect(/class="map__route" points="([^"]+)"/.exec(receipt.body)?.[1]?.split(' ')).toHaveLength(4);
      const list = await browser.get('/rides');
      expect(list.body).toContain('€1.70');
      expect(list.body).toContain('CET');
    });

    it('the location form shown with an error has an address a reload can GET', async () => {
      const vehicle = await createVehicle(t.db, { city: 'paris' });
      const ride = await startRide(t.db, rider, { city: 'paris', id: vehicle });
      const { browser } = await logInAs(app, rider);
      for (const form of ['locations', 'end']) {
        const reload = await browser.get(`/rides/paris/${ride.id}/${form}`);
        expect(reload.statusCode).toBe(303);
        expect(reload.headers.location).toBe(`/rides/paris/${ride.id}`);
      }
    });
  });

  describe('adding a vehicle', () => {
    it('takes an optional position, checked with every other field in one round', async () => {
      const owner = await logInAs(app, rider);
      const refused = await owner.browser.postForm('/vehicles/new', { _csrf: owner.csrf, type: '', color: 'red', location: 'Quai 1', lat: '48,85', long: '' });
      expect(refused.statusCode).toBe(400);
      expect(fieldErrorOf(refused.body, 'type')).toBeDefined();
      expect(fieldErrorOf(refused.body, 'lat')).toBe('Enter the latitude as a number of degrees between -90 and 90, e.g. 48.8566.');
      expect(fieldErrorOf(refused.body, 'long')).toBe('Enter the longitude.');
      const added = await owner.browser.postForm('/vehicles/new', { _csrf: owner.csrf, type: 'bike', color: 'red', location: 'Quai 1', lat: '48.8601', long: '2.3401' });
      expect(added.statusCode).toBe(303);
      const [row] = await t.db.execute("SELECT lat, long FROM vehicles WHERE city = 'paris' AND current_location = 'Quai 1'");
      expect([Number(row?.lat), Number(row?.long)]).toEqual([48.8601, 2.3401]);
      const bare = await owner.browser.postForm('/vehicles/new', { _csrf: owner.csrf, type: 'bike', color: 'red', location: 'Quai 2', lat: '', long: '' });
      expect(bare.statusCode).toBe(303);
    });
  });

  describe('the home page', () => {
    it('shows the regions and cities on a world map drawn from Natural Earth outlines', async () => {
      const html = (await app.inject({ url: '/' })).body;
      const map = html.slice(html.indexOf('<svg class="map map--world"'));
      expect(map.slice(0, map.indexOf('</svg>')).match(/<a href="\/cities\//g)).toHaveLength(9);
      expect(map).toMatch(/<path class="map__land" d="M[^"]{1000,}"/);
      expect(map).toContain('role="img"');
    });
  });

  describe('the header', () => {
    it('says who is logged in', async () => {
      const browser = await loggedInBrowser(app, rider.username!, TEST_PASSWORD);
      const html = (await browser.get('/rides')).body;
      expect(html.slice(html.indexOf('site-nav'), html.indexOf('</nav>'))).toContain(`Logged in as <strong>${rider.username}</strong>`);
    });
  });
});
