// Vehicles: a city's, one, adding and retiring your own.
//
//   GET    /vehicles?city=&status=&type=&limit=&cursor=   a city's vehicles, a page at a time
//   GET    /vehicles?city=&near=lat,long&type=&limit=     its available vehicles nearest to a point first
//   GET    /vehicles/{city}/{id}                          one vehicle
//   POST   /vehicles                                      adds a vehicle owned by the caller
//   DELETE /vehicles/{city}/{id}                          retires the caller's own vehicle
//   GET    /me/vehicles                                   the caller's vehicles
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { MAX_VEHICLES_PER_OWNER } from '../../movr/rules.ts';
import { addVehicle, getVehicle, listOwnedVehicles, listVehicles, listVehiclesNear, retireVehicle } from '../../movr/vehicles.ts';
import { cityOr404 } from '../lookups.ts';
import { SECURED, callerOf, withApiFieldNames } from './common.ts';
import {
  CityIdParams,
  NewVehicleBody,
  NoContent,
  VehicleEnvelope,
  PageQuery,
  VehiclePage,
  VehicleQuery,
  responses,
  toApiNearbyVehicle,
  toApiVehicle,
} from './schemas.ts';

/** The colour of a vehicle added without one. */
export const DEFAULT_VEHICLE_COLOR = 'black';

export const vehiclesRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, regions } = app;
  app.get(
    '/vehicles',
    {
      schema: {
        tags: ['vehicles'],
        summary: 'A city’s vehicles',
        description:
          'In id order, a page at a time: the vehicles offered to riders. Lost and retired vehicles are never listed ' +
          '(operators see them in the fleet, `GET /operator/fleet/{city}/vehicles`). ' +
          'With `near=lat,long`: the available vehicles nearest to that point first, with `distance_m`.',
        querystring: VehicleQuery,
        response: responses({ 200: VehiclePage.describe('A page of vehicles.') }, [404]),
      },
    },
    async (request) => {
      const { city, status, type, limit, cursor, near } = request.query;
      cityOr404(regions, city);
      if (near !== undefined) {
        const nearest = await listVehiclesNear(db, { city, type, limit, lat: near.lat, long: near.long });
        return { items: nearest.map(toApiNearbyVehicle), next_cursor: null };
      }
      const result = await withApiFieldNames({}, 'querystring', () => listVehicles(db, { city, status, type, limit, cursor }));
      return { items: result.items.map(toApiVehicle), next_cursor: result.nextCursor };
    },
  );

  app.get(
    '/vehicles/:city/:id',
    {
      schema: {
        tags: ['vehicles'],
        summary: 'One vehicle',
        params: CityIdParams,
        response: responses({ 200: VehicleEnvelope.describe('The vehicle.') }, [404]),
      },
    },
    async (request) => {
      const { city, id } = request.params;
      cityOr404(regions, city);
      return { vehicle: toApiVehicle(await getVehicle(db, city, id)) };
    },
  );

  app.post(
    '/vehicles',
    {
      schema: {
        tags: ['vehicles'],
        summary: 'Add a vehicle you own',
        description: `Vehicles are registered in the owner’s home city; the colour is ${DEFAULT_VEHICLE_COLOR} unless given. An owner may have up to ${MAX_VEHICLES_PER_OWNER} vehicles in service (409 \`vehicle_limit_reached\`).`,
        security: SECURED,
        body: NewVehicleBody,
        response: responses({ 201: VehicleEnvelope.describe('The new vehicle, available.') }, [401, 403, 404, 409]),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = request.body;
      const vehicle = await withApiFieldNames({ location: 'current_location' }, 'body', () =>
        addVehicle(db, caller, {
          city: body.city,
          type: body.type,
          color: body.color ?? DEFAULT_VEHICLE_COLOR,
          brand: body.brand,
          location: body.current_location,
          position: body.lat != null && body.long != null ? { lat: body.lat, long: body.long } : null,
        }, { regions }),
      );
      return reply.code(201).send({ vehicle: toApiVehicle(vehicle) });
    },
  );

  app.delete(
    '/vehicles/:city/:id',
    {
      schema: {
        tags: ['vehicles'],
        summary: 'Retire a vehicle you own',
        description:
          'Takes your vehicle out of service for good. Refused for other people’s vehicles (403 `not_vehicle_owner`) ' +
          'and while someone rides it (409 `vehicle_in_use`).',
        security: SECURED,
        params: CityIdParams,
        response: responses({ 204: NoContent('The vehicle is retired.') }, [401, 403, 404, 409]),
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const { city, id } = request.params;
      cityOr404(regions, city);
      await retireVehicle(db, caller, city, id);
      return reply.code(204).send();
    },
  );

  app.get(
    '/me/vehicles',
    {
      schema: {
        tags: ['vehicles', 'me'],
        summary: 'Your vehicles',
        description: `Every vehicle you own, retired ones included, in id order, a page at a time. An owner may have up to ${MAX_VEHICLES_PER_OWNER} vehicles that are not retired.`,
        security: SECURED,
        querystring: PageQuery,
        response: responses({ 200: VehiclePage.describe('A page of the caller’s vehicles.') }, [401]),
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { limit, cursor } = request.query;
      const result = await withApiFieldNames({}, 'querystring', () => listOwnedVehicles(db, caller, { limit, cursor }));
      return { items: result.items.map(toApiVehicle), next_cursor: result.nextCursor };
    },
  );
};
