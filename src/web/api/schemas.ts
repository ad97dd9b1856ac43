// The JSON API's shapes: one zod schema per resource, request body, query and path, and the
// functions that map domain objects to them. Request fields are the domain's rules
// (src/movr/rules.ts) under the API's snake_case names, so the OpenAPI document shows the real
// limits, patterns and choices. Routes validate requests and serialize responses
// with these schemas, and the OpenAPI document is generated from them (see index.ts), so the
// document cannot drift from what the server does.
//
// API fields are snake_case; domain objects are camelCase and are always mapped explicitly
// (toApiUser, toApiVehicle, …), so a new domain field never leaks out by accident. Password
// hashes and card numbers never appear: a card only in its masked form. Dates are ISO-8601
// strings in UTC; money is a decimal string ("12.34") with the same amount in whole cents.
//
// Objects strip unknown fields rather than refusing them (z.object, never z.strictObject), so
// clients may send more than an endpoint reads.
import { z } from 'zod';
import { centsToDecimal } from '../../movr/pricing.ts';
import type { PromoCode, UserPromoCode } from '../../movr/promo-codes.ts';
import type { LocationPoint, Ride } from '../../movr/rides.ts';
import {
  Address,
  Brand,
  CardNumber,
  EndAddress,
  Latitude,
  Longitude,
  PageSize,
  ParkingSpot,
  Password,
  PersonName,
  PointText,
  PromoCodeEntry,
  RiderVehicleStatus,
  Username,
  VEHICLE_STATUSES,
  VEHICLE_TYPES,
  VehicleColorSchema,
  VehicleTypeSchema,
  citySchema,
} from '../../movr/rules.ts';
import type { User } from '../../movr/users.ts';
import type { NearbyVehicle, Vehicle } from '../../movr/vehicles.ts';
import { CURRENCIES, type City, type Currency, type RegionMap } from '../../region-map.ts';
import { ERROR_CODES, type ErrorCode, statusOfCode } from '../errors.ts';

// ---------------------------------------------------------------------------------------------
// Building blocks

/** Any UUID in the 8-4-4-4-12 hex form (data loaded by other tools need not be version 4). */
export const Uuid = z.guid().meta({ examples: ['3f1e4c2a-9b7d-4e61-8a5f-0c2d9e8b7a61'] });
const DateTime = z.iso.datetime().meta({ examples: ['2026-05-04T09:30:00.000Z'] });
const CityName = z.string().meta({ examples: ['new york'] });

const NO_NUL = /^[^\u0000]*$/;
const NO_NUL_MESSAGE = 'Must not contain NUL (\\u0000) characters.';

/**
 * Text a client sends: at most `max` characters, and no NUL characters (PostgreSQL cannot store
 * them, so they would otherwise fail deep inside a query instead of as a 400).
 */
export function text(max: number) {
  return z.string().max(max).regex(NO_NUL, NO_NUL_MESSAGE);
}

/** A domain rule for text, refusing NUL characters as well. */
function rule<T extends z.ZodString>(schema: T): T {
  return schema.regex(NO_NUL, NO_NUL_MESSAGE) as T;
}
/** A city named in a request. */
const CityInput = () => text(100).meta({ examples: ['new york'] });

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

/** A page of a list: `items`, and the cursor that fetches the next page (null on the last). */
export function page<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      items: z.array(item),
      next_cursor: z
        .string()
        .nullable()
        .describe('Pass as `cursor` to get the next page; null on the last page.'),
    })
    .meta({ id });
}

export const PageQuery = z.object({
  limit: PageSize.optional(),
  cursor: text(500).optional().describe('The `next_cursor` of the previous page.'),
});

/** Path of a city-keyed resource: `/…/{city}/{id}`; the city is its name, URL-encoded. */
export const CityIdParams = z.object({
  city: CityInput().describe('The city, by name, URL-encoded: `new%20york`.'),
  id: Uuid,
});

// ---------------------------------------------------------------------------------------------
// Errors

export const ErrorFieldSchema = z.object({
  in: z.enum(['body', 'querystring', 'params', 'headers']).optional().describe('Which part of the request held the field.'),
  path: z.string().describe('Dotted path of the field, e.g. `lat`; empty for the input as a whole.'),
  message: z.string(),
});

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]).describe('Stable, snake_case, for programs: one of a closed set. See docs/api.md.'),
      message: z.string().describe('For people: safe to show as is.'),
      fields: z.array(ErrorFieldSchema).optional().describe('With `validation_failed`: what is wrong with which field.'),
      requestId: z.string().optional().describe('With 5xx errors: the request id to quote when reporting the problem.'),
    }),
  })
  .meta({ id: 'Error', description: 'Every error has this shape.' });

