// A short real run of the workload (direct, on a test database) and its --json file, for the
// tests of what is made of runs: the live metrics and the HTML report.
import path from 'node:path';
import type { Database } from '../../src/db/connect.ts';
import { DEFAULT_REGION_MAP } from '../../src/region-map.ts';
import { DirectTarget } from '../../src/workload/direct-target.ts';
import { DEFAULT_INIT_OPTIONS, initWorkload } from '../../src/workload/init.ts';
import { DEFAULT_MIX, DEFAULT_WRITE_WEIGHTS, parseCities } from '../../src/workload/mix.ts';
import { JsonReport } from '../../src/workload/report.ts';
import { type RunOptions, type RunResult, runWorkload } from '../../src/workload/run.ts';
import { scratchDir } from '../support/cli.ts';
import { TEST_CITIES } from '../support/factories.ts';

/** Loads the data set a run needs. */
export async function loadRunData(db: Database): Promise<void> {
  await initWorkload(db, { ...DEFAULT_INIT_OPTIONS, numVehicles: 60, drop: true, baseTime: new Date(), demoPasswords: 'fixed' });
}

/** Runs the default mix (half reads) for `durationMs` and writes its run file as the CLI does. */
export async function recordedRun(
  db: Database,
  options: Partial<RunOptions> & { file?: string } = {},
): Promise<{ file: string; result: RunResult }> {
  const file = options.file ?? path.join(scratchDir('movr-run-'), 'run.json');
  const report = new JsonReport(file);
  const runOptions: RunOptions = {
    durationMs: 2500,
    concurrency: 3,
    maxRate: 0,
    rampMs: 0,
    seed: 1,
    mix: { readPercent: 50, weights: DEFAULT_WRITE_WEIGHTS ?? DEFAULT_MIX.weights },
    cities: parseCities(undefined, DEFAULT_REGION_MAP),
    ridersPerWorker: 2,
    intervalMs: 500,
    ...options,
    onInterval: (rows) => {
      report.interval(rows);
      options.onInterval?.(rows);
    },
  };
  const target = new DirectTarget(db, TEST_CITIES);
  const result = await runWorkload(target, runOptions);
  report.finish(result.summary, { target: target.description, startedAt: new Date().toISOString(), concurrency: runOptions.concurrency });
  return { file, result };
}
