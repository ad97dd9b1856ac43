// The operator API's shapes (/api/v1/operator/…): promo campaigns, the fleet, the dashboard and
// the record of operators' actions. Built from the domain's rules like schemas.ts, and mapped
// from domain objects explicitly. Request bodies built per region map carry no component id
// (an id is global to zod's registry, and every app builds its own).
import { z } from 'zod';
import type { Dashboard } from '../../movr/dashboard.ts';
import { BUCKETS } from '../../movr/dashboard.ts';
import type { FleetOverview, IdleVehicle, Utilisation } from '../../movr/fleet.ts';
import type { OperatorAction } from '../../movr/operators.ts';
import { type CampaignState, type PromoCampaignInput, type PromoCode, campaignState } from '../../movr/promo-codes.ts';
import {
  FixedOffCents,
  ParkingSpot,
  PerRiderLimit,
  PercentOff,
  PromoCodeName,
  PromoDescription,
  RedemptionLimit,
  Username,
  VEHICLE_STATUSES,
  citySchema,
  regionSchema,
} from '../../movr/rules.ts';
import type { RegionMap } from '../../region-map.ts';
import { PageQuery, Uuid, VehicleSchema, page, text, toApiVehicle } from './schemas.ts';

const DateTime = z.iso.datetime().meta({ examples: ['2026-05-04T09:30:00.000Z'] });
const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** The domain's field names as the API's, for validation errors. */
export const CAMPAIGN_FIELD_NAMES: Readonly<Record<string, string>> = Object.freeze({
  discountType: 'percent_off',
  percentOff: 'percent_off',
  fixedOffCents: 'amount_off_cents',
  startsAt: 'starts_at',
  expiresAt: 'expires_at',
  redemptionLimit: 'redemption_limit',
  perRiderLimit: 'per_rider_limit',
});

export const CampaignSchema = z
  .object({
    code: z.string(),
    description: z.string().nullable(),
    discount_type: z.enum(['percent', 'fixed']).nullable().describe('Null for rules MovR does not understand.'),
    percent_off: z.number().nullable(),
    amount_off_cents: z.number().int().nullable().describe('A fixed discount, in cents of the price list’s currency.'),
    starts_at: DateTime.nullable(),
    expires_at: DateTime.nullable().describe('Null: never expires.'),
    state: z.enum(['active', 'scheduled', 'ended']),
    redemption_limit: z.number().int().nullable().describe('How many riders may redeem it; null: no limit.'),
    redemptions: z.number().int().describe('How many riders have redeemed it (counted for limited codes).'),
    per_rider_limit: z.number().int().nullable().describe('Rides it discounts per rider; null: no limit (codes MovR did not create).'),
    cities: z.array(z.string()).nullable().describe('Where it applies (a region’s cities included); null: everywhere.'),
    regions: z.array(z.string()).nullable(),
    listed: z.boolean().describe('Listed publicly in GET /promo-codes.'),
  })
  .meta({ id: 'PromoCampaign' });

export function toApiCampaign(promo: PromoCode, now: Date = new Date()): z.output<typeof CampaignSchema> {
  return {
    code: promo.code,
    description: promo.description,
    discount_type: promo.discount?.kind ?? null,
    percent_off: promo.discount?.kind === 'percent' ? promo.discount.percent : null,
    amount_off_cents: promo.discount?.kind === 'fixed' ? promo.discount.cents : null,
    starts_at: iso(promo.creationTime),
    expires_at: iso(promo.expirationTime),
    state: campaignState(promo, now),
    redemption_limit: promo.redemptionLimit,
    redemptions: promo.redemptions,
    per_rider_limit: promo.perRiderLimit,
    cities: promo.cities ? [...promo.cities] : null,
    regions: promo.regions ? [...promo.regions] : null,
    listed: promo.listed,
  };
}

export const CampaignEnvelope = z.object({ promo_code: CampaignSchema });
export const CampaignPage = page(CampaignSchema, 'PromoCampaignPage');

export const CampaignQuery = PageQuery.extend({
  state: z.enum(['active', 'scheduled', 'ended']).optional().describe('Only codes in this state.'),
});

const ONE_DISCOUNT = 'Give either percent_off or amount_off_cents.';