/** What an error status means; the codes it comes with are listed from ERROR_CODES. */
const STATUS_MEANINGS: Readonly<Record<number, string>> = {
  400: 'Malformed input (`validation_failed` comes with `fields`).',
  401: 'No valid credentials. Sent with `WWW-Authenticate: Bearer`.',
  403: 'The caller may not do this (`cross_site_request`: a session cookie sent from another origin).',
  404: 'No such thing, or not the caller’s.',
  409: 'Conflicts with the current state.',
  413: 'The body is larger than 100 kB.',
  414: 'A part of the path is longer than 100 characters.',
  415: 'A body that is not `application/json`.',
  429: 'Rate-limited; `Retry-After` says when to try again.',
  500: 'Something failed on the server; the body has the `requestId` to quote.',
  503: 'Not now: the database is too contended or cannot be reached, the server is overloaded or restarting, or a commit could not be confirmed (`outcome_unknown`: retrying with the same `Idempotency-Key` is safe). `Retry-After` says when to try again.',
};

/** Every error code answered with a status, e.g. 409 → vehicle_unavailable, ride_already_open, … */
export function errorCodesOf(status: number): ErrorCode[] {
  return ERROR_CODES.filter((code) => statusOfCode(code) === status);
}

function errorDescription(status: number): string {
  const codes = errorCodesOf(status).map((code) => `\`${code}\``);
  return `${STATUS_MEANINGS[status] ?? 'Error.'} Codes: ${codes.join(', ')}.`;
}

/** Errors any API route can answer: malformed input, oversized or non-JSON bodies, over-long paths, rate limits, server faults. */
export const COMMON_ERROR_STATUSES = [400, 413, 414, 415, 429, 500, 503] as const;

type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 414 | 415 | 429 | 500 | 503;

/**
 * A route's `response` schemas: its successes, the given error statuses and the common ones,
 * each error with the Error body and a description of what it means.
 */
export function responses<T extends Record<number, z.ZodType>, E extends ErrorStatus = never>(
  success: T,
  errors: readonly E[] = [],
): T & Record<E | (typeof COMMON_ERROR_STATUSES)[number], typeof ErrorBodySchema> {
  const all: Record<number, z.ZodType> = { ...success };
  for (const status of [...errors, ...COMMON_ERROR_STATUSES].sort()) {
    all[status] = ErrorBodySchema.describe(errorDescription(status));
  }
  return all as T & Record<E | (typeof COMMON_ERROR_STATUSES)[number], typeof ErrorBodySchema>;
}

/** An empty 204 response. */
export const NoContent = (description: string) => z.undefined().describe(description);

// ---------------------------------------------------------------------------------------------
// Users and authentication

export const UserSchema = z
  .object({
    id: Uuid,
    city: CityName.describe('The home city, chosen at registration; the user’s rides and vehicles are there.'),
    username: z.string().nullable().describe('Lower-cased; null for users without log-in credentials.'),
    name: z.string().nullable(),
    address: z.string().nullable(),
    masked_card: z
      .string()
      .nullable()
      .describe('The payment card, masked: `**** **** **** 1111`. The full number is never stored or shown.'),
  })
  .meta({ id: 'User' });

export function toApiUser(user: User): z.output<typeof UserSchema> {
  return {
    id: user.id,
    city: user.city,
    username: user.username,
    name: user.name,
    address: user.address,
    masked_card: user.maskedCard,
  };
}

export const UserEnvelope = z.object({ user: UserSchema });

/** POST /auth/register's body: the home city is one of the app's region map. */
export function registerBody(regions: RegionMap) {
  return z.object({
    username: rule(Username),
    password: rule(Password),
    name: rule(PersonName),
    city: citySchema(regions),
    address: rule(Address).nullish(),
    card_number: rule(CardNumber).nullish(),
  });
}

export const LoginBody = z
  .object({
    username: text(200),
    password: text(1000),
  })
  .meta({ id: 'LoginRequest' });

export const LoginResponse = z
  .object({
    token: z.string().describe('Send as `Authorization: Bearer <token>`.'),
    token_type: z.literal('Bearer'),
    expires_at: DateTime,
    user: UserSchema,
  })
  .meta({ id: 'LoginResponse' });

