// A rider's rides: the open ride (where it has been, ending it), receipts, and the history.
//
//   GET  /rides                         my rides, newest first, keyset pages (?cursor=)
//   GET  /rides/:city/:id               the open ride, or its receipt once ended
//   POST /rides/:city/:id/locations     records where the vehicle is now (lat, long)
//   POST /rides/:city/:id/end           ends the ride at an address and charges the fare
//   GET  /rides/:city/:id/{locations,end}  back to the ride (a reload of a form shown with an error)
//
// Every route needs a logged-in user, and a ride is only ever its rider's: anyone else's ride
// (and any malformed id) is the friendly 404 page, and nothing is changed.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { NotFoundError, ValidationError, errorMessage, isDomainError } from '../../movr/errors.ts';
import { computeFare } from '../../movr/pricing.ts';
import {
  INVALID_LOCATION,
  type Ride,
  endRide,
  findOpenRide,
  getRide,
  routeOf,
  listLocations,
  listRides,
  recordLocation,
} from '../../movr/rides.ts';
import { parseInput } from '../../movr/rules.ts';
import { cityCentre } from '../../region-map.ts';
import { pointForm } from './point-form.ts';
import { routeMapSvg } from '../maps/route-map.ts';
import { type Vehicle, getVehicle } from '../../movr/vehicles.ts';
import { type FormErrors, type FormValues, NO_FORM_ERRORS, formErrors, formValues } from '../forms.ts';
import { cityOr404, idOr404 } from '../lookups.ts';
import { requireUser, userOf } from '../plugins/auth.ts';
import type { SessionUser } from '../plugins/sessions.ts';
import { colorLabel, ridePath } from './vehicles.ts';
import { cityLabel, cityVehiclesPath, formatDuration, formatMoney, vehicleTypeLabel } from './format.ts';

/** How many location points the ride page lists (the newest); the count covers them all. */

/** An ISO 8601 duration for <time datetime>: 'PT12M', 'PT1H5M', 'PT0M'. */
export function isoDuration(milliseconds: number): string {
  const minutes = Math.floor(Math.max(0, milliseconds) / 60_000);
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `PT${hours}H${minutes % 60}M` : `PT${minutes}M`;
}

interface FormState {
  values: FormValues;
  errors: FormErrors;
}

const EMPTY_FORM: FormState = { values: {}, errors: NO_FORM_ERRORS };

const rideParams = z.object({ city: z.string().max(100), id: z.string().max(100) });
const locationBody = z.object({ lat: z.string().max(100).optional(), long: z.string().max(100).optional() });
const endBody = z.object({ endAddress: z.string().max(10_000).optional() });
const listQuery = z.object({ cursor: z.string().max(500).optional() });
/** A ride's page: `points` is the cursor of its page of location points. */
const rideQuery = z.object({ points: z.string().max(500).optional() });


