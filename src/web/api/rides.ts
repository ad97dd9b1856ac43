// Rides: starting one, the caller's rides, recording where it goes, ending it.
//
//   POST /rides                          starts a ride (Idempotency-Key)
//   GET  /rides?limit=&cursor=           the caller's rides, newest first
//   GET  /rides/{city}/{id}              one of the caller's rides
//   POST /rides/{city}/{id}/locations    records a location point of an open ride
//   GET  /rides/{city}/{id}/locations    the ride's location points, oldest first
//   POST /rides/{city}/{id}/end          ends the ride and charges the fare (Idempotency-Key)
//
// Other riders' rides are invisible: 404 ride_not_found, exactly as for rides that do not exist.
//
// Safe retries. With an Idempotency-Key, the first successful response to a (user, key) is
// stored in the same transaction as the ride it reports (the domain's `inTransaction` option),
// so either both commit or neither does. A request with a key that already has a response gets
// that response again, with `Idempotent-Replayed: true`, and does nothing; a key reused for a
// different body is refused (409 idempotency_key_reused). When two requests with one key race,
// the loser fails (the key's primary key, or the ride the winner just started or ended, stops
// it) and then finds and returns the winner's response. Errors are not stored: a request that
// failed may be retried with the same key.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RegionMap } from '../../region-map.ts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  type IdempotentRequest,
  type StoredResponse,
  idempotentRequest,
  storedResponse,
  storeResponse,
} from '../../movr/idempotency.ts';
import { type InTransaction, type Ride, endRide, getRide, listLocations, listRides, recordLocation, startRide } from '../../movr/rides.ts';
import { MAX_POINTS_PER_RIDE } from '../../movr/rules.ts';
import type { Database } from '../../db/connect.ts';
import { cityOr404 } from '../lookups.ts';
import { SECURED, callerOf, withApiFieldNames } from './common.ts';
import {
  CityIdParams,
  EndRideBody,
  IdempotencyHeaders,
  LocationEnvelope,
  LocationPage,
  NewLocationBody,
  NewRideBody,
  PageQuery,
  RideEnvelope,
  RidePage,
  responses,
  toApiLocation,
  toApiRide,
} from './schemas.ts';

export const IDEMPOTENT_REPLAY_HEADER = 'idempotent-replayed';

/**
 * Answers a ride operation, once per Idempotency-Key when the request has one (see the top of
 * this file). `act` does the work, passing `inTransaction` on to the domain function.
 */
async function answerIdempotently(
  db: Database,
  regions: RegionMap,
  request: FastifyRequest,
  reply: FastifyReply,
  operation: string,
  body: unknown,
  statusCode: 200 | 201,
  act: (inTransaction: InTransaction | undefined) => Promise<Ride>,
): Promise<FastifyReply> {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string') {
    const ride = await act(undefined);
    return reply.code(statusCode).send({ ride: toApiRide(ride, regions.currencyOf(ride.city)) });
  }
  const caller = callerOf(request);
  const idempotent: IdempotentRequest = await withApiFieldNames({}, 'headers', async () =>
    idempotentRequest({ city: caller.city, id: caller.id }, key, operation, body),
  );
  const replay = (stored: StoredResponse) =>
    reply.code(stored.statusCode).header(IDEMPOTENT_REPLAY_HEADER, 'true').send(stored.body);

  const earlier = await storedResponse(db, idempotent);
  if (earlier) return replay(earlier);
  try {
    const ride = await act((tx, committed) =>
      storeResponse(tx, idempotent, { statusCode, body: { ride: toApiRide(committed, regions.currencyOf(committed.city)) } }),
    );
    return reply.code(statusCode).send({ ride: toApiRide(ride, regions.currencyOf(ride.city)) });
  } catch (error) {
    // A concurrent request with the same key won: its response is this request's answer too.
    const winner = await storedResponse(db, idempotent);
    if (winner) return replay(winner);
    throw error;
  }
}