export const ProfileChangesBody = z
  .object({
    name: rule(PersonName).optional(),
    address: rule(Address).nullable().optional().describe(`${Address.description} null or "" removes it.`),
    card_number: rule(CardNumber).nullable().optional().describe(`${CardNumber.description} null or "" removes the card.`),
  })
  .meta({ id: 'ProfileChanges', description: 'Fields left out stay as they are. The home city and username cannot change.' });

export const PasswordChangeBody = z
  .object({
    current_password: text(1000).describe('The password you log in with now.'),
    new_password: rule(Password),
  })
  .meta({ id: 'PasswordChange', description: 'Every other session and API token of the account ends.' });

export const SessionSchema = z
  .object({
    id: z.string().describe('Identifies the session (it is not its secret).'),
    current: z.boolean().describe('The session this request was made with.'),
    user_agent: z.string().nullable().describe('The browser that logged in, as it named itself.'),
    address: z.string().nullable().describe('The client address it logged in from.'),
    created_at: DateTime,
    last_seen_at: DateTime.describe('Updated at most once a minute.'),
    expires_at: DateTime,
  })
  .meta({ id: 'Session', description: 'A web site session of the account.' });

export const SessionList = z.object({ items: z.array(SessionSchema) });

export const SessionIdParams = z.object({ id: z.string().min(1).max(200) });

// ---------------------------------------------------------------------------------------------
// Cities

export const CitySchema = z
  .object({
    name: CityName,
    region: z.string().meta({ examples: ['us-east1'] }).describe('The database region the city’s rows live in.'),
    lat: z.number().nullable().describe('Latitude of the city centre; null for a city added by configuration without coordinates.'),
    long: z.number().nullable().describe('Longitude of the city centre; null when unknown.'),
  })
  .meta({ id: 'City' });

export const CityList = z
  .object({
    instance_region: z.string().nullable().describe('The region this instance serves (MOVR_REGION); its cities come first.'),
    items: z.array(CitySchema),
  })
  .meta({ id: 'CityList' });

export function toApiCity(city: City): z.output<typeof CitySchema> {
  return { name: city.name, region: city.region, lat: city.lat ?? null, long: city.long ?? null };
}

// ---------------------------------------------------------------------------------------------
// Vehicles

export const VehicleSchema = z
  .object({
    id: Uuid,
    city: CityName,
    type: z.string().nullable().describe(`One of ${VEHICLE_TYPES.join(', ')}.`),
    status: z.string().nullable().describe(`One of ${VEHICLE_STATUSES.join(', ')}.`),
    current_location: z.string().nullable().describe('Where the vehicle is parked (an address).'),
    color: z.string().nullable(),
    brand: z.string().nullable(),
    owner_id: Uuid.nullable(),
    owner_name: z.string().nullable().describe('Null when the vehicle has no owner or the owner deleted their account.'),
    creation_time: DateTime.nullable(),
    lat: z.number().nullable().describe('Where the vehicle is parked: degrees north; null when unknown.'),
    long: z.number().nullable().describe('Degrees east; null when unknown.'),
  })
  .meta({ id: 'Vehicle' });

export function toApiVehicle(vehicle: Vehicle): z.output<typeof VehicleSchema> {
  return {
    id: vehicle.id,
    city: vehicle.city,
    type: vehicle.type,
    status: vehicle.status,
    current_location: vehicle.currentLocation,
    color: vehicle.color,
    brand: vehicle.brand,
    owner_id: vehicle.ownerId,
    owner_name: vehicle.ownerName,
    creation_time: iso(vehicle.creationTime),
    lat: vehicle.lat,
    long: vehicle.long,
  };
}

export const VehicleEnvelope = z.object({ vehicle: VehicleSchema });

/** A vehicle in a city's list: with `near`, its distance from that point too. */
export const ListedVehicleSchema = VehicleSchema.extend({
  distance_m: z.number().int().optional().describe('With `near`: metres from that point, as the crow flies.'),
}).meta({ id: 'ListedVehicle' });

export function toApiNearbyVehicle(vehicle: NearbyVehicle): z.output<typeof ListedVehicleSchema> {
  return { ...toApiVehicle(vehicle), distance_m: vehicle.distanceM };
}

export const VehiclePage = page(ListedVehicleSchema, 'VehiclePage');

