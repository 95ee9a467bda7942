// Benchmark: `okvqa eval` over the full OK-VQA val set (5,046 predictions) as a whole process (start-up included),
// side by side with the official GT-Vision-Lab/VQA evaluator (vqa.py + vqaEval.py) under /usr/bin/python3 on the same
// files, runs interleaved (ours, official, ours, …; median of --runs pairs, default 11); checks the results are identical.
//
//   npm run bench -- eval --official DIR        (or OKVQA_VQA_OFFICIAL=DIR npm run bench -- eval)
//
// DIR is a checkout of https://github.com/GT-Vision-Lab/VQA (master, commit a013f00 was measured): this repository
// carries none of its code. Get it with `git clone https://github.com/GT-Vision-Lab/VQA /tmp/VQA`. The bench copies
// PythonEvaluationTools/vqaEvaluation/vqaEval.py and PythonHelperTools/vqaTools/vqa.py into a temporary folder, made
// runnable by Python 3 without changing what they compute (print statements become calls; leading tabs expanded to 8
// columns as Python 2 read them), and runs them through vqa_official_driver.py as their demo does.
// Without DIR the bench stops with exit 2 and says how to get it (`--skip-official` times ours alone).
// Exits 1 when a run fails or the results differ from the official ones.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, hasShared, median, report, root, shared } from './_util.js';

const runs = Number(arg('runs', '11'));
const python = arg('python', '/usr/bin/python3');
const officialDir = arg('official', process.env.OKVQA_VQA_OFFICIAL);
const skipOfficial = process.argv.includes('--skip-official');
const officialFiles = {
  'vqa.py': join('PythonHelperTools', 'vqaTools', 'vqa.py'),
  'vqaEval.py': join('PythonEvaluationTools', 'vqaEvaluation', 'vqaEval.py'),
};
if (!skipOfficial && (!officialDir || !Object.values(officialFiles).every((f) => existsSync(join(officialDir, f))))) {
  console.error(
    `eval bench: ${officialDir ? `${officialDir} is not a checkout of GT-Vision-Lab/VQA (no ${Object.values(officialFiles).join(', ')})` : 'the official VQA evaluator is not given'}.\n` +
      '  get it: git clone https://github.com/GT-Vision-Lab/VQA /tmp/VQA\n' +
      '  then:   npm run bench -- eval --official /tmp/VQA   (or OKVQA_VQA_OFFICIAL=/tmp/VQA)\n' +
      '  or time okvqa eval alone: npm run bench -- eval --skip-official',
  );
  process.exit(2);
}
if (!skipOfficial && !existsSync(python)) {
  console.error(`eval bench: ${python} not found (the official evaluator runs under Python 3; --python PATH)`);
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'okvqa-bench-eval-'));
let annotations = join(shared, 'mscoco_val2014_annotations.json');
let questions = join(shared, 'OpenEnded_mscoco_val2014_questions.json');
if (!hasShared) {
  // Synthetic stand-in of the same size when ../shared is absent.
  const anns = Array.from({ length: 5046 }, (_, i) => ({ image_id: i, question_id: i, question_type: 'what', answer_type: 'other', answers: Array.from({ length: 10 }, (_, j) => ({ answer_id: j + 1, answer: `a${(i + j) % 7}` })) }));
  const info = { info: {}, task_type: 'Open-Ended', data_type: 'mscoco', data_subtype: 'val2014', license: {} };
  annotations = join(dir, 'ann.json');
  writeFileSync(annotations, JSON.stringify({ ...info, annotations: anns }));
  questions = join(dir, 'questions.json');
  writeFileSync(questions, JSON.stringify({ ...info, questions: anns.map((a) => ({ image_id: a.image_id, question_id: a.question_id, question: 'q?' })) }));
}
let annData = JSON.parse(readFileSync(annotations, 'utf8'));
if (annData.annotations.some((a) => a.question_type === undefined)) {
  // The shared OK-VQA file has no question_type, which the official vqa.py requires: both tools get a copy where each
  // annotation's question_type is the first word of its question (so per-type accuracies are compared too).
  const firstWord = new Map(JSON.parse(readFileSync(questions, 'utf8')).questions.map((q) => [q.question_id, q.question.split(' ')[0].toLowerCase()]));
  annData = { ...annData, annotations: annData.annotations.map((a) => ({ ...a, question_type: firstWord.get(a.question_id) ?? 'none' })) };
  annotations = join(dir, 'annotations-with-types.json');
  writeFileSync(annotations, JSON.stringify(annData));
}
const anns = annData.annotations;
const preds = anns.map((a, i) => ({ question_id: a.question_id, answer: i % 3 ? a.answers[i % 10].answer : 'The U.S.A., 1,000!' }));
const predictions = join(dir, 'predictions.json');
writeFileSync(predictions, JSON.stringify(preds));