function campaignFields(regions: RegionMap) {
  return {
    description: PromoDescription.nullish(),
    percent_off: PercentOff.optional().describe('A percent discount: more than 0, at most 100.'),
    amount_off_cents: FixedOffCents.optional().describe('A fixed discount in cents (instead of percent_off).'),
    starts_at: DateTime.optional().describe('When it becomes valid; now when not given.'),
    expires_at: DateTime.nullish().describe('When it stops being valid; null or not given: never.'),
    redemption_limit: RedemptionLimit.nullish(),
    per_rider_limit: PerRiderLimit.optional(),
    cities: z.array(citySchema(regions)).optional().describe('Cities where it applies; with `regions` empty or left out: everywhere.'),
    regions: z.array(regionSchema(regions)).optional().describe('Regions where it applies (their cities).'),
    listed: z.boolean().optional().describe('Listed publicly; true when not given.'),
  };
}

export function newCampaignBody(regions: RegionMap) {
  return z
    .object({ code: PromoCodeName, ...campaignFields(regions) })
    .refine((body) => (body.percent_off === undefined) !== (body.amount_off_cents === undefined), { message: ONE_DISCOUNT, path: ['percent_off'] })
    .describe('A new promo code and its rules.');
}

export function campaignChangesBody(regions: RegionMap) {
  return z
    .object(campaignFields(regions))
    .refine((body) => body.percent_off === undefined || body.amount_off_cents === undefined, { message: ONE_DISCOUNT, path: ['percent_off'] })
    .describe('Fields left out stay as they are; the code itself cannot change.');
}

type CampaignBody = Partial<z.output<ReturnType<typeof campaignChangesBody>>>;

/** A request body as the domain's campaign input (only the fields given). */
export function campaignInputOfBody(body: CampaignBody): Partial<PromoCampaignInput> {
  const input: Partial<PromoCampaignInput> = {};
  if (body.percent_off !== undefined) Object.assign(input, { discountType: 'percent', percentOff: body.percent_off, fixedOffCents: null });
  if (body.amount_off_cents !== undefined) Object.assign(input, { discountType: 'fixed', fixedOffCents: body.amount_off_cents, percentOff: null });
  if (body.description !== undefined) input.description = body.description;
  if (body.starts_at !== undefined) input.startsAt = new Date(body.starts_at);
  if (body.expires_at !== undefined) input.expiresAt = body.expires_at === null ? null : new Date(body.expires_at);
  if (body.redemption_limit !== undefined) input.redemptionLimit = body.redemption_limit;
  if (body.per_rider_limit !== undefined) input.perRiderLimit = body.per_rider_limit;
  if (body.cities !== undefined) input.cities = body.cities;
  if (body.regions !== undefined) input.regions = body.regions;
  if (body.listed !== undefined) input.listed = body.listed;
  return input;
}

export const CodeParams = z.object({ code: text(100).describe('The promo code.') });

export const GiveBody = z.object({ username: Username.describe('The rider to give the code to.') }).meta({ id: 'GivePromoCode' });

export const GivenSchema = z
  .object({ code: z.string(), username: z.string(), user_id: Uuid, city: z.string() })
  .meta({ id: 'GivenPromoCode' });

// ---- the fleet -----------------------------------------------------------------------------------

const UtilisationSchema = z
  .object({
    share: z.number().describe('Share of the vehicles’ time in use over the window, 0 to 1.'),
    hours_in_use: z.number(),
    vehicles: z.number().int().describe('Vehicles in service (neither lost nor retired).'),
  })
  .meta({ id: 'Utilisation' });

function toApiUtilisation(value: Utilisation): z.output<typeof UtilisationSchema> {
  return { share: value.share, hours_in_use: value.hoursInUse, vehicles: value.vehicles };
}

const IdleVehicleSchema = z
  .object({ vehicle: VehicleSchema, last_ride_end: DateTime.nullable(), idle_since: DateTime.nullable() })
  .meta({ id: 'IdleVehicle' });

function toApiIdle(idle: IdleVehicle): z.output<typeof IdleVehicleSchema> {
  return { vehicle: toApiVehicle(idle.vehicle), last_ride_end: iso(idle.lastRideEnd), idle_since: iso(idle.idleSince) };
}

export const FleetSchema = z
  .object({
    city: z.string(),
    by_status: z.array(z.object({ status: z.string(), vehicles: z.number().int() })),
    utilisation: z.object({ day: UtilisationSchema, week: UtilisationSchema }),
    idle_hours: z.number().describe('Available vehicles without a ride for this many hours are listed as idle.'),
    idle: z.array(IdleVehicleSchema).describe('Longest idle first.'),
    lost: z.array(VehicleSchema),
  })
  .meta({ id: 'Fleet' });