export const ridesPlugin: FastifyPluginAsyncZod = async (app) => {
  const { db, regions, priceLists, rideStats } = app;
  /** Renders a ride's page: the open ride with its forms, or the receipt. */
  async function renderRide(
    reply: FastifyReply,
    user: SessionUser,
    ride: Ride,
    forms: { location?: FormState; end?: FormState } = {},
    pointsCursor?: string,
  ) {
    const now = new Date();
    let vehicle: Vehicle | undefined;
    if (ride.vehicleCity && ride.vehicleId) {
      try {
        vehicle = await getVehicle(db, ride.vehicleCity, ride.vehicleId);
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    const [points, route] = await Promise.all([listLocations(db, user, ride, { cursor: pointsCursor }), routeOf(db, ride)]);
    const pointCount = route.length;
    const open = ride.endTime === null;
    const start = ride.startTime;
    const end = ride.endTime ?? now;
    const elapsedMs = start ? Math.max(0, end.getTime() - start.getTime()) : 0;
    const type = ride.vehicleType ?? vehicle?.type ?? null;
    const currency = regions.currencyOf(ride.city);
    const price = computeFare(priceLists[currency], type, start ?? now, now);
    const path = ridePath(ride.city, ride.id);
    return reply.page('ride', {
      title: open ? 'Your ride' : 'Ride receipt',
      nav: 'rides',
      open,
      ride: {
        id: ride.id,
        city: ride.city,
        cityLabel: cityLabel(ride.city),
        startAddress: ride.startAddress?.trim() || '—',
        endAddress: ride.endAddress?.trim() || '—',
        startTime: ride.startTime,
        endTime: ride.endTime,
        revenueCents: ride.revenueCents,
        receipt: ride.receipt,
      },
      vehicle: {
        type: type ?? 'unknown',
        typeLabel: type ? vehicleTypeLabel(type) : 'Vehicle',
        color: vehicle?.color ? colorLabel(vehicle.color) : undefined,
        brand: vehicle?.brand ?? undefined,
      },
      elapsed: { label: formatDuration(elapsedMs), iso: isoDuration(elapsedMs) },
      estimate: open
        ? {
            fare: formatMoney(price.fareCents, currency),
            unlock: formatMoney(price.unlockCents, currency),
            perMinute: formatMoney(price.perMinuteCents, currency),
            minutes: price.minutes,
          }
        : undefined,
      description: [vehicle?.color ? colorLabel(vehicle.color) : undefined, type ? vehicleTypeLabel(type).toLowerCase() : 'vehicle']
        .filter(Boolean)
        .join(' ')
        .replace(/^./, (c) => c.toUpperCase()),
      path,
      pointCount,
      points: points.items,
      pointsFirstHref: pointsCursor ? `${path}#locations-title` : undefined,
      pointsNextHref: points.nextCursor ? `${path}?points=${encodeURIComponent(points.nextCursor)}#locations-title` : undefined,
      timeZone: regions.timeZoneOf(ride.city),
      currency,
      routeMap: route.length > 0 ? routeMapSvg({ points: route, title: `Route of ${open ? 'your ride' : 'the ride'} in ${cityLabel(ride.city)}` }) : undefined,
      pointExample: cityCentre(regions.findCity(ride.city) ?? { name: ride.city, region: '' }),
      locationAction: `${path}/locations`,
      endAction: `${path}/end`,
      locationForm: forms.location ?? EMPTY_FORM,
      endForm: forms.end ?? EMPTY_FORM,
      cityHref: cityVehiclesPath(ride.city),
    });
  }

  app.get('/rides', { schema: { querystring: listQuery }, preHandler: requireUser }, async (request, reply) => {
    const user = userOf(request);
    const cursor = request.query.cursor?.trim() || undefined;
    const [page, open] = await Promise.all([listRides(db, user, { cursor }), findOpenRide(db, user)]);
    const now = new Date();
    return reply.page('rides', {
      title: 'My rides',
      nav: 'rides',
      rides: page.items.map((ride) => ({
        href: ridePath(ride.city, ride.id),
        open: ride.endTime === null,
        type: ride.vehicleType ?? 'unknown',
        typeLabel: ride.vehicleType ? vehicleTypeLabel(ride.vehicleType) : 'Vehicle',
        startAddress: ride.startAddress?.trim() || '—',
        endAddress: ride.endAddress?.trim() || '—',
        startTime: ride.startTime,
        endTime: ride.endTime,
        duration: ride.startTime ? formatDuration((ride.endTime ?? now).getTime() - ride.startTime.getTime()) : '—',
        fare: ride.revenueCents === null ? undefined : formatMoney(ride.revenueCents, regions.currencyOf(ride.city)),
      })),
      openRide: open
        ? {
            href: ridePath(open.city, open.id),
            typeLabel: open.vehicleType ? vehicleTypeLabel(open.vehicleType).toLowerCase() : 'vehicle',
            startAddress: open.startAddress?.trim() || '—',
            startTime: open.startTime,
            elapsed: open.startTime ? formatDuration(now.getTime() - open.startTime.getTime()) : undefined,
          }
        : undefined,
      timeZone: regions.timeZoneOf(user.city),
      homeHref: cityVehiclesPath(user.city),
      homeLabel: cityLabel(user.city),
      firstHref: cursor ? '/rides' : undefined,
      nextHref: page.nextCursor ? `/rides?cursor=${encodeURIComponent(page.nextCursor)}` : undefined,
    });
  });

  /** The logged-in rider's ride named by the path: a 404 for an unknown city, a malformed id or anyone else's ride. */
  async function requestedRide(request: FastifyRequest, params: { city: string; id: string }) {
    const city = cityOr404(regions, params.city);
    const id = idOr404(params.id, 'ride');
    const user = userOf(request);
    return { user, ride: await getRide(db, user, { city: city.name, id }) };
  }

  app.get('/rides/:city/:id', { schema: { params: rideParams, querystring: rideQuery }, preHandler: requireUser }, async (request, reply) => {
    const { user, ride } = await requestedRide(request, request.params);
    return renderRide(reply, user, ride, {}, request.query.points?.trim() || undefined);
  });

  // A form with an error is shown at its POST address: a reload (a GET) goes back to the ride.
  for (const form of ['locations', 'end']) {
    app.get(`/rides/:city/:id/${form}`, { schema: { params: rideParams }, preHandler: requireUser }, async (request, reply) => {
      const { ride } = await requestedRide(request, request.params);
      return reply.redirect(ridePath(ride.city, ride.id), 303);
    });
  }

  app.post(
    '/rides/:city/:id/locations',
    { schema: { params: rideParams, body: locationBody }, preHandler: requireUser },
    async (request, reply) => {
      const { user, ride } = await requestedRide(request, request.params);
      const path = ridePath(ride.city, ride.id);
      if (ride.endTime) return reply.flash('info', errorMessage('ride_already_ended')).redirect(path, 303);
      const values = formValues(request.body);
      try {
        const centre = cityCentre(regions.findCity(ride.city) ?? { name: ride.city, region: '' });
        const typed = parseInput(pointForm(centre), { lat: values.lat ?? '', long: values.long ?? '' }, { message: INVALID_LOCATION, always: true });
        await recordLocation(db, user, ride, { lat: Number(typed.lat), long: Number(typed.long) });
      } catch (error) {
        if (error instanceof ValidationError) {
          reply.code(400);
          return renderRide(reply, user, ride, { location: { values, errors: formErrors(error) } });
        }
        if (isDomainError(error, 'ride_already_ended')) return reply.flash('info', error.message).redirect(path, 303);
        throw error;
      }
      return reply.flash('success', 'Location recorded.').redirect(path, 303);
    },
  );

  app.post(
    '/rides/:city/:id/end',
    { schema: { params: rideParams, body: endBody }, preHandler: requireUser },
    async (request, reply) => {
      // Someone else's ride is a 404 before anything else is looked at.
      const { user, ride } = await requestedRide(request, request.params);
      const path = ridePath(ride.city, ride.id);
      const alreadyEnded = () => reply.flash('info', `${errorMessage('ride_already_ended')} Here is its receipt.`).redirect(path, 303);
      if (ride.endTime) return alreadyEnded();
      const values = formValues(request.body);
      let ended: Ride;
      try {
        ended = await endRide(db, user, ride, values.endAddress ?? '', { priceList: priceLists[regions.currencyOf(ride.city)], stats: rideStats });
      } catch (error) {
        if (error instanceof ValidationError) {
          reply.code(400);
          return renderRide(reply, user, ride, { end: { values, errors: formErrors(error) } });
        }
        if (isDomainError(error, 'ride_already_ended')) return alreadyEnded();
        throw error;
      }
      const paid = ended.revenueCents === null ? '' : ` You paid ${formatMoney(ended.revenueCents, regions.currencyOf(ended.city))}.`;
      return reply.flash('success', `Ride ended. Thanks for riding with MovR!${paid}`).redirect(path, 303);
    },
  );
};
