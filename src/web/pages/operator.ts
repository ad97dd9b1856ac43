// The operators' pages, under /operator (operators only: plugins/operator.ts refuses everyone
// else before a handler runs).
//
//   GET  /operator                                  → the dashboard
//   GET  /operator/dashboard?region=|city=&from=&to=&bucket=   the numbers, with charts
//   GET  /operator/export.csv?…                     the period's rides as CSV
//   GET  /operator/promo-codes?state=&cursor=       every code; POST creates one
//   GET  /operator/promo-codes/new                  the form for a new code
//   GET  /operator/promo-codes/:code                a code: edit it (POST), end it, give it
//   POST /operator/promo-codes/:code/end | /give
//   GET  /operator/fleet, /operator/fleet/:city     a city's fleet
//   POST /operator/fleet/:city/:id/lost | /found
//   GET  /operator/actions?cursor=                  what operators did
import { stringify } from 'csv-stringify/sync';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Bucket, type Scope, dashboard, exportRides } from '../../movr/dashboard.ts';
import { DomainError, ValidationError, isDomainError } from '../../movr/errors.ts';
import { DEFAULT_IDLE_HOURS, LOST, fleetOverview, listFleetVehicles, markFound, reportLost } from '../../movr/fleet.ts';
import { listActions } from '../../movr/operators.ts';
import { centsToDecimal } from '../../movr/pricing.ts';
import {
  type CampaignState,
  type PromoCampaignInput,
  type PromoCode,
  campaignInputOf,
  campaignState,
  createCampaign,
  endCampaign,
  getPromoCode,
  giveCode,
  listCampaigns,
  updateCampaign,
} from '../../movr/promo-codes.ts';
import { PROMO_FIXED_MAX_CENTS, PROMO_PER_RIDER_MAX, VEHICLE_STATUSES } from '../../movr/rules.ts';
import { type FormErrors, type FormValues, NO_FORM_ERRORS, formErrors, formValues } from '../forms.ts';
import { cityOr404, idOr404 } from '../lookups.ts';
import { operatorOf } from '../plugins/operator.ts';
import { dashboardCharts } from './operator-charts.ts';
import { cityLabel, regionLabel } from './format.ts';
import { discountLabel } from './promo-codes.ts';

export const OPERATOR_HOME = '/operator';
const PROMO_PATH = '/operator/promo-codes';
const FLEET_PATH = '/operator/fleet';

const optionalText = z.string().max(200).optional().catch(undefined);
const dashboardQuery = z.object({
  region: optionalText,
  city: optionalText,
  from: optionalText,
  to: optionalText,
  bucket: z.enum(['hour', 'day']).optional().catch(undefined),
});
type DashboardQuery = z.output<typeof dashboardQuery>;

const DAY_MS = 86_400_000;

