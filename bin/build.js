#!/usr/bin/env node
// `npm run build` (and `npm install`'s prepare step): compiles src/ to plain JavaScript in dist/,
// with the files the code reads at run time (views, static files, migrations) beside it.
// bin/movr.js runs dist/ while it is newer than every source file, and the sources through tsx
// otherwise: see docs/decisions/0012-compiled-build.md.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist`;
const ASSETS = ['web/views', 'web/public', 'db/migrations'];

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // An install without dev dependencies: movr runs from the sources.
  console.log('movr build: TypeScript is not installed; movr will run from its sources (src/).');
  process.exit(0);
}

rmSync(dist, { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.build.json`], { stdio: 'inherit' });
if (compiled.status !== 0) {
  rmSync(dist, { recursive: true, force: true });
  console.error('movr build: tsc failed; nothing was built (movr will run from its sources).');
  process.exit(1);
}
for (const asset of ASSETS) {
  if (existsSync(`${root}src/${asset}`)) cpSync(`${root}src/${asset}`, `${dist}/${asset}`, { recursive: true });
}
// Written last: a build that stopped half-way has no stamp and is never run.
writeFileSync(`${dist}/.built`, `${new Date().toISOString()}\n`);
console.log('movr build: dist/ is up to date.');
