import { describe, expect, it } from 'vitest';
import {
  formatDate,
  formatDateTime,
  formatDuration,
  formatDurationBetween,
  formatMoney,
  formatRelative,
  isoDateTime,
  vehicleStatusLabel,
  vehicleTypeLabel,
} from '../../src/web/pages/format.ts';

describe('formatting', () => {
  it('formats money from cents', () => {
    expect(formatMoney(1235)).toBe('$12.35');
    expect(formatMoney(0)).toBe('$0.00');
    expect(formatMoney(5)).toBe('$0.05');
    expect(formatMoney(123456789)).toBe('$1,234,567.89');
    expect(formatMoney(-50)).toBe('-$0.50');
    expect(formatMoney(1235, 'EUR')).toBe('€12.35');
  });

  it('formats dates and times in UTC, labelled', () => {
    const date = new Date('2026-11-23T14:05:59.999Z');
    expect(formatDateTime(date)).toBe('23 Nov 2026, 14:05 UTC');
    expect(formatDateTime('2026-01-02T03:04:00Z')).toBe('2 Jan 2026, 03:04 UTC');
    expect(formatDateTime(Date.UTC(2026, 11, 31, 23, 59))).toBe('31 Dec 2026, 23:59 UTC');
    expect(formatDate(date)).toBe('23 Nov 2026');
    expect(isoDateTime(date)).toBe('2026-11-23T14:05:59Z');
    expect(formatDateTime('not a date')).toBe('');
  });

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('< 1 min');
    expect(formatDuration(59_999)).toBe('< 1 min');
    expect(formatDuration(-5000)).toBe('< 1 min');
    expect(formatDuration(60_000)).toBe('1 min');
    expect(formatDuration(12 * 60_000 + 30_000)).toBe('12 min');
    expect(formatDuration(59 * 60_000)).toBe('59 min');
    expect(formatDuration(65 * 60_000)).toBe('1 h 05 min');
    expect(formatDuration(2 * 3600_000)).toBe('2 h 00 min');
    expect(formatDuration(59 * 3600_000 + 59 * 60_000)).toBe('59 h 59 min');
    expect(formatDurationBetween('2026-01-01T10:00:00Z', '2026-01-01T11:05:00Z')).toBe('1 h 05 min');
  });

  it('formats elapsed time relative to now', () => {
    const now = new Date('2026-06-15T12:00:00Z');
    const ago = (ms: number) => new Date(now.getTime() - ms);
    expect(formatRelative(ago(10_000), now)).toBe('just now');
    expect(formatRelative(ago(5 * 60_000), now)).toBe('5 min ago');
    expect(formatRelative(ago(3 * 3600_000 + 100), now)).toBe('3 h ago');
    expect(formatRelative(ago(30 * 3600_000), now)).toBe('yesterday');
    expect(formatRelative(ago(4 * 86_400_000), now)).toBe('4 days ago');
    expect(formatRelative(ago(-10 * 60_000), now)).toBe('in 10 min');
    expect(formatRelative(ago(-2 * 86_400_000), now)).toBe('in 2 days');
    expect(formatRelative(ago(-86_400_000), now)).toBe('tomorrow');
    expect(formatRelative(ago(60 * 86_400_000), now)).toBe('on 16 Apr 2026');
  });

  it('labels vehicle statuses and types', () => {
    expect(vehicleStatusLabel('in_use')).toBe('In use');
    expect(vehicleStatusLabel('available')).toBe('Available');
    expect(vehicleStatusLabel('lost')).toBe('Lost');
    expect(vehicleStatusLabel('retired')).toBe('Retired');
    expect(vehicleTypeLabel('skateboard')).toBe('Skateboard');
    expect(vehicleTypeLabel('bike')).toBe('Bike');
  });
});