export const VehicleQuery = PageQuery.extend({
  city: CityInput().describe('The city whose vehicles to list.'),
  status: RiderVehicleStatus.optional().describe('Only vehicles with this status (lost and retired vehicles are never listed).'),
  type: z.enum(VEHICLE_TYPES).optional().describe('Only vehicles of this type.'),
  near: PointText.optional().describe(
    'A point as `lat,long`: the city’s available vehicles nearest to it first, each with `distance_m`, ' +
      'up to `limit` of them on one page (no `cursor`; `status` may only be `available`). Vehicles without a position are left out.',
  ),
}).superRefine((query, ctx) => {
  if (query.near === undefined) return;
  if (query.cursor !== undefined) ctx.addIssue({ code: 'custom', path: ['cursor'], message: 'A list near a point has one page: leave out cursor.' });
  if (query.status !== undefined && query.status !== 'available') {
    ctx.addIssue({ code: 'custom', path: ['status'], message: 'A list near a point holds available vehicles only.' });
  }
});

export const NewVehicleBody = z
  .object({
    city: CityInput().describe('Must be the caller’s home city.'),
    type: VehicleTypeSchema,
    current_location: rule(ParkingSpot),
    color: VehicleColorSchema.optional().describe('Black when not given.'),
    brand: rule(Brand).nullish(),
    lat: Latitude.nullish().describe('Where exactly it is parked, degrees north (with `long`); optional.'),
    long: Longitude.nullish().describe('Degrees east (with `lat`).'),
  })
  .refine((body) => (body.lat ?? null) === null === ((body.long ?? null) === null), {
    message: 'Give both lat and long, or neither.',
    path: ['long'],
  })
  .meta({ id: 'NewVehicle' });

// ---------------------------------------------------------------------------------------------
// Rides

export const ReceiptSchema = z
  .object({
    minutes: z.number().int().describe('Started minutes charged (at least 1, at most 24 hours).'),
    unlock_cents: z.number().int(),
    per_minute_cents: z.number().int(),
    fare_cents: z.number().int().describe('Before the discount.'),
    discount_percent: z.number(),
    discount_cents: z.number().int(),
    total_cents: z.number().int().describe('What the rider paid.'),
    promo_code: z.string().nullable().describe('The promo code that gave the discount, if any.'),
    vehicle_type: z.string().nullable(),
    currency: z.enum(CURRENCIES).describe('What the amounts are in (cents of it): the currency of the ride’s region.'),
  })
  .meta({ id: 'Receipt', description: 'How a ride’s revenue came about, written when the ride ended.' });

export const RideSchema = z
  .object({
    id: Uuid,
    city: CityName,
    status: z.enum(['open', 'ended']),
    vehicle_city: CityName.nullable(),
    vehicle_id: Uuid.nullable(),
    vehicle_type: z.string().nullable(),
    rider_id: Uuid.nullable(),
    start_address: z.string().nullable(),
    end_address: z.string().nullable(),
    start_time: DateTime.nullable(),
    end_time: DateTime.nullable(),
    revenue: z
      .string()
      .regex(/^-?\d+\.\d{2}$/)
      .nullable()
      .meta({ examples: ['12.34'] })
      .describe('What the rider paid, a decimal string in `currency`; null while the ride is open.'),
    revenue_cents: z.number().int().nullable().describe('The same amount in whole cents.'),
    currency: z.enum(CURRENCIES).meta({ examples: ['USD'] }).describe('ISO 4217: what the ride is charged in, the currency of its city’s region (USD in the US regions, EUR in Europe).'),
    receipt: ReceiptSchema.nullable().describe('Null for open rides and rides MovR did not end itself.'),
  })
  .meta({ id: 'Ride' });

export function toApiRide(ride: Ride, currency: Currency): z.output<typeof RideSchema> {
  const receipt = ride.receipt;
  return {
    id: ride.id,
    city: ride.city,
    status: ride.endTime === null ? 'open' : 'ended',
    vehicle_city: ride.vehicleCity,
    vehicle_id: ride.vehicleId,
    vehicle_type: ride.vehicleType,
    rider_id: ride.riderId,
    start_address: ride.startAddress,
    end_address: ride.endAddress,
    start_time: iso(ride.startTime),
    end_time: iso(ride.endTime),
    revenue: ride.revenueCents === null ? null : centsToDecimal(ride.revenueCents),
    revenue_cents: ride.revenueCents,
    currency,
    receipt: receipt && {
      minutes: receipt.minutes,
      unlock_cents: receipt.unlockCents,
      per_minute_cents: receipt.perMinuteCents,
      fare_cents: receipt.fareCents,
      discount_percent: receipt.discountPercent,
      discount_cents: receipt.discountCents,
      total_cents: receipt.totalCents,
      promo_code: receipt.promoCode,
      vehicle_type: receipt.vehicleType,
      currency,
    },
  };
}

export const RideEnvelope = z.object({ ride: RideSchema });
export const RidePage = page(RideSchema, 'RidePage');

