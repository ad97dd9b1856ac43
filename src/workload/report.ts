// Output of `movr workload run`: the per-second lines on a stream and, with --json, a file with
// the per-second series and the summary for plotting. The series is written to the file as it
// happens, so a run of hours keeps nothing of it in memory.
import { closeSync, openSync, writeSync } from 'node:fs';
import { INTERVAL_HEADER, type IntervalRow, type Summary, formatIntervalRow } from './stats.ts';

/** The header is repeated every this many intervals, as the CockroachDB workload does. */
const HEADER_EVERY = 20;

/** Prints the per-second rows, with a header first and every HEADER_EVERY seconds. */
export function intervalPrinter(write: (text: string) => void): (rows: IntervalRow[]) => void {
  let intervals = 0;
  return (rows) => {
    if (intervals % HEADER_EVERY === 0) write(`${INTERVAL_HEADER}\n`);
    intervals++;
    let text = '';
    for (const row of rows) text += `${formatIntervalRow(row)}\n`;
    write(text);
  };
}

/**
 * The --json file: `{"series": [{"elapsedSec", "operations": {<op>: {ops, opsPerSecInst,
 * opsPerSecCum, p50Ms, p95Ms, p99Ms, maxMs, errors}}}, …], "summary": {…}, "run": {…}}`.
 */
export class JsonReport {
  private readonly fd: number;
  private first = true;
  private closed = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    writeSync(this.fd, '{"series":[');
  }

  interval(rows: IntervalRow[]): void {
    if (this.closed || rows.length === 0) return;
    const operations: Record<string, Omit<IntervalRow, 'operation' | 'elapsedSec'>> = {};
    for (const { operation, elapsedSec: _, ...figures } of rows) operations[operation] = figures;
    const entry = JSON.stringify({ elapsedSec: rows[0]!.elapsedSec, operations });
    writeSync(this.fd, `${this.first ? '\n' : ',\n'}${entry}`);
    this.first = false;
  }

  finish(summary: Summary, run: Record<string, unknown>): void {
    if (this.closed) return;
    writeSync(this.fd, `\n],\n"summary":${JSON.stringify(summary)},\n"run":${JSON.stringify(run)}}\n`);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
