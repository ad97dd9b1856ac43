// Progress display for `movr workload init`. On a terminal: one line per table, redrawn in
// place (at most about ten times a second) with a bar, the rows done and the insert rate.
// Elsewhere (CI logs, pipes): one line per table once it is finished.
import type { InitOptions } from './init.ts';

const BAR_WIDTH = 24;
const REDRAW_INTERVAL_MS = 100;

export interface TerminalProgress {
  update: NonNullable<InitOptions['progress']>;
  /** Ends a line left open by an interrupted load. */
  finish(): void;
}

export function terminalProgress(stream: NodeJS.WriteStream): TerminalProgress {
  const tty = stream.isTTY === true;
  const numbers = new Intl.NumberFormat('en-US');
  let table: string | undefined;
  let tableStarted = 0;
  // A table's rows are inserted between the previous report (of any table) and its last one.
  let lastReport = performance.now();
  let lastDraw = 0;
  let lineOpen = false;
  const finished = new Set<string>();

  const line = (name: string, done: number, total: number, now: number): string => {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.floor(fraction * BAR_WIDTH);
    const elapsed = (now - tableStarted) / 1000;
    const rate = elapsed > 0 ? `${numbers.format(Math.round(done / elapsed))} rows/s` : '';
    return (
      `${name.padEnd(27)} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ` +
      `${String(Math.floor(fraction * 100)).padStart(3)}%  ${numbers.format(done)}/${numbers.format(total)}  ${rate}`
    );
  };

  return {
    update(name, done, total) {
      const now = performance.now();
      if (name !== table) {
        if (lineOpen) stream.write('\n');
        lineOpen = false;
        table = name;
        tableStarted = lastReport;
        lastDraw = 0;
      }
      lastReport = now;
      const complete = done >= total;
      if (!tty) {
        if (complete && !finished.has(name)) {
          finished.add(name);
          stream.write(`${line(name, done, total, now)}\n`);
        }
        return;
      }
      if (!complete && now - lastDraw < REDRAW_INTERVAL_MS) return;
      lastDraw = now;
      stream.write(`\r${line(name, done, total, now)}\x1b[K`);
      lineOpen = !complete;
      if (complete) stream.write('\n');
    },
    finish() {
      if (lineOpen) stream.write('\n');
      lineOpen = false;
    },
  };
}
