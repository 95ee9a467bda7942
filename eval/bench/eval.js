// Benchmark: `okvqa eval` over the full OK-VQA val set (5,046 predictions) as a whole process (startup included).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, hasShared, median, report, root, shared } from './_util.js';

const runs = Number(arg('runs', '7'));
const dir = mkdtempSync(join(tmpdir(), 'okvqa-bench-eval-'));
let annotations = join(shared, 'mscoco_val2014_annotations.json');
if (!hasShared) {
  // Synthetic stand-in of the same size when ../shared is absent.
  const anns = Array.from({ length: 5046 }, (_, i) => ({ image_id: i, question_id: i, answer_type: 'other', answers: Array.from({ length: 10 }, (_, j) => ({ answer_id: j + 1, answer: `a${(i + j) % 7}` })) }));
  annotations = join(dir, 'ann.json');
  writeFileSync(annotations, JSON.stringify({ annotations: anns }));
}
const anns = JSON.parse(readFileSync(annotations, 'utf8')).annotations;
const preds = anns.map((a, i) => ({ question_id: a.question_id, answer: i % 3 ? a.answers[i % 10].answer : 'The U.S.A., 1,000!' }));
const predictions = join(dir, 'predictions.json');
writeFileSync(predictions, JSON.stringify(preds));
const times = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'okvqa.js'), 'eval', '--annotations', annotations, '--predictions', predictions, '--json'], { encoding: 'utf8' });
  times.push(performance.now() - t0);
  if (r.status !== 0) throw new Error(r.stderr);
}
const noop = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  spawnSync(process.execPath, [join(root, 'bin', 'okvqa.js'), '--version']);
  noop.push(performance.now() - t0);
}
console.error(`eval of ${preds.length} predictions: median ${median(times).toFixed(0)} ms per process (CLI startup alone ${median(noop).toFixed(0)} ms), ${runs} runs`);
report({ bench: 'eval', questions: preds.length, runs, ms_per_process_median: Math.round(median(times)), ms_cli_startup_median: Math.round(median(noop)), data: hasShared ? 'okvqa val' : 'synthetic' });