export const NewRideBody = z
  .object({
    vehicle_city: CityInput().describe('The vehicle’s city: the caller’s home city.'),
    vehicle_id: Uuid,
  })
  .meta({ id: 'NewRide' });

export const EndRideBody = z
  .object({
    end_address: rule(EndAddress),
  })
  .meta({ id: 'EndRide' });

export const LocationSchema = z
  .object({
    timestamp: DateTime,
    lat: z.number(),
    long: z.number(),
  })
  .meta({ id: 'LocationPoint' });

export function toApiLocation(point: LocationPoint): z.output<typeof LocationSchema> {
  return { timestamp: point.timestamp.toISOString(), lat: point.lat, long: point.long };
}

export const LocationEnvelope = z.object({ location: LocationSchema });
export const LocationPage = page(LocationSchema, 'LocationPage');

export const NewLocationBody = z
  .object({
    lat: Latitude,
    long: Longitude,
  })
  .meta({ id: 'NewLocation' });

/** The Idempotency-Key header of the ride operations that accept one. */
export const IdempotencyHeaders = z.looseObject({
  'idempotency-key': z
    .string()
    .max(255)
    .optional()
    .describe(
      'Makes the request safe to retry: the same key with the same body returns the first response (and ' +
        '`Idempotent-Replayed: true`) instead of acting twice; with another body it is refused (409 ' +
        '`idempotency_key_reused`). 1 to 255 visible ASCII characters, kept for a day.',
    ),
});

// ---------------------------------------------------------------------------------------------
// Promo codes

const PromoRulesSchema = z
  .object({
    type: z.string().nullable().meta({ examples: ['percent_discount'] }),
    value: z.string().nullable().meta({ examples: ['10%'] }),
  })
  .meta({ id: 'PromoRules' });

const promoFields = {
  code: z.string(),
  description: z.string().nullable(),
  creation_time: DateTime.nullable(),
  expiration_time: DateTime.nullable().describe('Null: never expires.'),
  rules: PromoRulesSchema.nullable(),
  percent_off: z.number().describe('The percent a ride’s fare is reduced by (0 for fixed discounts and rules MovR does not understand).'),
  amount_off_cents: z.number().int().nullable().describe('A fixed discount in cents; null for percent discounts.'),
  per_rider_limit: z.number().int().nullable().describe('Rides it discounts per rider; null: every ride.'),
};

export const PromoCodeSchema = z.object(promoFields).meta({ id: 'PromoCode' });

export const UserPromoCodeSchema = z
  .object({
    ...promoFields,
    added_at: DateTime.nullable(),
    usage_count: z.number().int().describe('Rides this code has discounted.'),
    expired: z.boolean(),
  })
  .meta({ id: 'UserPromoCode' });

function toApiRules(rules: PromoCode['rules']): z.output<typeof PromoRulesSchema> | null {
  if (rules === null || typeof rules !== 'object') return null;
  const { type, value } = rules as unknown as Record<string, unknown>;
  return { type: typeof type === 'string' ? type : null, value: typeof value === 'string' ? value : null };
}

export function toApiPromoCode(promo: PromoCode): z.output<typeof PromoCodeSchema> {
  return {
    code: promo.code,
    description: promo.description,
    creation_time: iso(promo.creationTime),
    expiration_time: iso(promo.expirationTime),
    rules: toApiRules(promo.rules),
    percent_off: promo.percentOff,
    amount_off_cents: promo.discount?.kind === 'fixed' ? promo.discount.cents : null,
    per_rider_limit: promo.perRiderLimit,
  };
}

export function toApiUserPromoCode(promo: UserPromoCode): z.output<typeof UserPromoCodeSchema> {
  return {
    ...toApiPromoCode(promo),
    added_at: iso(promo.addedAt),
    usage_count: promo.usageCount,
    expired: promo.expired,
  };
}

export const PromoCodePage = page(PromoCodeSchema, 'PromoCodePage');
export const PromoCodeQuery = PageQuery.extend({
  city: CityInput().optional().describe('Only codes that apply in this city.'),
});
export const UserPromoCodeList = z.object({ items: z.array(UserPromoCodeSchema) }).meta({ id: 'UserPromoCodeList' });
export const UserPromoCodeEnvelope = z.object({ promo_code: UserPromoCodeSchema });

export const AddPromoCodeBody = z
  .object({ code: rule(PromoCodeEntry).describe('An active promo code, e.g. from GET /promo-codes.') })
  .meta({ id: 'AddPromoCode' });
