// Benchmark: a cached rerun of a finished run (`okvqa run prior` cold, then again into a new folder with a warm cache).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, hasShared, report, root, shared } from './_util.js';

const pipeline = arg('pipeline', 'prior');
const dir = mkdtempSync(join(tmpdir(), 'okvqa-bench-rerun-'));
let data = join(root, 'test', 'fixtures', 'okvqa-mini', 'data.json');
if (hasShared) {
  data = join(dir, 'data.json');
  writeFileSync(data, JSON.stringify({
    dataset: 'okvqa',
    questions: join(shared, 'OpenEnded_mscoco_val2014_questions.json'),
    annotations: join(shared, 'mscoco_val2014_annotations.json'),
    captions: join(shared, 'vinvl_captions_val2014.tsv'),
    examples: { questions: join(shared, 'OpenEnded_mscoco_train2014_questions.json'), annotations: join(shared, 'mscoco_train2014_annotations.json') },
  }));
}
const env = { ...process.env, OKVQA_CACHE_PATH: join(dir, 'cache.sqlite') };
const run = (out, extra = []) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'okvqa.js'), 'run', pipeline, '--data', data, '--out', join(dir, out), '--no-progress', ...extra], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return performance.now() - t0;
};
const cold = run('cold');
const warm = run('warm');
const replay = run('replay', ['--cache', 'replay']);
console.error(`${pipeline} on ${hasShared ? 'OK-VQA val (5,046)' : 'the test fixture (40)'}: cold ${cold.toFixed(0)} ms, cached rerun ${warm.toFixed(0)} ms, replay ${replay.toFixed(0)} ms (whole processes)`);
report({ bench: 'rerun', pipeline, data: hasShared ? 'okvqa val' : 'fixture', ms_cold: Math.round(cold), ms_cached_rerun: Math.round(warm), ms_replay: Math.round(replay) });
