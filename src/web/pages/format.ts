// Presentation helpers shared by the pages.
import { type RegionName, cityLabel } from '../../region-map.ts';

export { cityLabel };

const REGION_WORDS: Readonly<Record<string, string>> = { us: 'US', eu: 'EU', ap: 'AP', sa: 'SA' };

/**
 * A region's name as people read it: 'us-east1' → 'US East', 'europe-west1' → 'Europe West',
 * 'us-central1' → 'US Central', 'us-east4' → 'US East 4' (a zone number other than 1 is kept).
 */
export function regionLabel(region: RegionName): string {
  const words = region.split('-').filter(Boolean);
  const last = words.at(-1) ?? '';
  const number = /\d+$/.exec(last)?.[0];
  if (number !== undefined) words[words.length - 1] = last.slice(0, -number.length);
  const label = words
    .filter(Boolean)
    .map((word) => REGION_WORDS[word] ?? word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
  if (label === '') return region;
  return number === undefined || number === '1' ? label : `${label} ${number}`;
}

/** The path of a city's vehicle list. */
export function cityVehiclesPath(city: string): string {
  return `/cities/${encodeURIComponent(city)}/vehicles`;
}

/** '1 vehicle', '2 vehicles', 'No vehicles'. */
export function vehicleCountLabel(count: number): string {
  if (count === 0) return 'No vehicles';
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'vehicle' : 'vehicles'}`;
}

const moneyFormats = new Map<string, Intl.NumberFormat>();

/** An amount in cents as money: formatMoney(1235) → '$12.35', formatMoney(-50) → '-$0.50'. */
export function formatMoney(cents: number, currency = 'USD'): string {
  let format = moneyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    moneyFormats.set(currency, format);
  }
  return format.format(cents / 100);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function toDate(value: Date | string | number): Date {
  return value instanceof Date ? value : new Date(value);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** '23 Nov 2026' (UTC). */
export function formatDate(value: Date | string | number): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return '';
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

interface ZoneFormat {
  parts: Intl.DateTimeFormat;
  /** For the zone's abbreviation: en-US knows 'EST'/'PDT', en-GB knows 'CET'/'CEST'. */
  names: Intl.DateTimeFormat[];
}

const zoneFormats = new Map<string, ZoneFormat>();

function zoneFormat(timeZone: string): ZoneFormat {
  let format = zoneFormats.get(timeZone);
  if (!format) {
    const options = { timeZone, hourCycle: 'h23' } as const;
    format = {
      parts: new Intl.DateTimeFormat('en-US', { ...options, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }),
      names: ['en-US', 'en-GB'].map((locale) => new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' })),
    };
    zoneFormats.set(timeZone, format);
  }
  return format;
}

/** The zone's abbreviation at that instant: 'EST', 'PDT', 'CET', 'CEST', 'UTC'; else 'GMT+9'. */
export function timeZoneAbbreviation(date: Date, timeZone: string): string {
  const names = zoneFormat(timeZone).names.map(
    (format) => format.formatToParts(date).find((part) => part.type === 'timeZoneName')?.value ?? '',
  );
  return names.find((name) => name !== '' && !name.startsWith('GMT')) ?? names[0] ?? timeZone;
}

/**
 * '23 Nov 2026, 09:05 EST': a time in the given IANA time zone (by default UTC) with the zone's
 * abbreviation, so a ride in Paris shows Paris time and says so.
 */
export function formatDateTime(value: Date | string | number, timeZone = 'UTC'): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return '';
  const parts = Object.fromEntries(zoneFormat(timeZone).parts.formatToParts(date).map((part) => [part.type, part.value]));
  const month = MONTHS[Number(parts.month) - 1] ?? '';
  return `${Number(parts.day)} ${month} ${parts.year}, ${parts.hour}:${parts.minute} ${timeZoneAbbreviation(date, timeZone)}`;
}

/** The machine-readable form for <time datetime="…">: '2026-11-23T14:05:00Z'. */
export function isoDateTime(value: Date | string | number): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return '';
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A duration: '< 1 min', '12 min', '1 h 05 min', '59 h 00 min'. Negative counts as none. */
export function formatDuration(milliseconds: number): string {
  const minutes = Math.floor(Math.max(0, milliseconds) / 60_000);
  if (!Number.isFinite(minutes) || minutes < 1) return '< 1 min';
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${pad2(minutes % 60)} min`;
}

/** The duration between two times (see formatDuration). */
export function formatDurationBetween(start: Date | string | number, end: Date | string | number): string {
  return formatDuration(toDate(end).getTime() - toDate(start).getTime());
}

/**
 * How long ago (or how far ahead) a time is, roughly: 'just now', '5 min ago', '3 h ago',
 * 'yesterday', '4 days ago', 'in 10 min', 'in 2 days'; beyond 30 days, the date itself.
 */
export function formatRelative(value: Date | string | number, now: Date = new Date()): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return '';
  const difference = now.getTime() - date.getTime();
  const future = difference < 0;
  const minutes = Math.floor(Math.abs(difference) / 60_000);
  if (minutes < 1) return 'just now';
  const days = Math.floor(minutes / 1440);
  if (days > 30) return `on ${formatDate(date)}`;
  let amount: string;
  if (minutes < 60) amount = `${minutes} min`;
  else if (minutes < 1440) amount = `${Math.floor(minutes / 60)} h`;
  else if (days === 1) return future ? 'tomorrow' : 'yesterday';
  else amount = `${days} days`;
  return future ? `in ${amount}` : `${amount} ago`;
}

const VEHICLE_STATUS_LABELS: Readonly<Record<string, string>> = {
  available: 'Available',
  in_use: 'In use',
  lost: 'Lost',
  retired: 'Retired',
};

/** 'in_use' → 'In use'. */
export function vehicleStatusLabel(status: string): string {
  return VEHICLE_STATUS_LABELS[status] ?? status;
}

const VEHICLE_TYPE_LABELS: Readonly<Record<string, string>> = {
  bike: 'Bike',
  scooter: 'Scooter',
  skateboard: 'Skateboard',
};

/** 'skateboard' → 'Skateboard'. */
export function vehicleTypeLabel(type: string): string {
  return VEHICLE_TYPE_LABELS[type] ?? type;
}

const BROWSERS: readonly [RegExp, string][] = [
  [/Edg\//, 'Edge'],
  [/OPR\/|Opera/, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrom(e|ium)\//, 'Chrome'],
  [/Safari\//, 'Safari'],
  [/curl\//, 'curl'],
];
const SYSTEMS: readonly [RegExp, string][] = [
  [/Android/, 'Android'],
  [/iPhone|iPad|iOS/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];

/** A User-Agent header as people recognise it: 'Firefox on Linux', 'Chrome', 'Unknown browser'. */
export function deviceLabel(userAgent: string | null | undefined): string {
  if (!userAgent) return 'Unknown browser';
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? 'Unknown browser';
}

/** The formatting helpers, for templates: `it.fmt.money(ride.revenueCents)`. */
export const templateFormat = Object.freeze({
  money: formatMoney,
  date: formatDate,
  dateTime: formatDateTime,
  isoDateTime,
  duration: formatDuration,
  durationBetween: formatDurationBetween,
  relative: formatRelative,
  cityLabel,
  vehicleCountLabel,
  vehicleStatusLabel,
  vehicleTypeLabel,
  deviceLabel,
});
