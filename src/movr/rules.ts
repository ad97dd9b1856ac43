// Every rule MovR holds input to, declared once as a zod schema with the message people see:
// the domain functions parse their input with these, the JSON API builds its request schemas
// (and so its OpenAPI document) from them, and the pages take their limits and choices from
// them. The kinds of vehicle (types, colours, brands, statuses) are here too.
//
// The schemas only check and normalise (trim, lower-case), never transform, so parsing a value
// twice gives the same value: the API parses a request, then the domain parses it again.
import { z } from 'zod';
import type { RegionMap } from '../region-map.ts';
import { type FieldError, ValidationError } from './errors.ts';

// ---- limits ---------------------------------------------------------------------------------

export const NAME_MAX_LENGTH = 100;
export const ADDRESS_MAX_LENGTH = 200;
/** Where a vehicle is parked or a ride ended: an address. */
export const LOCATION_MAX_LENGTH = 200;
export const BRAND_MAX_LENGTH = 40;
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 128;
export const PROMO_CODE_MAX_LENGTH = 100;
export const PROMO_DESCRIPTION_MAX_LENGTH = 200;
/** zxcvbn's score (0 to 4) a new password needs: 3 is "safely unguessable" against online attacks and a slow hash. */
export const PASSWORD_MIN_SCORE = 3;
export const DEFAULT_PAGE_SIZE = 20;
/** Vehicles one owner may have that are not retired. */
export const MAX_VEHICLES_PER_OWNER = 50;
/** Location points one ride may record. */
export const MAX_POINTS_PER_RIDE = 5000;

// ---- log-in and sign-up limits ----------------------------------------------------------------
// One limiter for the site and the API (src/web/login-limiter.ts); decision 0015.

/** Failed log-ins per username, from anywhere, per window. */
export const LOGIN_FAILURES_PER_USERNAME = Object.freeze({ max: 10, windowSeconds: 5 * 60 });
/** Log-in attempts per client address, whatever the username, per window. */
export const LOGIN_ATTEMPTS_PER_ADDRESS = Object.freeze({ max: 30, windowSeconds: 5 * 60 });
/** Accounts created per client address per window. */
export const SIGN_UPS_PER_ADDRESS = Object.freeze({ max: 10, windowSeconds: 60 * 60 });
export const MAX_PAGE_SIZE = 100;

// ---- kinds of vehicle -----------------------------------------------------------------------

export const VEHICLE_TYPES = ['bike', 'scooter', 'skateboard'] as const;
export type VehicleType = (typeof VEHICLE_TYPES)[number];

export const VEHICLE_COLORS = ['black', 'blue', 'green', 'red', 'white', 'yellow', 'orange', 'silver'] as const;
export type VehicleColor = (typeof VEHICLE_COLORS)[number];

/** The brands of bikes in the CockroachDB workload's data; an owner may write any brand. */
export const BIKE_BRANDS = ['Merida', 'Fuji', 'Cervelo', 'Pinarello', 'Santa Cruz', 'Kona', 'Schwinn'] as const;

/** The status of a vehicle taken out of service for good; such vehicles are not offered or counted. */
export const RETIRED = 'retired';
export const VEHICLE_STATUSES = ['available', 'in_use', 'lost', RETIRED] as const;
export type VehicleStatus = (typeof VEHICLE_STATUSES)[number];
/** Statuses of vehicles never offered to riders: lost (until found) and retired. */
export const OUT_OF_SERVICE = ['lost', RETIRED] as const;
/** The statuses riders can filter a city's vehicles by. */
export const RIDER_VEHICLE_STATUSES = ['available', 'in_use'] as const;
export const RiderVehicleStatus = z.enum(RIDER_VEHICLE_STATUSES, {
  error: `Status must be one of ${RIDER_VEHICLE_STATUSES.join(', ')}: lost and retired vehicles are never listed.`,
});

export function isVehicleType(value: string | null | undefined): value is VehicleType {
  return (VEHICLE_TYPES as readonly (string | null | undefined)[]).includes(value);
}

// ---- people ---------------------------------------------------------------------------------

export const USERNAME_MIN_LENGTH = 3;
export const USERNAME_MAX_LENGTH = 32;
export const USERNAME_RULE = `${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} letters, digits, dots, dashes or underscores, starting and ending with a letter or digit`;
const USERNAME_PATTERN = new RegExp(`^[a-z0-9](?:[a-z0-9._-]{${USERNAME_MIN_LENGTH - 2},${USERNAME_MAX_LENGTH - 2}})[a-z0-9]$`);

/** Usernames are case-insensitive: stored and compared lower-cased. */
export const Username = z
  .string()
  .trim()
  .toLowerCase()
  .regex(USERNAME_PATTERN, `Use ${USERNAME_RULE}.`)
  .describe(`${USERNAME_RULE}; case-insensitive.`);