export const ridesRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, regions, priceLists, rideStats } = app;
  app.post(
    '/rides',
    {
      schema: {
        tags: ['rides'],
        summary: 'Start a ride',
        description:
          'Starts a ride on an available vehicle in your home city. Refused when the vehicle is not available ' +
          '(409 `vehicle_unavailable`: someone else may have just taken it) or you already have an open ride ' +
          '(409 `ride_already_open`). Send an `Idempotency-Key` to retry safely.',
        security: SECURED,
        headers: IdempotencyHeaders,
        body: NewRideBody,
        response: responses({ 201: RideEnvelope.describe('The ride, open.') }, [401, 403, 404, 409]),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = request.body;
      return answerIdempotently(db, regions, request, reply, 'POST /api/v1/rides', body, 201, (inTransaction) =>
        startRide(db, caller, { city: body.vehicle_city, id: body.vehicle_id }, { inTransaction, stats: rideStats }),
      );
    },
  );

  app.get(
    '/rides',
    {
      schema: {
        tags: ['rides'],
        summary: 'Your rides',
        description: 'Newest first, a page at a time.',
        security: SECURED,
        querystring: PageQuery,
        response: responses({ 200: RidePage.describe('A page of the caller’s rides.') }, [401]),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { limit, cursor } = request.query;
      const result = await withApiFieldNames({}, 'querystring', () => listRides(db, caller, { limit, cursor }));
      return { items: result.items.map((ride) => toApiRide(ride, regions.currencyOf(ride.city))), next_cursor: result.nextCursor };
    },
  );

  app.get(
    '/rides/:city/:id',
    {
      schema: {
        tags: ['rides'],
        summary: 'One of your rides',
        security: SECURED,
        params: CityIdParams,
        response: responses({ 200: RideEnvelope.describe('The ride.') }, [401, 404]),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { city, id } = request.params;
      cityOr404(regions, city);
      return { ride: toApiRide(await getRide(db, caller, { city, id }), regions.currencyOf(city)) };
    },
  );

  app.post(
    '/rides/:city/:id/locations',
    {
      schema: {
        tags: ['rides'],
        summary: 'Record where your open ride is',
        description:
          'Adds a location point, timestamped now, to your open ride (409 `ride_already_ended` once it has ended). ' +
          `Two points in one millisecond: the same point again is answered with what is stored, a different one is refused (409 \`location_conflict\`). ` +
          `A ride holds up to ${MAX_POINTS_PER_RIDE} points (409 \`ride_points_limit\`).`,
        security: SECURED,
        params: CityIdParams,
        body: NewLocationBody,
        response: responses({ 201: LocationEnvelope.describe('The point recorded.') }, [401, 403, 404, 409]),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { city, id } = request.params;
      cityOr404(regions, city);
      const point = await withApiFieldNames({}, 'body', () =>
        recordLocation(db, caller, { city, id }, { lat: request.body.lat, long: request.body.long }),
      );
      return reply.code(201).send({ location: toApiLocation(point) });
    },
  );

  app.get(
    '/rides/:city/:id/locations',
    {
      schema: {
        tags: ['rides'],
        summary: 'Where your ride went',
        description: 'The ride’s location points, oldest first, a page at a time.',
        security: SECURED,
        params: CityIdParams,
        querystring: PageQuery,
        response: responses({ 200: LocationPage.describe('A page of the location points.') }, [401, 404]),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { city, id } = request.params;
      cityOr404(regions, city);
      const { limit, cursor } = request.query;
      const result = await withApiFieldNames({}, 'querystring', () => listLocations(db, caller, { city, id }, { limit, cursor }));
      return { items: result.items.map(toApiLocation), next_cursor: result.nextCursor };
    },
  );

  app.post(
    '/rides/:city/:id/end',
    {
      schema: {
        tags: ['rides'],
        summary: 'End your ride and pay',
        description:
          'Ends your open ride where you left the vehicle, charges the fare (unlock fee plus a per-minute rate, less ' +
          'your best promo code) and makes the vehicle available there. 409 `ride_already_ended` if it has ended. ' +
          'Send an `Idempotency-Key` to retry safely.',
        security: SECURED,
        headers: IdempotencyHeaders,
        params: CityIdParams,
        body: EndRideBody,
        response: responses({ 200: RideEnvelope.describe('The ride, ended, with its revenue and receipt.') }, [401, 403, 404, 409]),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { city, id } = request.params;
      cityOr404(regions, city);
      const body = request.body;
      return answerIdempotently(db, regions, request, reply, `POST /api/v1/rides/${city}/${id.toLowerCase()}/end`, body, 200, (inTransaction) =>
        withApiFieldNames({ endAddress: 'end_address' }, 'body', () =>
          endRide(db, caller, { city, id }, body.end_address, { priceList: priceLists[regions.currencyOf(city)], inTransaction, stats: rideStats }),
        ),
      );
    },
  );
};
