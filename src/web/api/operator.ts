// The operators' API, under /api/v1/operator: for operators only (plugins/operator.ts refuses
// everyone else with 401 or 403 before a handler runs).
//
//   GET   /operator/promo-codes                   every code (listed or not), ?state=
//   POST  /operator/promo-codes                   creates a campaign's code
//   GET   /operator/promo-codes/{code}            one code
//   PATCH /operator/promo-codes/{code}            changes its rules
//   POST  /operator/promo-codes/{code}/end        ends it now
//   POST  /operator/promo-codes/{code}/grants     gives it to a rider
//   GET   /operator/fleet/{city}                  status counts, utilisation, idle and lost vehicles
//   GET   /operator/fleet/{city}/vehicles         the city's vehicles, any status
//   POST  /operator/vehicles/{city}/{id}/lost     reports a vehicle lost
//   POST  /operator/vehicles/{city}/{id}/found    marks it found
//   GET   /operator/dashboard                     rides and revenue of a region or city
//   GET   /operator/actions                       what operators did, newest first
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { dashboard } from '../../movr/dashboard.ts';
import { fleetOverview, listFleetVehicles, markFound, reportLost } from '../../movr/fleet.ts';
import { listActions } from '../../movr/operators.ts';
import { createCampaign, endCampaign, getPromoCode, giveCode, listCampaigns, updateCampaign } from '../../movr/promo-codes.ts';
import { cityOr404 } from '../lookups.ts';
import { operatorOf } from '../plugins/operator.ts';
import { SECURED, withApiFieldNames } from './common.ts';
import {
  ActionPage,
  CAMPAIGN_FIELD_NAMES,
  CampaignEnvelope,
  CampaignPage,
  CampaignQuery,
  CityParams,
  CodeParams,
  DashboardQuery,
  DashboardSchema,
  FleetQuery,
  FleetSchema,
  FleetVehicleQuery,
  FoundBody,
  GiveBody,
  GivenSchema,
  campaignChangesBody,
  campaignInputOfBody,
  newCampaignBody,
  toApiAction,
  toApiCampaign,
  toApiDashboard,
  toApiFleet,
} from './operator-schemas.ts';
import { CityIdParams, PageQuery, VehicleEnvelope, VehiclePage, responses, toApiVehicle } from './schemas.ts';

const TAGS = ['operator'];
const OPERATOR_ERRORS = [401, 403] as const;