/** The length of a password; how strong it is, is checked apart (passwordWeakness in passwords.ts). */
export const Password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `Use at least ${PASSWORD_MIN_LENGTH} characters.`)
  .max(PASSWORD_MAX_LENGTH, `Use at most ${PASSWORD_MAX_LENGTH} characters.`)
  .describe(`${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters, hard to guess (zxcvbn score ${PASSWORD_MIN_SCORE} of 4, with the username, name and city counted as known words).`);

export const PersonName = z
  .string()
  .trim()
  .min(1, 'Enter your name.')
  .max(NAME_MAX_LENGTH, `Use at most ${NAME_MAX_LENGTH} characters.`)
  .describe(`Up to ${NAME_MAX_LENGTH} characters.`);

/** A postal address; blank means none. */
export const Address = z
  .string()
  .trim()
  .max(ADDRESS_MAX_LENGTH, `Use at most ${ADDRESS_MAX_LENGTH} characters.`)
  .describe(`Up to ${ADDRESS_MAX_LENGTH} characters.`);

/** Card digits with spaces or dashes between them. */
export function cardDigits(cardNumber: string): string {
  return cardNumber.replace(/[\s-]/g, '');
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** A payment card number; blank means none. Only its masked form is ever kept (see maskCardNumber). */
export const CardNumber = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const digits = cardDigits(value);
    if (digits === '') return;
    if (!/^\d{12,19}$/.test(digits)) ctx.addIssue({ code: 'custom', message: 'Enter the 12 to 19 digits of your card number.' });
    else if (!luhnValid(digits)) ctx.addIssue({ code: 'custom', message: 'That card number is not valid. Check it for typing mistakes.' });
  })
  .describe('A payment card number (12 to 19 digits, Luhn-checked); only its masked form is kept.');

// ---- places ---------------------------------------------------------------------------------

export const Latitude = z
  .number({ error: 'Latitude must be a number.' })
  .min(-90, 'Latitude must be between -90 and 90.')
  .max(90, 'Latitude must be between -90 and 90.')
  .describe('Degrees north, -90 to 90.');

export const Longitude = z
  .number({ error: 'Longitude must be a number.' })
  .min(-180, 'Longitude must be between -180 and 180.')
  .max(180, 'Longitude must be between -180 and 180.')
  .describe('Degrees east, -180 to 180.');

/** A point as the domain takes it. */
export const Point = z.object({ lat: Latitude, long: Longitude });

const DEGREES = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** A point written as `lat,long` in decimal degrees (the API's `near=`), e.g. `40.7128,-74.006`. */
export const PointText = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const [lat = '', long = '', ...rest] = text.split(',').map((part) => part.trim());
    if (rest.length > 0 || !DEGREES.test(lat) || !DEGREES.test(long)) {
      ctx.addIssue({ code: 'custom', message: 'Write the point as latitude,longitude in decimal degrees, e.g. 40.7128,-74.006.' });
      return z.NEVER;
    }
    const result = Point.safeParse({ lat: Number(lat), long: Number(long) });
    if (!result.success) {
      for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
      return z.NEVER;
    }
    return result.data;
  })
  .describe('A point as latitude,longitude in decimal degrees, e.g. 40.7128,-74.006.');

/**
 * A coordinate typed into a form: text that must be a number of degrees, then the coordinate's
 * own rule. `example` is a value of that axis, e.g. New York's 40.7128 or -74.006.
 */
export function coordinateText(axis: typeof Latitude | typeof Longitude, name: 'latitude' | 'longitude', example: number) {
  return z
    .string()
    .trim()
    .superRefine((text, ctx) => {
      if (text === '') ctx.addIssue({ code: 'custom', message: `Enter the ${name}.` });
      // The range is named with the format, so that one round of corrections is enough.
      else if (!DEGREES.test(text)) {
        ctx.addIssue({ code: 'custom', message: `Enter the ${name} as a number of degrees between ${axis.minValue} and ${axis.maxValue}, e.g. ${example}.` });
      }
      else {
        const result = axis.safeParse(Number(text));
        if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message });
      }
    });
}

/** Where a vehicle is parked: an address. */
export const ParkingSpot = z
  .string()
  .trim()
  .min(1, 'Enter where the vehicle is parked.')
  .max(LOCATION_MAX_LENGTH, `Use at most ${LOCATION_MAX_LENGTH} characters.`)
  .describe(`Where the vehicle is parked: 1 to ${LOCATION_MAX_LENGTH} characters.`);

