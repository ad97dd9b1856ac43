#!/usr/bin/env node
// The `movr` command. It runs the compiled build (dist/, from `npm run build`) while that build
// is newer than every source file, and the TypeScript sources through tsx's loader otherwise, so
// an edit takes effect at once and a fresh install needs no build. The build saves each server
// process about 60 MiB (tsx's loader thread) and its start-up compile time:
// docs/decisions/0012-compiled-build.md.
import { readdirSync, statSync } from 'node:fs';

const root = new URL('..', import.meta.url);

/** The newest modification time of the sources and of what compiles them. */
function newestSource() {
  let newest = 0;
  const visit = (path) => {
    newest = Math.max(newest, statSync(new URL(path, root)).mtimeMs);
  };
  for (const entry of readdirSync(new URL('src/', root), { recursive: true })) visit(`src/${entry}`);
  visit('tsconfig.json');
  visit('tsconfig.build.json');
  return newest;
}

function buildIsCurrent() {
  if (process.env.MOVR_RUN_SOURCES === '1') return false;
  try {
    return statSync(new URL('dist/.built', root)).mtimeMs >= newestSource();
  } catch {
    return false;
  }
}

let main;
if (buildIsCurrent()) {
  ({ main } = await import('../dist/cli/index.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/index.ts'));
}
await main();
