// `movr workload report <run.json>… --out report.html`: one self-contained HTML page (inline
// CSS, SVG charts drawn here by src/charts, no script, nothing fetched) of what `movr workload
// run --json` recorded: ops/s and p50/p95/p99 latency per operation over the run, and the
// summary table. Several runs are drawn on the same axes (seconds since each run started) to
// compare them: before and after a change, PostgreSQL against the embedded database.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type LineSeries, escapeXml, formatValue, lineChart, lineChartTable, seriesColour } from '../charts/index.ts';
import { OPERATIONS } from './mix.ts';

const figures = z.object({
  ops: z.number(),
  opsPerSecInst: z.number(),
  p50Ms: z.number(),
  p95Ms: z.number(),
  p99Ms: z.number(),
  maxMs: z.number(),
  errors: z.number(),
});

const interval = z.object({ elapsedSec: z.number(), operations: z.record(z.string(), figures) });

const operationSummary = z.object({
  operation: z.string(),
  count: z.number(),
  opsPerSec: z.number(),
  meanMs: z.number(),
  p50Ms: z.number(),
  p95Ms: z.number(),
  p99Ms: z.number(),
  maxMs: z.number(),
  conflicts: z.number(),
  errors: z.number(),
  skipped: z.number(),
});

const runFile = z.object({
  series: z.array(interval),
  summary: z
    .object({
      elapsedSec: z.number(),
      operations: z.array(operationSummary),
      total: operationSummary,
      retries: z.object({ total: z.number(), byTransaction: z.record(z.string(), z.number()) }).nullable(),
    })
    .optional(),
  run: z.record(z.string(), z.unknown()).optional(),
});

export type RunFile = z.infer<typeof runFile>;

export interface LoadedRun {
  /** How the run is named in the report: the file's name without .json, unless given. */
  label: string;
  file: string;
  data: RunFile;
  /** The file ended before the summary: the run was killed. The series up to then is drawn. */
  unfinished: boolean;
}

export class RunFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'RunFileError';
  }
}

/**
 * The intervals of a file that a killed run left unfinished: `{"series":[` and one interval per
 * line, with no summary.
 */
function unfinishedSeries(text: string): unknown | undefined {
  if (!text.startsWith('{"series":[')) return undefined;
  const series: unknown[] = [];
  for (const line of text.split('\n').slice(1)) {
    const entry = line.trim().replace(/,$/, '');
    if (!entry.startsWith('{"elapsedSec"')) continue;
    try {
      series.push(JSON.parse(entry));
    } catch {
      break; // the last line, cut off mid-write
    }
  }
  return { series };
}

/** Parses a run file's text (`movr workload run --json`). */
export function parseRunFile(file: string, text: string, label?: string): LoadedRun {
  let json: unknown;
  let unfinished = false;
  try {
    json = JSON.parse(text);
  } catch {
    json = unfinishedSeries(text);
    unfinished = true;
    if (json === undefined) throw new RunFileError(file, 'is not JSON written by movr workload run --json');
  }
  const parsed = runFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RunFileError(file, `is not a movr workload run file (${issue ? `${issue.path.join('.') || 'the file'}: ${issue.message}` : 'unexpected shape'})`);
  }
  return { label: label ?? path.basename(file).replace(/\.json$/i, ''), file, data: parsed.data, unfinished: unfinished || !parsed.data.summary };
}

/** Reads run files; labels made unique where two files share a name. */
export function loadRunFiles(files: readonly string[]): LoadedRun[] {
  const runs = files.map((file) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new RunFileError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return parseRunFile(file, text);
  });
  const seen = new Map<string, number>();
  for (const run of runs) {
    const n = (seen.get(run.label) ?? 0) + 1;
    seen.set(run.label, n);
    if (n > 1) run.label = `${run.label} (${n})`;
  }
  return runs;
}

/** Operations that any run has, in the workload's order (unknown ones last, by name). */
function operationsOf(runs: readonly LoadedRun[]): string[] {
  const present = new Set(runs.flatMap((r) => r.data.series.flatMap((i) => Object.keys(i.operations))));
  const known = (OPERATIONS as readonly string[]).filter((op) => present.has(op));
  return [...known, ...[...present].filter((op) => !known.includes(op)).sort()];
}

