// Small figures helpers: percentiles of sorted samples, means, and number formats.

/** The p-th percentile of ascending samples (nearest rank); NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export const whole = (n: number) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 0 }) : '—');

export function ms(n: number): string {
  if (!Number.isFinite(n)) return '—';
  if (n >= 100) return `${n.toFixed(0)} ms`;
  if (n >= 10) return `${n.toFixed(1)} ms`;
  return `${n.toFixed(2)} ms`;
}

/** "10s", "1m", "1m30s", "90" (seconds) → seconds. */
export function parseDuration(text: string): number {
  const match = /^(?:(\d+)m)?(?:(\d+)s?)?$/.exec(text.trim());
  if (!match || (match[1] === undefined && match[2] === undefined)) throw new Error(`not a duration: ${text} (e.g. 10s, 1m, 1m30s)`);
  return Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0);
}
