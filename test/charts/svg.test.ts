import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatValue, escapeXml } from '../../src/charts/index.ts';
import { tickFormatter, timeFormatter } from '../../src/charts/format.ts';
import { chartId, num, slug } from '../../src/charts/svg.ts';
import { parseSvg, root } from './support.ts';

describe('escapeXml', () => {
  it('turns markup characters into entities', () => {
    expect(escapeXml(`<a href="x">Tom & Jerry's</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;');
  });

  it('drops characters XML cannot carry and keeps the rest of Unicode', () => {
    expect(escapeXml('a\u0000b\u0007c\uFFFEd\uD800e')).toBe('abcde');
    expect(escapeXml('São Paulo 🛴\tand\nmore')).toBe('São Paulo 🛴\tand\nmore');
  });

  it('gives text that parses back to itself, as content and as an attribute', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        const safe = escapeXml(s);
        const element = root(`<svg t="${safe}">${safe}</svg>`);
        const expected = s.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
        expect(element.text).toBe(expected);
      }),
    );
  });
});

describe('numbers and ids', () => {
  it('writes coordinates with at most one decimal and no negative zero', () => {
    expect(num(12.345)).toBe('12.3');
    expect(num(-0.01)).toBe('0');
    expect(num(100)).toBe('100');
  });

  it('makes ids safe for attributes and url(#…)', () => {
    expect(slug('p95 latency <ms> "start ride"')).toBe('p95-latency-ms-start-ride');
    expect(slug('!!!')).toBe('chart');
    expect(chartId(undefined, 'Ops/s')).toBe('chart-ops-s');
    expect(chartId('a") x', 'ignored')).toBe('a-x');
  });

  it('formats ticks at the precision of their step, with separators, SI from a million', () => {
    expect([0, 200, 1200].map(tickFormatter([0, 1400], 5))).toEqual(['0', '200', '1,200']);
    expect([0, 0.1, 0.25].map(tickFormatter([0, 0.4], 5))).toEqual(['0.0', '0.1', '0.3']);
    expect([0, 0.05].map(tickFormatter([0, 0.2], 10))).toEqual(['0.00', '0.05']);
    expect([2e6].map(tickFormatter([0, 4e6], 5))).toEqual(['2M']);
  });

  it('formats values with their unit', () => {
    expect(formatValue(2.345, 'ms')).toBe('2.35 ms');
    expect(formatValue(1234.5, 'ops/s')).toBe('1,235 ops/s');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(3_400_000, 'rides')).toBe('3.4M rides');
  });

  it('shows times of day in UTC, with seconds when a tick is between whole minutes', () => {
    const t = Date.UTC(2026, 11, 1, 14, 5, 0);
    expect(timeFormatter([t, t + 60_000])(t)).toBe('14:05');
    expect(timeFormatter([t, t + 30_000])(t + 30_000)).toBe('14:05:30');
  });

  it('parses what it is given', () => {
    expect(() => parseSvg('<svg><g></svg>')).toThrow(/well-formed/);
  });
});