export function toApiFleet(fleet: FleetOverview): z.output<typeof FleetSchema> {
  return {
    city: fleet.city,
    by_status: fleet.byStatus.map((row) => ({ status: row.status, vehicles: row.vehicles })),
    utilisation: { day: toApiUtilisation(fleet.day), week: toApiUtilisation(fleet.week) },
    idle_hours: fleet.idleHours,
    idle: fleet.idle.map(toApiIdle),
    lost: fleet.lost.map(toApiVehicle),
  };
}

export const FleetQuery = z.object({
  idle_hours: z.coerce.number().int().min(1).max(24 * 365).optional().describe('Idle threshold in hours; 48 when not given.'),
});

export const FleetVehicleQuery = PageQuery.extend({
  status: z.enum([...VEHICLE_STATUSES, 'unknown']).optional().describe('Only vehicles with this status (`unknown`: no status).'),
});

export const CityParams = z.object({ city: text(100).describe('The city, by name, URL-encoded.') });

export const FoundBody = z
  .object({ current_location: ParkingSpot.optional().describe('Where it was found; where it was when not given.') })
  .meta({ id: 'VehicleFound' });

// ---- the dashboard -------------------------------------------------------------------------------

export const DashboardQuery = z
  .object({
    region: text(100).optional().describe('A region: its cities together.'),
    city: text(100).optional().describe('A city (instead of region).'),
    from: DateTime.optional().describe('Start of the period (rides that ended from then); 7 days before `to` when not given.'),
    to: DateTime.optional().describe('End of the period (exclusive); now when not given.'),
    bucket: z.enum(BUCKETS as [string, ...string[]]).optional().describe('hour or day; hours for periods up to 2 days.'),
  })
  .refine((query) => (query.region === undefined) !== (query.city === undefined), { message: 'Give either region or city.', path: ['region'] });

const TotalsFields = {
  rides: z.number().int(),
  revenue_cents: z.number().int(),
  average_fare_cents: z.number().int(),
  discount_cents: z.number().int().describe('Taken off fares by promo codes.'),
  discounted_rides: z.number().int(),
};
type TotalsLike = Dashboard['totals'];
const toApiTotals = (t: TotalsLike) => ({
  rides: t.rides,
  revenue_cents: t.revenueCents,
  average_fare_cents: t.averageFareCents,
  discount_cents: t.discountCents,
  discounted_rides: t.discountedRides,
});

export const DashboardSchema = z
  .object({
    region: z.string().nullable(),
    city: z.string().nullable(),
    cities: z.array(z.string()),
    from: DateTime,
    to: DateTime,
    bucket: z.enum(['hour', 'day']),
    totals: z.object(TotalsFields),
    series: z.array(z.object({ at: DateTime, rides: z.number().int(), revenue_cents: z.number().int() })).describe('Every hour or day of the period.'),
    by_city: z.array(z.object({ city: z.string(), ...TotalsFields })),
    busiest_vehicles: z.array(
      z.object({ city: z.string(), id: Uuid, type: z.string().nullable(), rides: z.number().int(), revenue_cents: z.number().int() }),
    ),
  })
  .meta({ id: 'Dashboard' });

export function toApiDashboard(value: Dashboard): z.output<typeof DashboardSchema> {
  return {
    region: value.scope.kind === 'region' ? value.scope.region : null,
    city: value.scope.kind === 'city' ? value.scope.city : null,
    cities: value.cities,
    from: value.period.from.toISOString(),
    to: value.period.to.toISOString(),
    bucket: value.bucket,
    totals: toApiTotals(value.totals),
    series: value.series.map((p) => ({ at: p.at.toISOString(), rides: p.rides, revenue_cents: p.revenueCents })),
    by_city: value.byCity.map((row) => ({ city: row.city, ...toApiTotals(row) })),
    busiest_vehicles: value.busiestVehicles.map((v) => ({ city: v.city, id: v.id, type: v.type, rides: v.rides, revenue_cents: v.revenueCents })),
  };
}

// ---- operators' actions -------------------------------------------------------------------------

export const ActionSchema = z
  .object({
    id: Uuid,
    at: DateTime,
    operator_id: Uuid,
    operator_username: z.string().nullable().describe('Null for the `movr` command, or an operator whose account is gone.'),
    action: z.string(),
    subject: z.string(),
    details: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'OperatorAction' });

export function toApiAction(action: OperatorAction): z.output<typeof ActionSchema> {
  return {
    id: action.id,
    at: action.at.toISOString(),
    operator_id: action.operatorId,
    operator_username: action.operatorUsername,
    action: action.action,
    subject: action.subject,
    details: action.details,
  };
}

export const ActionPage = page(ActionSchema, 'OperatorActionPage');

export type { CampaignState };