/** A date typed in a form (YYYY-MM-DD, UTC midnight), or undefined. */
function dayOf(value: string | undefined): Date | undefined {
  if (!value || !/^\d{4}-\d\d-\d\d$/.test(value)) return undefined;
  const date = new Date(`${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const dayText = (date: Date) => date.toISOString().slice(0, 10);

/** `2026-05-04T09:30` (a datetime-local input's value, UTC) or a date, as a Date. */
function dateTimeOf(value: string | undefined): Date | undefined | null {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  const date = new Date(/^\d{4}-\d\d-\d\d$/.test(text) ? `${text}T00:00:00Z` : /Z|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

const dateTimeText = (date: Date | null | undefined) => (date ? date.toISOString().slice(0, 16) : '');

function scopeOf(regions: Parameters<typeof dashboard>[1], query: DashboardQuery, instanceRegion: string | undefined): Scope {
  if (query.city) return { kind: 'city', city: query.city };
  return { kind: 'region', region: query.region ?? instanceRegion ?? regions.regionNames[0] ?? '' };
}

/** The period of the dashboard form: whole days, `to` inclusive; the last 7 days by default. */
function periodOf(query: DashboardQuery, now: Date): { from: Date; to: Date } {
  const today = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
  const lastDay = dayOf(query.to) ?? today;
  const to = new Date(lastDay.getTime() + DAY_MS);
  const from = dayOf(query.from) ?? new Date(to.getTime() - 7 * DAY_MS);
  return { from, to };
}

function queryString(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}


const STATE_LABELS: Record<CampaignState, string> = { active: 'Active', scheduled: 'Scheduled', ended: 'Ended' };

/** Every value of a form field sent several times (checkboxes). */
function allValues(body: unknown, name: string): string[] {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((item): item is string => typeof item === 'string');
}

/** A whole number typed in a form; blank is undefined; anything else NaN (the rule says what is wrong). */
function wholeNumber(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
}

/** The campaign form's fields as the domain's input. */
function campaignInputOfForm(values: FormValues, body: unknown): Omit<PromoCampaignInput, 'code'> & { code?: string } {
  const fixed = values.discountType === 'fixed';
  const amount = (values.discountValue ?? '').trim();
  const startsAt = dateTimeOf(values.startsAt);
  const expiresAt = dateTimeOf(values.expiresAt);
  const limit = wholeNumber(values.redemptionLimit);
  return {
    ...(values.code === undefined ? {} : { code: values.code }),
    description: values.description ?? null,
    discountType: fixed ? 'fixed' : 'percent',
    percentOff: fixed ? null : amount === '' ? null : Number(amount),
    fixedOffCents: fixed ? (amount === '' ? null : /^\d+(\.\d{1,2})?$/.test(amount) ? Math.round(Number(amount) * 100) : Number.NaN) : null,
    ...(startsAt === undefined ? {} : { startsAt: startsAt ?? new Date(Number.NaN) }),
    expiresAt: expiresAt === undefined ? null : (expiresAt ?? new Date(Number.NaN)),
    redemptionLimit: limit ?? null,
    perRiderLimit: wholeNumber(values.perRiderLimit) ?? 1,
    cities: allValues(body, 'cities'),
    regions: allValues(body, 'regions'),
    listed: values.listed === 'yes',
  };
}

/** The form's values for a code (to edit it), or the defaults of a new one. */
function formOfCampaign(input: PromoCampaignInput | undefined): Record<string, unknown> {
  if (!input) return { discountType: 'percent', perRiderLimit: '1', listed: 'yes', cities: [], regions: [] };
  return {
    code: input.code,
    description: input.description ?? '',
    discountType: input.discountType,
    discountValue: input.discountType === 'fixed' ? centsToDecimal(input.fixedOffCents ?? 0) : String(input.percentOff ?? ''),
    startsAt: dateTimeText(input.startsAt),
    expiresAt: dateTimeText(input.expiresAt),
    redemptionLimit: input.redemptionLimit == null ? '' : String(input.redemptionLimit),
    perRiderLimit: String(input.perRiderLimit ?? 1),
    listed: input.listed === false ? 'no' : 'yes',
    cities: input.cities ?? [],
    regions: input.regions ?? [],
  };
}

/** The domain's field names as the form's. */
const FORM_FIELDS: Record<string, string> = { percentOff: 'discountValue', fixedOffCents: 'discountValue', discountType: 'discountValue' };

function campaignFormErrors(error: ValidationError): FormErrors {
  return formErrors(error.fields.map((field) => ({ ...field, path: FORM_FIELDS[field.path] ?? field.path })));
}

export const operatorPagesPlugin: FastifyPluginAsyncZod = async (app) => {
  const { db, regions } = app;
  const base = { operator: true };
  const cities = regions.cities.map((city) => ({ value: city.name, label: cityLabel(city.name) }));
  const regionChoices = regions.regionNames.map((region) => ({ value: region, label: regionLabel(region) }));

  app.get(OPERATOR_HOME, async (_request, reply) => reply.redirect('/operator/dashboard', 303));

  // ---- the dashboard ---------------------------------------------------------------------------

  app.get('/operator/dashboard', { schema: { querystring: dashboardQuery } }, async (request, reply) => {
    const now = new Date();
    const query = request.query;
    const scope = scopeOf(regions, query, app.config.region);
    const period = periodOf(query, now);
    let figures;
    let problem: string | undefined;
    try {
      figures = await dashboard(db, regions, scope, { ...period, bucket: query.bucket as Bucket | undefined, now });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      problem = error.message;
      figures = await dashboard(db, regions, scope, { to: period.to, now });
    }
    const lastDay = new Date(figures.period.to.getTime() - DAY_MS);
    const scopeQuery = scope.kind === 'city' ? { city: scope.city } : { region: scope.region };
    const periodQuery = { from: dayText(figures.period.from), to: dayText(lastDay) };
    const title = scope.kind === 'city' ? cityLabel(scope.city) : regionLabel(scope.region);
    const currency = currencyOfScope(regions, scope);
    return reply.page('operator-dashboard', {
      ...base,
      title: `Dashboard: ${title}`,
      nav: 'operator',
      tab: 'dashboard',
      heading: title,
      scope,
      figures,
      problem,
      currency,
      charts: dashboardCharts(figures, currency),
      values: { scope: scope.kind === 'city' ? `city:${scope.city}` : `region:${scope.region}`, ...periodQuery, bucket: figures.bucket },
      scopes: regions.regions.map((region) => ({
        region: region.region,
        label: regionLabel(region.region),
        cities: region.cities.map((city) => ({ name: city.name, label: cityLabel(city.name) })),
      })),
      csvHref: `/operator/export.csv${queryString({ ...scopeQuery, ...periodQuery })}`,
      cityHref: (city: string) => `/operator/dashboard${queryString({ city, ...periodQuery })}`,
      fleetHref: (city: string) => `${FLEET_PATH}/${encodeURIComponent(city)}`,
    });
  });

  /** What a dashboard's money is in: a region charges in one currency, and so each of its cities. */
  function currencyOfScope(map: typeof regions, scope: { kind: 'city'; city: string } | { kind: 'region'; region: string }): string {
    if (scope.kind === 'city') return map.currencyOf(scope.city);
    return map.regions.find((r) => r.region === scope.region)?.currency ?? map.currencyOf('');
  }

  // The scope picker sends one "scope" field (region:x or city:y): turned into the query above.
  app.get('/operator/dashboard/go', { schema: { querystring: z.object({ scope: optionalText, from: optionalText, to: optionalText, bucket: optionalText }) } }, async (request, reply) => {
    const [kind, name] = (request.query.scope ?? '').split(':', 2);
    const scope = kind === 'city' ? { city: name } : { region: name };
    return reply.redirect(`/operator/dashboard${queryString({ ...scope, from: request.query.from, to: request.query.to, bucket: request.query.bucket })}`, 303);
  });

  app.get('/operator/export.csv', { schema: { querystring: dashboardQuery } }, async (request, reply) => {
    const scope = scopeOf(regions, request.query, app.config.region);
    const period = periodOf(request.query, new Date());
    const rows = await exportRides(db, regions, scope, period);
    const money = (value: number | null) => (value === null ? '' : centsToDecimal(value));
    const csv = stringify(
      rows.map((ride) => [
        ride.city,
        ride.id,
        ride.vehicleId ?? '',
        ride.vehicleType ?? '',
        ride.riderId ?? '',
        ride.startTime?.toISOString() ?? '',
        ride.endTime?.toISOString() ?? '',
        ride.minutes ?? '',
        money(ride.fareCents),
        money(ride.discountCents),
        ride.promoCode ?? '',
        money(ride.revenueCents),
        regions.currencyOf(ride.city),
      ]),
      {
        header: true,
        columns: ['city', 'ride_id', 'vehicle_id', 'vehicle_type', 'rider_id', 'start_time', 'end_time', 'minutes', 'fare', 'discount', 'promo_code', 'revenue', 'currency'],
      },
    );
    const name = scope.kind === 'city' ? scope.city.replace(/\s+/g, '-') : scope.region;
    return reply
      .header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="movr-rides-${name}-${dayText(period.from)}-${dayText(new Date(period.to.getTime() - DAY_MS))}.csv"`)
      .type('text/csv; charset=utf-8')
      .send(csv);
  });

  // ---- promo campaigns -------------------------------------------------------------------------

  const listQuery = z.object({ state: z.enum(['active', 'scheduled', 'ended']).optional().catch(undefined), cursor: optionalText });

  app.get(PROMO_PATH, { schema: { querystring: listQuery } }, async (request, reply) => {
    const now = new Date();
    const { state, cursor } = request.query;
    const page = await listCampaigns(db, { state, cursor, now, limit: 50 });
    return reply.page('operator-promo-codes', {
      ...base,
      title: 'Promo codes',
      nav: 'operator',
      tab: 'promo-codes',
      state,
      states: Object.entries(STATE_LABELS).map(([value, label]) => ({ value, label, href: `${PROMO_PATH}?state=${value}` })),
      codes: page.items.map((promo) => ({
        ...promo,
        discountLabel: discountLabel(promo),
        state: campaignState(promo, now),
        stateLabel: STATE_LABELS[campaignState(promo, now)],
        href: `${PROMO_PATH}/${encodeURIComponent(promo.code)}`,
      })),
      nextPage: page.nextCursor ? `${PROMO_PATH}${queryString({ state, cursor: page.nextCursor })}` : undefined,
      firstPage: cursor ? `${PROMO_PATH}${queryString({ state })}` : undefined,
    });
  });

  function renderCampaignForm(reply: FastifyReply, options: { promo?: PromoCode; values: Record<string, unknown>; errors: FormErrors; giveErrors?: FormErrors; giveValue?: string }) {
    const now = new Date();
    const promo = options.promo;
    return reply.page('operator-promo-code', {
      ...base,
      title: promo ? `Promo code ${promo.code}` : 'New promo code',
      nav: 'operator',
      tab: 'promo-codes',
      promo: promo && { ...promo, discountLabel: discountLabel(promo), state: campaignState(promo, now), stateLabel: STATE_LABELS[campaignState(promo, now)] },
      action: promo ? `${PROMO_PATH}/${encodeURIComponent(promo.code)}` : PROMO_PATH,
      values: options.values,
      errors: options.errors,
      giveErrors: options.giveErrors ?? NO_FORM_ERRORS,
      giveValue: options.giveValue ?? '',
      cities,
      regionChoices,
      limits: { fixedMax: PROMO_FIXED_MAX_CENTS / 100, perRiderMax: PROMO_PER_RIDER_MAX },
    });
  }

  app.get(`${PROMO_PATH}/new`, async (_request, reply) => renderCampaignForm(reply, { values: formOfCampaign(undefined), errors: NO_FORM_ERRORS }));

  const anyBody = z.record(z.string(), z.unknown());

  app.post(PROMO_PATH, { schema: { body: anyBody } }, async (request, reply) => {
    const values = formValues(request.body);
    const input = campaignInputOfForm(values, request.body);
    try {
      const promo = await createCampaign(db, operatorOf(request), { ...input, code: input.code ?? '' }, { regions });
      return reply.flash('success', `Promo code ${promo.code} created.`).redirect(`${PROMO_PATH}/${encodeURIComponent(promo.code)}`, 303);
    } catch (error) {
      const errors = error instanceof ValidationError ? campaignFormErrors(error) : isDomainError(error, 'promo_code_exists') ? formErrors([{ path: 'code', message: error.message }]) : undefined;
      if (!errors) throw error;
      return renderCampaignForm(reply.code(error instanceof ValidationError ? 400 : 409), {
        values: { ...values, cities: input.cities, regions: input.regions },
        errors,
      });
    }
  });

  const codeParams = z.object({ code: z.string().max(200) });

  app.get(`${PROMO_PATH}/:code`, { schema: { params: codeParams } }, async (request, reply) => {
    const promo = await getPromoCode(db, request.params.code);
    return renderCampaignForm(reply, { promo, values: formOfCampaign(campaignInputOf(promo, regions)), errors: NO_FORM_ERRORS });
  });

  app.post(`${PROMO_PATH}/:code`, { schema: { params: codeParams, body: anyBody } }, async (request, reply) => {
    const promo = await getPromoCode(db, request.params.code);
    const values = formValues(request.body);
    const { code: _ignored, ...changes } = campaignInputOfForm(values, request.body);
    try {
      await updateCampaign(db, operatorOf(request), promo.code, changes, { regions });
      return reply.flash('success', `Promo code ${promo.code} saved.`).redirect(`${PROMO_PATH}/${encodeURIComponent(promo.code)}`, 303);
    } catch (error) {
      if (isDomainError(error, 'promo_code_ended')) return reply.flash('error', error.message).redirect(`${PROMO_PATH}/${encodeURIComponent(promo.code)}`, 303);
      if (!(error instanceof ValidationError)) throw error;
      return renderCampaignForm(reply.code(400), { promo, values: { ...values, code: promo.code, cities: changes.cities, regions: changes.regions }, errors: campaignFormErrors(error) });
    }
  });

  app.post(`${PROMO_PATH}/:code/end`, { schema: { params: codeParams } }, async (request, reply) => {
    const promo = await getPromoCode(db, request.params.code);
    const where = `${PROMO_PATH}/${encodeURIComponent(promo.code)}`;
    try {
      await endCampaign(db, operatorOf(request), promo.code);
      return reply.flash('success', `Promo code ${promo.code} ended. Riders can no longer use it.`).redirect(where, 303);
    } catch (error) {
      if (isDomainError(error, 'promo_code_ended')) return reply.flash('info', error.message).redirect(where, 303);
      throw error;
    }
  });

  app.post(`${PROMO_PATH}/:code/give`, { schema: { params: codeParams, body: anyBody } }, async (request, reply) => {
    const promo = await getPromoCode(db, request.params.code);
    const username = formValues(request.body).username ?? '';
    try {
      await giveCode(db, operatorOf(request), promo.code, username);
      return reply.flash('success', `Promo code ${promo.code} given to ${username.trim().toLowerCase()}.`).redirect(`${PROMO_PATH}/${encodeURIComponent(promo.code)}`, 303);
    } catch (error) {
      if (!(error instanceof DomainError) || isDomainError(error, 'promo_code_not_found')) throw error;
      return renderCampaignForm(reply.code(error.kind === 'not_found' ? 404 : error.kind === 'invalid' ? 400 : 409), {
        promo,
        values: formOfCampaign(campaignInputOf(promo, regions)),
        errors: NO_FORM_ERRORS,
        giveErrors: formErrors([{ path: 'username', message: error.message }]),
        giveValue: username,
      });
    }
  });

  // ---- the fleet -------------------------------------------------------------------------------

  app.get(FLEET_PATH, async (_request, reply) =>
    reply.page('operator-fleet', { ...base, title: 'Fleet', nav: 'operator', tab: 'fleet', city: undefined, scopes: regions.regions.map((r) => ({ label: regionLabel(r.region), cities: r.cities.map((c) => ({ label: cityLabel(c.name), href: `${FLEET_PATH}/${encodeURIComponent(c.name)}` })) })) }),
  );

  const fleetQuery = z.object({
    idle: z.coerce.number().int().min(1).max(24 * 365).optional().catch(undefined),
    status: z.enum([...VEHICLE_STATUSES]).optional().catch(undefined),
    cursor: optionalText,
  });

  app.get(`${FLEET_PATH}/:city`, { schema: { params: z.object({ city: z.string().max(200) }), querystring: fleetQuery } }, async (request, reply) => {
    const city = cityOr404(regions, request.params.city);
    const { idle, status, cursor } = request.query;
    const overview = await fleetOverview(db, city.name, { idleHours: idle ?? DEFAULT_IDLE_HOURS });
    let vehicles;
    try {
      vehicles = await listFleetVehicles(db, city.name, { status, cursor, limit: 25 });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      vehicles = await listFleetVehicles(db, city.name, { status, limit: 25 });
    }
    const path = `${FLEET_PATH}/${encodeURIComponent(city.name)}`;
    return reply.page('operator-fleet', {
      ...base,
      title: `Fleet: ${cityLabel(city.name)}`,
      nav: 'operator',
      tab: 'fleet',
      city: { name: city.name, label: cityLabel(city.name), path },
      overview,
      vehicles: vehicles.items,
      status,
      statuses: VEHICLE_STATUSES,
      nextPage: vehicles.nextCursor ? `${path}${queryString({ status, cursor: vehicles.nextCursor })}` : undefined,
      firstPage: cursor ? `${path}${queryString({ status })}` : undefined,
      lostStatus: LOST,
    });
  });

  const vehicleParams = z.object({ city: z.string().max(200), id: z.string().max(100) });

  app.post(`${FLEET_PATH}/:city/:id/lost`, { schema: { params: vehicleParams } }, async (request, reply) => {
    const city = cityOr404(regions, request.params.city);
    const id = idOr404(request.params.id, 'vehicle');
    const back = `${FLEET_PATH}/${encodeURIComponent(city.name)}`;
    try {
      const vehicle = await reportLost(db, operatorOf(request), city.name, id);
      return reply.flash('success', `Vehicle ${vehicle.id.slice(0, 8)} reported lost. Riders are no longer offered it.`).redirect(back, 303);
    } catch (error) {
      if (isDomainError(error, 'vehicle_in_use', 'vehicle_lost', 'vehicle_retired')) return reply.flash('error', error.message).redirect(back, 303);
      throw error;
    }
  });

  app.post(`${FLEET_PATH}/:city/:id/found`, { schema: { params: vehicleParams, body: anyBody.optional() } }, async (request, reply) => {
    const city = cityOr404(regions, request.params.city);
    const id = idOr404(request.params.id, 'vehicle');
    const back = `${FLEET_PATH}/${encodeURIComponent(city.name)}`;
    try {
      const vehicle = await markFound(db, operatorOf(request), city.name, id, { location: formValues(request.body).location });
      return reply.flash('success', `Vehicle ${vehicle.id.slice(0, 8)} found: available again at ${vehicle.currentLocation ?? 'its last location'}.`).redirect(back, 303);
    } catch (error) {
      if (error instanceof ValidationError || isDomainError(error, 'vehicle_not_lost')) return reply.flash('error', error.message).redirect(back, 303);
      throw error;
    }
  });

  // ---- what operators did ----------------------------------------------------------------------

  app.get('/operator/actions', { schema: { querystring: z.object({ cursor: optionalText }) } }, async (request, reply) => {
    let page;
    try {
      page = await listActions(db, { cursor: request.query.cursor, limit: 50 });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      page = await listActions(db, { limit: 50 });
    }
    return reply.page('operator-actions', {
      ...base,
      title: 'Operator actions',
      nav: 'operator',
      tab: 'actions',
      actions: page.items,
      nextPage: page.nextCursor ? `/operator/actions?cursor=${encodeURIComponent(page.nextCursor)}` : undefined,
      firstPage: request.query.cursor ? '/operator/actions' : undefined,
    });
  });
};
