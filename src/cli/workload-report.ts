// `movr workload report <run.json>… --out <file.html>`: the runs that `movr workload run --json`
// recorded, drawn as one self-contained HTML page (src/workload/html-report.ts).
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { RunFileError, loadRunFiles, renderReport } from '../workload/html-report.ts';
import { type CliContext, EXIT_FAILURE } from './common.ts';

interface ReportFlags {
  out: string;
  title?: string;
}

export function workloadReportCommand(context: CliContext): Command {
  return new Command('report')
    .summary('Draw run files of workload run --json as one HTML page of charts')
    .description(
      'Draw one or more run files written by "movr workload run --json" as one self-contained HTML page: ' +
        'ops/s and p50/p95/p99 latency per operation over time, and the summary table. Several runs are drawn ' +
        'on the same axes to compare them (see docs/workload.md)',
    )
    .argument('<run.json...>', 'Run files of movr workload run --json')
    .requiredOption('--out <file.html>', 'Where to write the page')
    .option('--title <text>', 'The page title (default: from the run files’ names)')
    .action((files: string[], flags: ReportFlags) => {
      let runs;
      try {
        runs = loadRunFiles(files);
      } catch (error) {
        if (!(error instanceof RunFileError)) throw error;
        context.err(`movr: ${error.message}\n`);
        context.exitCode = EXIT_FAILURE;
        return;
      }
      writeFileSync(flags.out, renderReport(runs, flags.title === undefined ? {} : { title: flags.title }));
      const unfinished = runs.filter((r) => r.unfinished).map((r) => r.file);
      if (unfinished.length > 0) context.err(`note: no summary in ${unfinished.join(', ')} (the run stopped early): drawn up to where it stopped\n`);
      context.out(`wrote ${flags.out} (${runs.length} run${runs.length === 1 ? '' : 's'})\n`);
    });
}