const PERCENTILES = [
  { key: 'p50Ms', name: 'p50', dash: null },
  { key: 'p95Ms', name: 'p95', dash: '6 3' },
  { key: 'p99Ms', name: 'p99', dash: '2 3' },
] as const;

const CHART = { width: 560, height: 280 };

/** ops/s of one operation (or all, `operation` undefined) per interval, a series per run. */
function throughputSeries(runs: readonly LoadedRun[], operation: string | undefined): LineSeries[] {
  return runs.map((run, i) => ({
    name: run.label,
    colour: seriesColour(i),
    dash: null,
    points: run.data.series.map((step) => {
      const rows = operation === undefined ? Object.values(step.operations) : [step.operations[operation]];
      const known = rows.filter((r) => r !== undefined);
      return { x: step.elapsedSec, y: known.length > 0 ? known.reduce((sum, r) => sum + r.opsPerSecInst, 0) : null };
    }),
  }));
}

/**
 * p50/p95/p99 of one operation per interval. One run: a colour per percentile; several: a colour
 * per run, a dash per percentile. Intervals without operations are gaps.
 */
function latencySeries(runs: readonly LoadedRun[], operation: string): LineSeries[] {
  const several = runs.length > 1;
  return runs.flatMap((run, i) =>
    PERCENTILES.map((p, k) => ({
      name: several ? `${run.label} ${p.name}` : p.name,
      colour: seriesColour(several ? i : k),
      dash: several ? p.dash : null,
      points: run.data.series.map((step) => {
        const row = step.operations[operation];
        return { x: step.elapsedSec, y: row && row.ops > 0 ? row[p.key] : null };
      }),
    })),
  );
}

function chartFigure(id: string, chart: Parameters<typeof lineChart>[0]): string {
  return (
    `<figure class="chart">${lineChart({ ...chart, id, ...CHART })}` +
    `<details><summary>Figures of “${escapeXml(chart.title)}”</summary>${lineChartTable(chart)}</details></figure>`
  );
}

const ms = (value: number) => formatValue(value);
const int = (value: number) => new Intl.NumberFormat('en-US').format(Math.round(value));

