#!/usr/bin/env node
// `npm run bench [-- <name> [args…]]`: runs eval/bench/<name>.js, or the foundation benchmarks when no name is given.
// Each benchmark prints human lines on stderr and one JSON line (its figures) last on stdout, and exits non-zero when a
// section fails (1) or its inputs are missing (2). With no name every foundation benchmark runs, each even when an
// earlier one failed; the exit status is the first failure's.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [name, ...args] = process.argv.slice(2);
const available = readdirSync(here).filter((f) => f.endsWith('.js') && f !== 'index.js' && !f.startsWith('_')).map((f) => f.slice(0, -3));
if (!existsSync(join(here, '..', '..', 'dist', 'index.js'))) {
  console.error('bench: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const names = name ? [name] : ['eval', 'startup', 'runner', 'rerun', 'clip', 'knn'];
let status = 0;
for (const n of names) {
  if (!available.includes(n)) {
    console.error(`bench: no benchmark "${n}" (available: ${available.join(', ')})`);
    process.exit(2);
  }
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, `${n}.js`), ...(name ? args : ['--json'])], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench: ${n} failed (exit ${r.status ?? r.signal})`);
    if (status === 0) status = r.status ?? 1;
  }
}
process.exit(status);
