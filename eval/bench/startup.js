// Benchmark: start-up, whole processes, runs interleaved: `okvqa --help` against a bare `node -e 0` (goal ≤ 1.6×), and
// the import time of the library entry points (`okvqa`, `okvqa/eval`) in a fresh process each.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { arg, median, report, root } from './_util.js';

const runs = Number(arg('runs', '15'));
function wall(args) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}
const importMs = (spec) =>
  Number(wall(['--input-type=module', '-e', `const t=performance.now(); await import(${JSON.stringify(spec)}); console.log(performance.now()-t)`]).stdout.trim());

const bare = [];
const help = [];
const imports = { okvqa: [], 'okvqa/eval': [] };
for (let i = 0; i < runs; i++) {
  bare.push(wall(['-e', '0']).ms);
  help.push(wall([join(root, 'bin', 'okvqa.js'), '--help']).ms);
  for (const spec of Object.keys(imports)) imports[spec].push(importMs(spec));
}
const ratio = median(help) / median(bare);
const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
console.error(`node -e 0: median ${median(bare).toFixed(0)} ms (${fmt(bare)})`);
console.error(`okvqa --help: median ${median(help).toFixed(0)} ms (${fmt(help)}): ${ratio.toFixed(2)}× node -e 0 (goal ≤ 1.6×: ${ratio <= 1.6 ? 'met' : 'not met'})`);
for (const [spec, xs] of Object.entries(imports)) console.error(`import '${spec}': median ${median(xs).toFixed(0)} ms in a fresh process (${fmt(xs)})`);
report({
  bench: 'startup',
  runs,
  node_e0_ms_median: Math.round(median(bare)),
  help_ms_median: Math.round(median(help)),
  help_over_node: Number(ratio.toFixed(2)),
  import_okvqa_ms_median: Math.round(median(imports.okvqa)),
  import_okvqa_eval_ms_median: Math.round(median(imports['okvqa/eval'])),
});
