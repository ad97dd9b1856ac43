// A city's vehicles, and starting a ride on one.
//
//   GET  /cities/:city/vehicles             the list: filters by type and status, keyset pages, a map;
//                                           ?lat=&long=: the available vehicles nearest to that point
//   GET  /cities/:city/vehicles/:id/start   the price and a confirmation step (logged in)
//   POST /cities/:city/vehicles/:id/start   starts a ride on an available vehicle (logged in)
//
// A city in a URL is its stored name, URL-encoded (`/cities/new%20york/vehicles`); an unknown
// city is the friendly 404 page. The list works as a deep link: it needs nothing from a
// previous visit.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConflictError, ValidationError, domainError, isDomainError } from '../../movr/errors.ts';
import { RIDER_VEHICLE_STATUSES, VEHICLE_TYPES, type VehicleType } from '../../movr/rules.ts';
import { findOpenRide, findOpenRideRef, startRide } from '../../movr/rides.ts';
import { type NearbyVehicle, type Vehicle, getVehicle, listVehicles, listVehiclesNear } from '../../movr/vehicles.ts';
import { type PriceList, priceOf } from '../../movr/pricing.ts';
import { INVALID_LOCATION } from '../../movr/rides.ts';
import { parseInput } from '../../movr/rules.ts';
import { type Currency, cityCentre } from '../../region-map.ts';
import { type FormErrors, NO_FORM_ERRORS, formErrors } from '../forms.ts';
import { type MapVehicle, cityMapSvg } from '../maps/city-map.ts';
import { pointForm } from './point-form.ts';
import { cityOr404, idOr404 } from '../lookups.ts';
import { loginPath, requireUser, userOf } from '../plugins/auth.ts';
import { cityLabel, cityVehiclesPath, formatMoney, vehicleStatusLabel, vehicleTypeLabel } from './format.ts';

/** The statuses a visitor can filter the list by (lost and retired vehicles are never listed). */
export const LISTED_STATUSES = RIDER_VEHICLE_STATUSES;

/** The path of a ride's page (the open ride, or its receipt once ended). */
export function ridePath(city: string, id: string): string {
  return `/rides/${encodeURIComponent(city)}/${encodeURIComponent(id)}`;
}

/** 'red' → 'Red'; '—' when unknown. */
export function colorLabel(color: string | null | undefined): string {
  if (!color) return '—';
  return color.charAt(0).toUpperCase() + color.slice(1);
}

/** What the vehicle list shows of one vehicle. */
export interface VehicleRow {
  id: string;
  type: string;
  typeLabel: string;
  color: string;
  /** For the colour swatch's class; '' when the colour is unknown. */
  colorKey: string;
  brand: string | null;
  status: string;
  statusLabel: string;
  location: string;
  owner: string;
  available: boolean;
  /** Short description for screen readers: "red scooter at 1 Main St". */
  description: string;
  /** The confirmation page, and the form that starts the ride. */
  startAction: string;
  /** The id of its row, for links from the map. */
  anchor: string;
  /** With a near-me search: '350 m'. */
  distance?: string | undefined;
}

export function vehicleRow(vehicle: Vehicle): VehicleRow {
  const type = vehicle.type ?? 'unknown';
  const location = vehicle.currentLocation?.trim() || '—';
  const description = [vehicle.color, vehicleTypeLabel(type).toLowerCase()].filter(Boolean).join(' ');
  return {
    id: vehicle.id,
    type,
    typeLabel: vehicle.type ? vehicleTypeLabel(vehicle.type) : 'Unknown',
    color: colorLabel(vehicle.color),
    colorKey: (vehicle.color ?? '').toLowerCase().replace(/[^a-z]/g, ''),
    brand: vehicle.brand,
    status: vehicle.status ?? 'unknown',
    statusLabel: vehicle.status ? vehicleStatusLabel(vehicle.status) : 'Unknown',
    location,
    owner: vehicle.ownerName?.trim() || '—',
    available: vehicle.status === 'available',
    description: location === '—' ? description : `${description} at ${location}`,
    startAction: `${cityVehiclesPath(vehicle.city)}/${encodeURIComponent(vehicle.id)}/start`,
    anchor: `vehicle-${vehicle.id}`,
    distance: 'distanceM' in vehicle ? distanceLabel((vehicle as NearbyVehicle).distanceM) : undefined,
  };
}