function summaryTable(run: LoadedRun): string {
  const summary = run.data.summary;
  if (!summary) {
    return `<p class="note">No summary: the run stopped before it wrote one (killed?). The charts show its intervals up to then.</p>`;
  }
  const head = ['operation', 'ops', 'ops/s', 'mean (ms)', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'max (ms)', 'conflicts', 'errors', 'skipped'];
  const rows = [...summary.operations.filter((op) => op.count + op.errors + op.skipped > 0), summary.total].map(
    (op) =>
      `<tr${op.operation === 'total' ? ' class="total"' : ''}><th scope="row">${escapeXml(op.operation)}</th>` +
      [int(op.count), formatValue(op.opsPerSec), ms(op.meanMs), ms(op.p50Ms), ms(op.p95Ms), ms(op.p99Ms), ms(op.maxMs), int(op.conflicts), int(op.errors), int(op.skipped)]
        .map((cell) => `<td>${escapeXml(cell)}</td>`)
        .join('') +
      '</tr>',
  );
  const retries = summary.retries;
  const retryText =
    retries === null
      ? 'Retries (SQLSTATE 40001): not observable over HTTP (see the server’s movr_transaction_retries_total).'
      : `Retries (SQLSTATE 40001): ${int(retries.total)}${
          Object.keys(retries.byTransaction).length > 0
            ? ` (${Object.entries(retries.byTransaction)
                .map(([tx, n]) => `${tx} ${int(n)}`)
                .join(', ')})`
            : ''
        }.`;
  return (
    `<table class="summary"><caption>${escapeXml(run.label)}: ${escapeXml(formatValue(summary.elapsedSec, 's'))}</caption>` +
    `<thead><tr>${head.map((h) => `<th scope="col">${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>` +
    `<p class="note">${escapeXml(retryText)}</p>`
  );
}

function runFacts(run: LoadedRun): string {
  const info = run.data.run ?? {};
  const fact = (name: string, value: unknown) =>
    value === undefined || value === null ? '' : `<dt>${escapeXml(name)}</dt><dd>${escapeXml(String(value))}</dd>`;
  const duration = typeof info.durationMs === 'number' ? (info.durationMs > 0 ? `${info.durationMs / 1000} s` : 'until stopped') : undefined;
  return (
    `<dl class="facts">${fact('file', run.file)}${fact('target', info.target)}${fact('started', info.startedAt)}` +
    `${fact('workers', info.concurrency)}${fact('duration', duration)}${fact('seed', info.seed)}` +
    `${fact('stopped by', info.stoppedBy)}${run.unfinished ? fact('note', 'unfinished: no summary') : ''}</dl>`
  );
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2329; --bg: #fff; --muted: #5b6570; --line: #d9dee3; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ec; --bg: #15191d; --muted: #a3adb7; --line: #39414a; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 24px; font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.6rem; margin: 0 0 4px; } h2 { font-size: 1.25rem; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1rem; margin: 16px 0 6px; }
.lede, .note, caption { color: var(--muted); } caption { text-align: left; padding: 4px 0; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
figure.chart { margin: 0; } figure.chart svg { max-width: 100%; height: auto; display: block; }
details { font-size: 0.85rem; margin-top: 2px; } details table { max-height: 20em; display: block; overflow: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 8px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--line); text-align: right; } th[scope=row], thead th:first-child { text-align: left; }
tr.total th, tr.total td { font-weight: 600; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; font-size: 0.9rem; } dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
nav ul { padding-left: 20px; columns: 3; }
`;

export interface ReportOptions {
  title?: string;
  /** When the page was made (default now). */
  generatedAt?: Date;
}

/** The report page for one or more runs. */
export function renderReport(runs: readonly LoadedRun[], options: ReportOptions = {}): string {
  if (runs.length === 0) throw new RangeError('a report needs at least one run');
  const title = options.title ?? (runs.length === 1 ? `MovR workload: ${runs[0]!.label}` : `MovR workload: ${runs.map((r) => r.label).join(' vs ')}`);
  const operations = operationsOf(runs);
  const longest = Math.max(1, ...runs.flatMap((r) => r.data.series.map((step) => step.elapsedSec)));
  const x = { label: 'time since the start', unit: 's', domain: [0, longest] as const };
  const compare = runs.length > 1 ? ' The runs are drawn on the same axes, by seconds since each one started.' : '';

  const sections = operations.map((op, i) => {
    const anchor = `op-${i}`;
    return (
      `<section id="${anchor}" class="operation" data-operation="${escapeXml(op)}"><h2>${escapeXml(op)}</h2><div class="charts">` +
      chartFigure(`${anchor}-ops`, {
        title: `${op}: operations per second`,
        description: `Operations of ${op} answered per second, each second of the run${runs.length > 1 ? ', one line per run' : ''}`,
        series: throughputSeries(runs, op),
        x,
        y: { label: 'throughput', unit: 'ops/s' },
      }) +
      chartFigure(`${anchor}-latency`, {
        title: `${op}: latency p50, p95, p99`,
        description: `Latency percentiles of ${op} in each second of the run${runs.length > 1 ? ', by run' : ''}; gaps are seconds without an operation`,
        series: latencySeries(runs, op),
        x,
        y: { label: 'latency', unit: 'ms' },
      }) +
      '</div></section>'
    );
  });

  const generated = (options.generatedAt ?? new Date()).toISOString().slice(0, 19).replace('T', ' ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeXml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${escapeXml(title)}</h1>
<p class="lede">${runs.length} run${runs.length === 1 ? '' : 's'}, ${operations.length} operations; made by movr workload report at ${escapeXml(generated)} UTC.${escapeXml(compare)}</p></header>
<nav><ul><li><a href="#summary">Summary</a></li><li><a href="#all">All operations</a></li>${operations
    .map((op, i) => `<li><a href="#op-${i}">${escapeXml(op)}</a></li>`)
    .join('')}</ul></nav>
<section id="summary"><h2>Summary</h2>${runs.map((run) => `<h3>${escapeXml(run.label)}</h3>${runFacts(run)}${summaryTable(run)}`).join('')}</section>
<section id="all"><h2>All operations</h2><div class="charts">${chartFigure('all-ops', {
    title: 'All operations: operations per second',
    description: `Operations of every kind answered per second${runs.length > 1 ? ', one line per run' : ''}`,
    series: throughputSeries(runs, undefined),
    x,
    y: { label: 'throughput', unit: 'ops/s' },
  })}</div></section>
${sections.join('\n')}
</body>
</html>
`;
}