const haveOfficial = !skipOfficial;
// The official scripts made runnable by Python 3 without changing what they compute: print statements become calls, and
// leading tabs are expanded to the next multiple of 8 columns, which is how Python 2 read them (vqa.py mixes tabs and
// spaces, which Python 3 refuses).
const official = join(dir, 'official');
if (haveOfficial) {
  mkdirSync(official, { recursive: true });
  for (const [f, rel] of Object.entries(officialFiles)) {
    const src = readFileSync(join(officialDir, rel), 'utf8');
    const py3 = src
      .split('\n')
      .map((line) => {
        const lead = /^[ \t]*/.exec(line)[0];
        let col = 0;
        for (const ch of lead) col = ch === '\t' ? (Math.floor(col / 8) + 1) * 8 : col + 1;
        return ' '.repeat(col) + line.slice(lead.length);
      })
      .join('\n')
      .replace(/^(\s*)print (.+?)\s*$/gm, '$1print($2)');
    writeFileSync(join(official, f), py3);
  }
}

function timed(cmd, args) {
  const t0 = performance.now();
  const env = { ...process.env };
  delete env.OKVQA_VQA_OFFICIAL; // the bench's own variable: okvqa refuses OKVQA_* variables it does not read
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, env });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

const ours = [];
const theirs = [];
const noop = [];
let ourResult;
const officialOut = join(dir, 'official-result.json');
for (let i = 0; i < runs; i++) {
  const r = timed(process.execPath, [join(root, 'bin', 'okvqa.js'), 'eval', '--annotations', annotations, '--questions', questions, '--predictions', predictions, '--json']);
  ours.push(r.ms);
  ourResult = JSON.parse(r.stdout);
  if (haveOfficial) theirs.push(timed(python, [join(root, 'eval', 'bench', 'vqa_official_driver.py'), official, annotations, questions, predictions, officialOut]).ms);
  noop.push(timed(process.execPath, [join(root, 'bin', 'okvqa.js'), '--version']).ms);
}

let identical = null;
if (haveOfficial) {
  const off = JSON.parse(readFileSync(officialOut, 'utf8'));
  const same = (a, b) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());
  identical =
    off.accuracy.overall === ourResult.overall &&
    same(off.accuracy.perQuestionType, ourResult.perQuestionType) &&
    same(off.accuracy.perAnswerType, ourResult.perAnswerType) &&
    same(off.evalQA, ourResult.perQuestion);
}
const oursMs = median(ours);
const theirsMs = haveOfficial ? median(theirs) : null;
const speedup = theirsMs ? theirsMs / oursMs : null;
console.error(`okvqa eval, ${preds.length} predictions, whole process: median ${oursMs.toFixed(0)} ms (runs: ${ours.map((x) => x.toFixed(0)).join(' ')})`);
if (haveOfficial) {
  console.error(`official vqaEval.py (python3): median ${theirsMs.toFixed(0)} ms (runs: ${theirs.map((x) => x.toFixed(0)).join(' ')})`);
  console.error(`speed-up ${speedup.toFixed(2)}× (goal ≥ 5×: ${speedup >= 5 ? 'met' : 'not met'}); results identical to the official script: ${identical}`);
}
report({
  bench: 'eval',
  questions: preds.length,
  runs,
  ms_per_process_median: Math.round(oursMs),
  ms_cli_startup_median: Math.round(median(noop)),
  official_ms_per_process_median: theirsMs === null ? null : Math.round(theirsMs),
  speedup_vs_official: speedup === null ? null : Number(speedup.toFixed(2)),
  identical_to_official: identical,
  data: hasShared ? 'okvqa val' : 'synthetic',
  loadavg: loadavg().map((x) => Number(x.toFixed(2))),
});
if (haveOfficial && !identical) {
  console.error('eval bench: okvqa eval and the official evaluator disagree');
  process.exit(1);
}
