// Numbers and times as a chart shows them: ticks at d3's "nice" steps with just enough decimals,
// values with their unit, times of day in UTC.
import { format, precisionFixed } from 'd3-format';
import { tickStep } from 'd3-array';

/** "1,234", "0.25", "3.5M": with thousands separators, SI prefixes only from a million up. */
export function tickFormatter(domain: readonly [number, number], count: number): (value: number) => string {
  const [lo, hi] = domain;
  const step = Math.abs(tickStep(lo, hi, count)) || 1;
  if (Math.max(Math.abs(lo), Math.abs(hi)) >= 1e6) return format('~s');
  return format(`,.${precisionFixed(step)}f`);
}

/** A value in a sentence or a table: three significant digits at most below 100, whole numbers above. */
export function formatValue(value: number, unit?: string): string {
  const abs = Math.abs(value);
  const digits = abs >= 1e6 ? format('.3~s')(value) : abs >= 100 ? format(',.0f')(value) : format('.3~r')(value);
  return unit ? `${digits} ${unit}` : digits;
}

/** "14:05", or "14:05:30" when a tick falls between whole minutes: times of day in UTC. */
export function timeFormatter(ticks: readonly number[]): (epochMs: number) => string {
  const withSeconds = ticks.some((t) => t % 60_000 !== 0);
  return (epochMs) => new Date(epochMs).toISOString().slice(11, withSeconds ? 19 : 16);
}

/** "2026-12-01 14:05:30 UTC". */
export function formatTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** An axis title with its unit: "latency (ms)". */
export function axisTitle(label: string | undefined, unit: string | undefined): string | undefined {
  if (label && unit) return `${label} (${unit})`;
  return label ?? unit;
}

/**
 * A domain d3 can put ticks on: one too narrow for floating point to step through (equal ends,
 * or a span of subnormal numbers) is widened to one unit above its low end.
 */
export function usableDomain(lo: number, hi: number): [number, number] {
  const span = hi - lo;
  const tooNarrow = !(span > 1e-100) || span < Math.max(Math.abs(lo), Math.abs(hi)) * 1e-12;
  return tooNarrow ? [lo, lo + Math.max(1, Math.abs(lo) * 1e-6)] : [lo, hi];
}