/** Where a ride ended: an address. */
export const EndAddress = z
  .string()
  .trim()
  .min(1, 'Enter where you left the vehicle.')
  .max(LOCATION_MAX_LENGTH, `Use at most ${LOCATION_MAX_LENGTH} characters.`)
  .describe(`Where the vehicle was left: 1 to ${LOCATION_MAX_LENGTH} characters.`);

const citySchemas = new WeakMap<RegionMap, z.ZodType<string, string>>();

/** A city of the region map, e.g. a user's home city. */
export function citySchema(regions: RegionMap): z.ZodType<string, string> {
  let schema = citySchemas.get(regions);
  if (!schema) {
    const names = regions.cities.map((city) => city.name) as [string, ...string[]];
    schema = z.enum(names, { error: 'Choose one of the cities MovR serves.' }).describe('One of the cities MovR serves (GET /api/v1/cities).');
    citySchemas.set(regions, schema);
  }
  return schema;
}

// ---- vehicles -------------------------------------------------------------------------------

const choices = (values: readonly string[]) => `Choose one of: ${values.join(', ')}.`;

export const VehicleTypeSchema = z.enum(VEHICLE_TYPES, { error: choices(VEHICLE_TYPES) });
export const VehicleColorSchema = z.enum(VEHICLE_COLORS, { error: choices(VEHICLE_COLORS) });

/** As typed by a person: any case, spaces around. */
export const loose = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(schema as unknown as z.ZodType<z.output<T>, string>);

export const Brand = z
  .string()
  .trim()
  .max(BRAND_MAX_LENGTH, `Use at most ${BRAND_MAX_LENGTH} characters.`)
  .describe(`Up to ${BRAND_MAX_LENGTH} characters.`);

// ---- promo codes ----------------------------------------------------------------------------

/** Letters, digits, dots, dashes and underscores: what a rider can type and a URL can carry. */
export const PromoCodeName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,100}$/, `Use 1 to ${PROMO_CODE_MAX_LENGTH} letters, digits, dots, dashes or underscores.`)
  .describe(`1 to ${PROMO_CODE_MAX_LENGTH} letters, digits, dots, dashes or underscores.`);

/** A code a rider types to add it: anything non-blank (an unknown code is not found, not invalid). */
export const PromoCodeEntry = z.string().trim().min(1, 'Enter a promo code.');

export const PromoDescription = z
  .string()
  .trim()
  .max(PROMO_DESCRIPTION_MAX_LENGTH, `Use at most ${PROMO_DESCRIPTION_MAX_LENGTH} characters.`);

const DISCOUNT_RULE = 'The discount must be more than 0% and at most 100%.';
export const PercentOff = z.number({ error: DISCOUNT_RULE }).gt(0, DISCOUNT_RULE).max(100, DISCOUNT_RULE);

/** Promo campaigns (operators): the limits of their rules. */
export const PROMO_FIXED_MAX_CENTS = 100_000;
export const PROMO_PER_RIDER_MAX = 1000;
export const PROMO_REDEMPTION_LIMIT_MAX = 10_000_000;
export const PROMO_DISCOUNT_TYPES = ['percent', 'fixed'] as const;

const FIXED_RULE = `A fixed discount is 1 to ${PROMO_FIXED_MAX_CENTS} cents.`;
export const FixedOffCents = z.number({ error: FIXED_RULE }).int(FIXED_RULE).min(1, FIXED_RULE).max(PROMO_FIXED_MAX_CENTS, FIXED_RULE);

const PER_RIDER_RULE = `Each rider may use a code on 1 to ${PROMO_PER_RIDER_MAX} rides.`;
export const PerRiderLimit = z
  .number({ error: PER_RIDER_RULE })
  .int(PER_RIDER_RULE)
  .min(1, PER_RIDER_RULE)
  .max(PROMO_PER_RIDER_MAX, PER_RIDER_RULE)
  .describe(`Rides the code discounts for each rider who redeemed it: 1 to ${PROMO_PER_RIDER_MAX}; 1 when not given.`);

const REDEMPTION_RULE = `The redemption limit is 1 to ${PROMO_REDEMPTION_LIMIT_MAX} riders.`;
export const RedemptionLimit = z
  .number({ error: REDEMPTION_RULE })
  .int(REDEMPTION_RULE)
  .min(1, REDEMPTION_RULE)
  .max(PROMO_REDEMPTION_LIMIT_MAX, REDEMPTION_RULE)
  .describe('How many riders may redeem the code in all; null or not given: no limit.');

const regionSchemas = new WeakMap<RegionMap, z.ZodType<string, string>>();