export const operatorRoutes: FastifyPluginAsyncZod = async (app) => {
  const { db, regions } = app;

  app.get(
    '/operator/promo-codes',
    {
      schema: {
        tags: TAGS,
        summary: 'Every promo code, listed or not',
        description: 'In code order, a page at a time; `state` keeps only active, scheduled or ended codes.',
        security: SECURED,
        querystring: CampaignQuery,
        response: responses({ 200: CampaignPage.describe('A page of codes.') }, OPERATOR_ERRORS),
      },
    },
    async (request) => {
      const { limit, cursor, state } = request.query;
      const result = await listCampaigns(db, { limit, cursor, state });
      const now = new Date();
      return { items: result.items.map((promo) => toApiCampaign(promo, now)), next_cursor: result.nextCursor };
    },
  );

  app.post(
    '/operator/promo-codes',
    {
      schema: {
        tags: TAGS,
        summary: 'Create a promo code',
        description:
          'A percent (`percent_off`) or fixed (`amount_off_cents`) discount, valid from `starts_at` to `expires_at`, for ' +
          '`redemption_limit` riders in all and `per_rider_limit` rides each (1 by default), in the `cities` or `regions` ' +
          'given (everywhere by default), listed publicly unless `listed` is false. 409 `promo_code_exists`.',
        security: SECURED,
        body: newCampaignBody(regions),
        response: responses({ 201: CampaignEnvelope.describe('The code, as created.') }, [...OPERATOR_ERRORS, 409]),
      },
    },
    async (request, reply) => {
      const operator = operatorOf(request);
      const { code, ...rest } = request.body;
      const input = { code, discountType: 'percent' as const, ...campaignInputOfBody(rest) };
      const promo = await withApiFieldNames(CAMPAIGN_FIELD_NAMES, 'body', () => createCampaign(db, operator, input, { regions }));
      return reply.code(201).send({ promo_code: toApiCampaign(promo) });
    },
  );

  app.get(
    '/operator/promo-codes/:code',
    {
      schema: {
        tags: TAGS,
        summary: 'A promo code',
        security: SECURED,
        params: CodeParams,
        response: responses({ 200: CampaignEnvelope.describe('The code.') }, [...OPERATOR_ERRORS, 404]),
      },
    },
    async (request) => ({ promo_code: toApiCampaign(await getPromoCode(db, request.params.code)) }),
  );

  app.patch(
    '/operator/promo-codes/:code',
    {
      schema: {
        tags: TAGS,
        summary: 'Change a promo code',
        description: 'Fields left out stay as they are. 409 `promo_code_ended` for a code that has ended.',
        security: SECURED,
        params: CodeParams,
        body: campaignChangesBody(regions),
        response: responses({ 200: CampaignEnvelope.describe('The code, as changed.') }, [...OPERATOR_ERRORS, 404, 409]),
      },
    },
    async (request) => {
      const operator = operatorOf(request);
      const changes = campaignInputOfBody(request.body ?? {});
      const promo = await withApiFieldNames(CAMPAIGN_FIELD_NAMES, 'body', () =>
        updateCampaign(db, operator, request.params.code, changes, { regions }),
      );
      return { promo_code: toApiCampaign(promo) };
    },
  );

  app.post(
    '/operator/promo-codes/:code/end',
    {
      schema: {
        tags: TAGS,
        summary: 'End a promo code now',
        description: 'It expires at once; riders who hold it keep it as expired. 409 `promo_code_ended` if it has ended already.',
        security: SECURED,
        params: CodeParams,
        response: responses({ 200: CampaignEnvelope.describe('The code, ended.') }, [...OPERATOR_ERRORS, 404, 409]),
      },
    },
    async (request) => ({ promo_code: toApiCampaign(await endCampaign(db, operatorOf(request), request.params.code)) }),
  );

  app.post(
    '/operator/promo-codes/:code/grants',
    {
      schema: {
        tags: TAGS,
        summary: 'Give a promo code to a rider',
        description:
          'Adds it to the rider’s account, listed or not, within its limits. 404 `username_not_found` or ' +
          '`promo_code_not_found`; 409 `promo_code_already_added`, `promo_code_exhausted`, `promo_code_not_here`, ' +
          '`promo_code_expired` or `promo_code_not_active`.',
        security: SECURED,
        params: CodeParams,
        body: GiveBody,
        response: responses({ 201: GivenSchema.describe('Given.') }, [...OPERATOR_ERRORS, 404, 409]),
      },
    },
    async (request, reply) => {
      const { user, promo } = await giveCode(db, operatorOf(request), request.params.code, request.body.username);
      return reply.code(201).send({ code: promo.code, username: request.body.username, user_id: user.id, city: user.city });
    },
  );

  app.get(
    '/operator/fleet/:city',
    {
      schema: {
        tags: TAGS,
        summary: 'A city’s fleet',
        description: 'Vehicles by status, utilisation over the last day and week, vehicles idle for long, lost vehicles.',
        security: SECURED,
        params: CityParams,
        querystring: FleetQuery,
        response: responses({ 200: FleetSchema.describe('The fleet.') }, [...OPERATOR_ERRORS, 404]),
      },
    },
    async (request) => {
      const city = cityOr404(regions, request.params.city);
      return toApiFleet(await fleetOverview(db, city.name, { idleHours: request.query.idle_hours }));
    },
  );

  app.get(
    '/operator/fleet/:city/vehicles',
    {
      schema: {
        tags: TAGS,
        summary: 'A city’s vehicles, any status',
        description: 'Lost and retired ones included, in id order, a page at a time.',
        security: SECURED,
        params: CityParams,
        querystring: FleetVehicleQuery,
        response: responses({ 200: VehiclePage.describe('A page of vehicles.') }, [...OPERATOR_ERRORS, 404]),
      },
    },
    async (request) => {
      const city = cityOr404(regions, request.params.city);
      const { status, limit, cursor } = request.query;
      const result = await withApiFieldNames({}, 'querystring', () => listFleetVehicles(db, city.name, { status, limit, cursor }));
      return { items: result.items.map(toApiVehicle), next_cursor: result.nextCursor };
    },
  );

  app.post(
    '/operator/vehicles/:city/:id/lost',
    {
      schema: {
        tags: TAGS,
        summary: 'Report a vehicle lost',
        description: 'It is no longer offered to riders. 409 `vehicle_in_use`, `vehicle_lost` or `vehicle_retired`.',
        security: SECURED,
        params: CityIdParams,
        response: responses({ 200: VehicleEnvelope.describe('The vehicle, lost.') }, [...OPERATOR_ERRORS, 404, 409]),
      },
    },
    async (request) => {
      const city = cityOr404(regions, request.params.city);
      return { vehicle: toApiVehicle(await reportLost(db, operatorOf(request), city.name, request.params.id)) };
    },
  );

  app.post(
    '/operator/vehicles/:city/:id/found',
    {
      schema: {
        tags: TAGS,
        summary: 'Mark a lost vehicle found',
        description: 'Available again, where it was found. 409 `vehicle_not_lost`.',
        security: SECURED,
        params: CityIdParams,
        body: FoundBody.nullish(),
        response: responses({ 200: VehicleEnvelope.describe('The vehicle, available.') }, [...OPERATOR_ERRORS, 404, 409]),
      },
    },
    async (request) => {
      const city = cityOr404(regions, request.params.city);
      const location = request.body?.current_location;
      const vehicle = await withApiFieldNames({ location: 'current_location' }, 'body', () =>
        markFound(db, operatorOf(request), city.name, request.params.id, { location }),
      );
      return { vehicle: toApiVehicle(vehicle) };
    },
  );

  app.get(
    '/operator/dashboard',
    {
      schema: {
        tags: TAGS,
        summary: 'Rides and revenue of a region or a city',
        description:
          'For rides that ended in the period: totals, a series per hour or day, figures per city and the busiest ' +
          'vehicles. 404 `region_not_found` or `city_not_found`. The CSV export is the site’s /operator/export.csv.',
        security: SECURED,
        querystring: DashboardQuery,
        response: responses({ 200: DashboardSchema.describe('The figures.') }, [...OPERATOR_ERRORS, 404]),
      },
    },
    async (request) => {
      const { region, city, from, to, bucket } = request.query;
      const scope = city !== undefined ? { kind: 'city' as const, city } : { kind: 'region' as const, region: region ?? '' };
      const figures = await withApiFieldNames({}, 'querystring', () =>
        dashboard(db, regions, scope, {
          from: from === undefined ? undefined : new Date(from),
          to: to === undefined ? undefined : new Date(to),
          bucket: bucket as 'hour' | 'day' | undefined,
        }),
      );
      return toApiDashboard(figures);
    },
  );

  app.get(
    '/operator/actions',
    {
      schema: {
        tags: TAGS,
        summary: 'What operators did',
        description: 'Who did what, when: newest first, a page at a time.',
        security: SECURED,
        querystring: PageQuery,
        response: responses({ 200: ActionPage.describe('A page of actions.') }, OPERATOR_ERRORS),
      },
    },
    async (request) => {
      const result = await withApiFieldNames({}, 'querystring', () => listActions(db, request.query));
      return { items: result.items.map(toApiAction), next_cursor: result.nextCursor };
    },
  );
};
