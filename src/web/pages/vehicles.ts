// A city's vehicles, and starting a ride on one.
//
//   GET  /cities/:city/vehicles             the list: filters by type and status, keyset pages
//   POST /cities/:city/vehicles/:id/start   starts a ride on an available vehicle (logged in)
//
// A city in a URL is its stored name, URL-encoded (`/cities/new%20york/vehicles`); an unknown
// city is the friendly 404 page. The list works as a deep link: it needs nothing from a
// previous visit.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConflictError, domainError, isDomainError } from '../../movr/errors.ts';
import { VEHICLE_TYPES, type VehicleType } from '../../movr/rules.ts';
import { findOpenRide, findOpenRideRef, startRide } from '../../movr/rides.ts';
import { type Vehicle, listVehicles } from '../../movr/vehicles.ts';
import { cityOr404, idOr404 } from '../lookups.ts';
import { loginPath, requireUser, userOf } from '../plugins/auth.ts';
import { cityLabel, cityVehiclesPath, formatMoney, vehicleStatusLabel, vehicleTypeLabel } from './format.ts';

/** The statuses a visitor can filter the list by (retired vehicles are never listed). */
export const LISTED_STATUSES = ['available', 'in_use', 'lost'] as const;

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
  startAction: string;
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
  };
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
});

const cityParams = z.object({ city: z.string().max(100) });
const vehicleParams = z.object({ city: z.string().max(100), id: z.string().max(100) });

export const vehiclesPlugin: FastifyPluginAsyncZod = async (app) => {
  const { db, regions, priceList } = app;
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

    const user = request.currentUser;
    const viewer = !user ? 'visitor' : user.city === city.name ? 'local' : 'visitor_from_elsewhere';
    const [page, openRide] = await Promise.all([
      listVehicles(db, { city: city.name, type, status, cursor }),
      user && viewer === 'local' ? findOpenRideRef(db, user) : undefined,
    ]);
    const filters = { type, status };

    return reply.page('vehicles', {
      title: `Vehicles in ${cityLabel(city.name)}`,
      nav: 'cities',
      city: { name: city.name, label: cityLabel(city.name), region: city.region },
      vehicles: page.items.map(vehicleRow),
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
      prices: VEHICLE_TYPES.map((t) => ({
        type: t,
        label: vehicleTypeLabel(t),
        unlock: formatMoney(priceList[t].unlockCents),
        perMinute: formatMoney(priceList[t].perMinuteCents),
      })),
    });
  });

  app.post(
    '/cities/:city/vehicles/:id/start',
    { schema: { params: vehicleParams }, preHandler: requireUser },
    async (request, reply) => {
      const city = cityOr404(regions, request.params.city);
      const id = idOr404(request.params.id, 'vehicle');
      const user = userOf(request);
      const back = cityVehiclesPath(city.name);
      try {
        const ride = await startRide(db, user, { city: city.name, id });
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
    },
  );
};