/** A region of the region map. */
export function regionSchema(regions: RegionMap): z.ZodType<string, string> {
  let schema = regionSchemas.get(regions);
  if (!schema) {
    schema = z.enum(regions.regionNames as [string, ...string[]], { error: 'Choose one of the regions MovR serves.' });
    regionSchemas.set(regions, schema);
  }
  return schema;
}

/** What a promo campaign is, as operators write it (the domain's names; the API maps its own). */
export function promoCampaignSchema(regions: RegionMap) {
  return z
    .object({
      code: PromoCodeName,
      description: PromoDescription.nullish(),
      discountType: z.enum(PROMO_DISCOUNT_TYPES, { error: 'Choose a percent or a fixed discount.' }),
      percentOff: PercentOff.nullish(),
      fixedOffCents: FixedOffCents.nullish(),
      startsAt: z.instanceof(Date).optional(),
      expiresAt: z.instanceof(Date).nullish(),
      redemptionLimit: RedemptionLimit.nullish(),
      perRiderLimit: PerRiderLimit.default(1),
      cities: z.array(citySchema(regions)).max(regions.cities.length * 2).default([]),
      regions: z.array(regionSchema(regions)).max(regions.regionNames.length * 2).default([]),
      listed: z.boolean().default(true),
    })
    .superRefine((input, ctx) => {
      const invalid = (date: Date | null | undefined) => date instanceof Date && Number.isNaN(date.getTime());
      if (invalid(input.startsAt) || invalid(input.expiresAt) || (input.startsAt && input.expiresAt && input.expiresAt <= input.startsAt)) {
        ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'A promo code must expire after it starts.' });
      }
      if (input.discountType === 'percent' && input.percentOff == null) {
        ctx.addIssue({ code: 'custom', path: ['percentOff'], message: DISCOUNT_RULE });
      }
      if (input.discountType === 'fixed' && input.fixedOffCents == null) {
        ctx.addIssue({ code: 'custom', path: ['fixedOffCents'], message: FIXED_RULE });
      }
    });
}

// ---- identifiers ----------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Any UUID in the 8-4-4-4-12 hex form (data loaded by other tools need not be version 4). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

// ---- lists ----------------------------------------------------------------------------------

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** A cursor that no page of ours would have produced. */
export const INVALID_PAGE_LINK = 'That page link is not valid.';

export const PageSize = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_PAGE_SIZE)
  .describe(`Items per page, 1 to ${MAX_PAGE_SIZE}; ${DEFAULT_PAGE_SIZE} when not given.`);

/** A page size between 1 and MAX_PAGE_SIZE: whole, DEFAULT_PAGE_SIZE when not given or not a number. */
export function pageSize(limit: number | undefined): number {
  const size = limit === undefined || Number.isNaN(limit) ? DEFAULT_PAGE_SIZE : Math.trunc(limit);
  return Math.min(Math.max(size, 1), MAX_PAGE_SIZE);
}

// ---- forms ------------------------------------------------------------------------------------

/** What the site's forms show of the rules: `maxlength` attributes and hints. */
export const FORM_RULES = Object.freeze({
  nameMaxLength: NAME_MAX_LENGTH,
  addressMaxLength: ADDRESS_MAX_LENGTH,
  locationMaxLength: LOCATION_MAX_LENGTH,
  brandMaxLength: BRAND_MAX_LENGTH,
  usernameMaxLength: USERNAME_MAX_LENGTH,
  passwordMaxLength: PASSWORD_MAX_LENGTH,
  promoCodeMaxLength: PROMO_CODE_MAX_LENGTH,
  /** 19 digits and the spaces or dashes between their groups. */
  cardMaxLength: 23,
  usernameHint: `${USERNAME_MIN_LENGTH} to ${USERNAME_MAX_LENGTH} letters, digits, dots, dashes or underscores. Not case-sensitive.`,
  passwordHint: `At least ${PASSWORD_MIN_LENGTH} characters and hard to guess: a few unrelated words work well. Common passwords, and ones built from your name, username or city, are refused.`,
});

// ---- parsing --------------------------------------------------------------------------------

/** The problems of a failed parse, one per field and in the schema's order, as FieldErrors. */
export function fieldErrorsOf(error: z.ZodError): FieldError[] {
  const seen = new Set<string>();
  const fields: FieldError[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String).join('.');
    if (seen.has(path)) continue;
    seen.add(path);
    fields.push({ path, message: issue.message });
  }
  return fields;
}

/**
 * Parses input with a rule, or throws ValidationError naming every field that breaks it
 * (`summary` replaces the message when several fields are wrong, or always when given `always`).
 */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, summary?: { message: string; always?: boolean }): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = fieldErrorsOf(result.error);
  if (summary && (summary.always || fields.length > 1)) throw new ValidationError(summary.message, fields);
  throw ValidationError.fields(fields);
}