/** '80 m', '1.2 km'. */
export function distanceLabel(metres: number): string {
  return metres < 1000 ? `${Math.round(metres / 10) * 10} m` : `${(metres / 1000).toFixed(1)} km`;
}

/** The city map's marks: the listed vehicles that have a position. */
function mapVehicles(vehicles: readonly Vehicle[]): MapVehicle[] {
  return vehicles.flatMap((vehicle) => {
    if (vehicle.lat === null || vehicle.long === null) return [];
    const row = vehicleRow(vehicle);
    return [{ id: vehicle.id, lat: vehicle.lat, long: vehicle.long, type: row.type, status: row.status, href: `#${row.anchor}`, label: `${row.color} ${row.typeLabel.toLowerCase()}, ${row.statusLabel.toLowerCase()}, at ${row.location}` }];
  });
}

/** Prices for a city's currency, as the pages show them. */
export function priceRows(priceList: PriceList, currency: Currency) {
  return VEHICLE_TYPES.map((t) => ({
    type: t,
    label: vehicleTypeLabel(t),
    unlock: formatMoney(priceList[t].unlockCents, currency),
    perMinute: formatMoney(priceList[t].perMinuteCents, currency),
  }));
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

/** A list address with the given filters (empty ones left out), and a cursor if given. */
function listHref(city: string, filters: { type?: string | undefined; status?: string | undefined }, cursor?: string): string {
  const query = new URLSearchParams();
  if (filters.type) query.set('type', filters.type);
  if (filters.status) query.set('status', filters.status);
  if (cursor) query.set('cursor', cursor);
  const text = query.toString();
  return text ? `${cityVehiclesPath(city)}?${text}` : cityVehiclesPath(city);
}

const listQuery = z.object({
  type: z.string().max(40).optional(),
  status: z.string().max(40).optional(),
  cursor: z.string().max(200).optional(),
  lat: z.string().max(100).optional(),
  long: z.string().max(100).optional(),
});

const cityParams = z.object({ city: z.string().max(100) });
const vehicleParams = z.object({ city: z.string().max(100), id: z.string().max(100) });

export const vehiclesPlugin: FastifyPluginAsyncZod = async (app) => {
  const { db, regions, priceLists, rideStats } = app;
  app.get('/cities/:city/vehicles', { schema: { params: cityParams, querystring: listQuery } }, async (request, reply) => {
    const requested = request.params.city;
    const city = regions.findCity(requested) ?? regions.findCity(requested.trim().toLowerCase());
    if (!city) throw domainError('city_not_found');
    if (city.name !== requested) {
      // `/cities/Paris/vehicles` → the canonical address, filters kept.
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      return reply.redirect(`${cityVehiclesPath(city.name)}${query}`, 301);
    }

    // Filters the list does not know are ignored, with a note saying so: never an error page.
    const notes: string[] = [];
    const rawType = request.query.type?.trim() ?? '';
    const rawStatus = request.query.status?.trim() ?? '';
    let type: VehicleType | undefined;
    let status: (typeof LISTED_STATUSES)[number] | undefined;
    if (rawType !== '') {
      if (isOneOf(VEHICLE_TYPES, rawType)) type = rawType;
      else notes.push(`“${rawType}” is not a vehicle type MovR knows, so all types are shown.`);
    }
    if (rawStatus !== '') {
      if (isOneOf(LISTED_STATUSES, rawStatus)) status = rawStatus;
      else notes.push(`“${rawStatus}” is not a status you can filter by, so every status is shown.`);
    }
    const cursor = request.query.cursor?.trim() || undefined;

    // "Nearest to me": a point typed in (or filled in from the browser's location).
    const centre = cityCentre(city);
    const nearValues = { lat: request.query.lat ?? '', long: request.query.long ?? '' };
    let near: { lat: number; long: number } | undefined;
    let nearErrors: FormErrors = NO_FORM_ERRORS;
    if (request.query.lat !== undefined || request.query.long !== undefined) {
      try {
        const typed = parseInput(pointForm(centre), nearValues, { message: INVALID_LOCATION, always: true });
        near = { lat: Number(typed.lat), long: Number(typed.long) };
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        nearErrors = formErrors(error);
        reply.code(400);
      }
    }

    const user = request.currentUser;
    const viewer = !user ? 'visitor' : user.city === city.name ? 'local' : 'visitor_from_elsewhere';
    const [page, openRide] = await Promise.all([
      near
        ? listVehiclesNear(db, { city: city.name, type, ...near }).then((items) => ({ items: items as Vehicle[], nextCursor: null }))
        : listVehicles(db, { city: city.name, type, status, cursor }),
      user && viewer === 'local' ? findOpenRideRef(db, user) : undefined,
    ]);
    const filters = { type, status };
    const currency = regions.currencyOf(city.name);

    return reply.page('vehicles', {
      title: `Vehicles in ${cityLabel(city.name)}`,
      nav: 'cities',
      city: { name: city.name, label: cityLabel(city.name), region: city.region },
      vehicles: page.items.map(vehicleRow),
      map: cityMapSvg({ cityLabel: cityLabel(city.name), centre, vehicles: mapVehicles(page.items), you: near }),
      near: near !== undefined,
      nearForm: { values: nearValues, errors: nearErrors, example: centre },
      filters: { type: type ?? '', status: status ?? '' },
      filtered: type !== undefined || status !== undefined,
      typeOptions: [{ value: '', label: 'All types' }, ...VEHICLE_TYPES.map((t) => ({ value: t, label: vehicleTypeLabel(t) }))],
      statusOptions: [
        { value: '', label: 'Any status' },
        ...LISTED_STATUSES.map((s) => ({ value: s, label: vehicleStatusLabel(s) })),
      ],
      notes,
      listPath: cityVehiclesPath(city.name),
      firstHref: cursor ? listHref(city.name, filters) : undefined,
      nextHref: page.nextCursor ? listHref(city.name, filters, page.nextCursor) : undefined,
      viewer,
      canStart: viewer === 'local' && openRide === undefined,
      openRideHref: openRide ? ridePath(openRide.city, openRide.id) : undefined,
      homeCity: user ? { label: cityLabel(user.city), href: cityVehiclesPath(user.city) } : undefined,
      loginHref: loginPath(request.url),
      currency,
      prices: priceRows(priceLists[currency], currency),
    });
  });

  const startRoute = { schema: { params: vehicleParams }, preHandler: requireUser };
  const startTarget = (params: { city: string; id: string }) => ({ city: cityOr404(regions, params.city), id: idOr404(params.id, 'vehicle') });

  // The price, and a confirmation step before anything is charged: a page, so no script is needed.
  app.get('/cities/:city/vehicles/:id/start', startRoute, async (request, reply) => {
    const { city, id } = startTarget(request.params);
    const vehicle = await getVehicle(db, city.name, id);
    const row = vehicleRow(vehicle);
    const currency = regions.currencyOf(city.name);
    const price = priceOf(priceLists[currency], vehicle.type);
    return reply.page('ride-start', {
      title: 'Start your ride',
      nav: 'cities',
      city: { name: city.name, label: cityLabel(city.name) },
      vehicle: row,
      price: { unlock: formatMoney(price.unlockCents, currency), perMinute: formatMoney(price.perMinuteCents, currency) },
      listPath: cityVehiclesPath(city.name),
      ownCity: userOf(request).city === city.name,
    });
  });

  app.post('/cities/:city/vehicles/:id/start', startRoute, async (request, reply) => {
    const { city, id } = startTarget(request.params);
    const user = userOf(request);
    const back = cityVehiclesPath(city.name);
    try {
      const ride = await startRide(db, user, { city: city.name, id }, { stats: rideStats });
      const what = ride.vehicleType ? vehicleTypeLabel(ride.vehicleType).toLowerCase() : 'ride';
      return reply.flash('success', `Your ${what} is unlocked. Have a good ride!`).redirect(ridePath(ride.city, ride.id), 303);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      if (isDomainError(error, 'ride_already_open')) {
        const open = await findOpenRide(db, user);
        return reply.flash('info', error.message).redirect(open ? ridePath(open.city, open.id) : back, 303);
      }
      // vehicle_unavailable, outside_home_city: the domain's message says what happened.
      return reply.flash('error', error.message).redirect(back, 303);
    }
  });
};
