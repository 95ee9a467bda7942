/**
 * The trained-reader loop closed on the tiny profile (issue: "Training: the reader KAT trained, and REVIVE's"):
 * a 100-question `revive` run with regions → `okvqa export fid --regions --tokenizer` → `okvqa reader train` from
 * the tiny reader's torch weights (REVIVE mode: the visual projection learned with the reader) → `okvqa reader import`
 * → `revive` again with the trained reader: its greedy tokens equal the torch model's on every question, and its accuracy
 * beats the untrained reader's (memorisation of a learnable question → answer rule proves the loop closes).
 *
 * The questions ask the colour of 50 objects (two wordings each) over the two fixture photos; each object has one colour
 * (8 of 10 annotators) and a distractor (2 of 10), so the answer is a function of the question the reader must learn.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRunContext, createRunContext, loadPipeline, runPipeline as runBatch } from '../../src/answerer.js';
import { resolveConfig } from '../../src/core/config.js';
import { packagePaths } from '../../src/core/paths.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import { exportFid } from '../../src/export/fid.js';
import { loadExportTokenizer } from '../../src/export/fid-tokenizer.js';
import { importReader } from '../../src/reader/import.js';
import { completionReply, TestLlmServer } from '../llm/server.js';
import { okvqa } from '../helpers/cli.js';
import { PYTHON, pythonMissing } from '../helpers/python.js';
import { describeNeeds } from '../helpers/requires.js';

const root = packagePaths().root;
const FIXTURE = join(root, 'assets', 'demo');
const dir = mkdtempSync(join(tmpdir(), 'okvqa-train-revive-'));
const missing = pythonMissing(['torch', 'numpy']);

const OBJECTS = `dog cat cup car bus train bike plane boat horse cow bird pizza cake banana apple table chair hat shirt glass
plate knife fork bowl bottle window door phone book clock tree flower ball bed sign picture photo kitchen room street city
beach snow water food tea coffee man woman`.split(/\s+/);
const COLOURS = ['red', 'blue', 'green', 'yellow', 'white', 'black', 'brown'];

function writeData(): string {
  const questions: unknown[] = [];
  const annotations: unknown[] = [];
  let qid = 1000;
  OBJECTS.forEach((o, i) => {
    for (const q of [`What color is the ${o}?`, `What color is this ${o}?`]) {
      const image = (qid % 2) + 1;
      const colour = COLOURS[i % COLOURS.length]!;
      const other = COLOURS[(i + 3) % COLOURS.length]!;
      questions.push({ image_id: image, question: q, question_id: qid });
      const answers = [...Array(8).fill(colour), other, other].map((a, k) => ({ answer_id: k + 1, answer: a, raw_answer: a, answer_confidence: 'yes' }));
      annotations.push({ image_id: image, question_id: qid, answer_type: 'other', question_type: 'what color is the', answers });
      qid++;
    }
  });
  const d = join(dir, 'data');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'questions.json'), JSON.stringify({ data_subtype: 'val2014', task_type: 'Open-Ended', questions }));
  writeFileSync(join(d, 'annotations.json'), JSON.stringify({ data_subtype: 'val2014', annotations }));
  const f = (n: string) => join(FIXTURE, n);
  writeFileSync(
    join(d, 'data.json'),
    JSON.stringify({
      dataset: 'okvqa',
      questions: join(d, 'questions.json'),
      annotations: join(d, 'annotations.json'),
      images: f('images'),
      captions: f('captions.tsv'),
      knowledge: join(root, 'assets', 'demo', 'kb.sqlite'),
      examples: { questions: f('pool_questions.json'), annotations: f('pool_annotations.json'), captions: f('pool_captions.json') },
    }),
  );
  return join(d, 'data.json');
}

function python(args: string[]): string {
  const env = { ...process.env, PYTHONPATH: join(root, 'python'), OMP_NUM_THREADS: '1' };
  const r = spawnSync(PYTHON, args, { cwd: root, encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

let server: TestLlmServer;
beforeAll(async () => {
  server = await new TestLlmServer().start();
  server.handler = (body) => {
    const p: string = body.prompt;
    if (p.endsWith('This is because')) return completionReply(body, { text: ' it is what it looks like.' });
    return completionReply(body, { text: ' coffee', tokens: [{ token: ' coffee', logprob: -0.1 }] });
  };
});
afterAll(async () => {
  await server?.stop();
  if (!process.env.OKVQA_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
});

interface Trace {
  questionId: string;
  prediction: { answer: string };
  nodes: { answer: { notes: { reader: { tokens: number[] }; regions: string } } };
}

// A smaller revive (same stages): 3 regions, 1 entity per region, one 4-shot prompt — 4 passages + 3 visual tokens a question
const SMALL = [
  'nodes.regions.params.maxRegions=3', 'nodes.entities.params.k=1', 'nodes.entities.params.limit=3',
  'nodes.examples.params.shots=4', 'nodes.examples.params.ensemble=1', 'nodes.prompts.params.shots=4', 'nodes.prompts.params.ensemble=1',
];

async function runRevive(dataPath: string, out: string, reader?: string) {
  const data = loadDataFile(dataPath);
  const config = resolveConfig({
    overrides: {
      models: { profile: 'tiny', offline: true, ...(reader ? { ids: { reader } } : {}) },
      llm: { baseURL: server.baseURL, model: 'test-model', maxRetries: 0 },
      cache: { path: join(dir, 'cache.sqlite') },
    },
    env: {},
  });
  const ctx = createRunContext({ config, data });
  try {
    const summary = await runBatch({ pipeline: loadPipeline('revive', { sets: SMALL }), samples: loadSamples(data), ctx, outDir: out });
    expect(summary.failures).toEqual([]);
    const trace = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Trace);
    return { summary, trace, config };
  } finally {
    await closeRunContext(ctx);
  }
}

describeNeeds(missing)('a REVIVE reader trained from an exported run (tiny profile, CPU)', () => {
  it('export --regions → okvqa_py.train → reader import → revive: torch tokens equal, accuracy up', async () => {
    const t0 = Date.now();
    const dataPath = writeData();
    const before = await runRevive(dataPath, join(dir, 'run-untrained'));
    expect(before.summary.ok).toBe(100);
    for (const q of before.trace) expect(q.nodes.answer.notes.regions).toMatch(/^\d+ visual tokens$/);
    const tRun = Date.now();

    // export: the reader's token ids and the visual-token rows
    const tok = await loadExportTokenizer(before.config);
    let examples;
    try {
      examples = exportFid(join(dir, 'run-untrained'), { data: loadDataFile(dataPath), regions: true, tokenizer: { tokenizer: tok.tokenizer } }).examples;
    } finally {
      await tok.close();
    }
    expect(examples.map((e) => e.id)).toEqual(Array.from({ length: 100 }, (_, i) => String(1000 + i))); // data order: a deterministic export
    for (const e of examples) {
      expect(e.target).toBeUndefined();
      expect(e.regions!.length).toBeGreaterThan(0);
      for (const r of e.regions!) expect(r).toHaveLength(20); // tiny CLIP 16 + box 4 = the tiny reader's projection width
      expect(e.passage_ids!.length).toBe(e.ctxs.length);
    }
    const exportPath = join(dir, 'train.json');
    writeFileSync(exportPath, JSON.stringify(examples));

    // the tiny reader's weights as a torch checkpoint; untrained, torch's greedy tokens are the ONNX run's
    const start = join(dir, 'tiny-torch');
    const untrainedPreds = join(dir, 'untrained-preds.json');
    python([join(root, 'test', 'reader', 'tiny_reader_torch.py'), start, exportPath, untrainedPreds]);
    const up = JSON.parse(readFileSync(untrainedPreds, 'utf8')) as Record<string, { tokens: number[]; answer: string }>;
    for (const q of before.trace) {
      expect(up[q.questionId]!.tokens, q.questionId).toEqual(q.nodes.answer.notes.reader.tokens);
      expect(up[q.questionId]!.answer).toBe(q.prediction.answer);
    }

    // train (REVIVE mode is automatic: the export carries regions)
    const out = join(dir, 'trained');
    // through the CLI (`okvqa reader train` = python -m okvqa_py.train with the discovered interpreter)
    const trained = okvqa(
      [
        'reader', 'train', '--train-data', exportPath, '--eval-data', exportPath, '--model', start, '--out', out,
        '--lr', '3e-3', '--warmup-steps', '30', '--total-steps', '300', '--batch-size', '4', '--eval-freq', '150', '--dropout', '0',
        '--log-every', '100',
      ],
      { OKVQA_PYTHON: PYTHON, OMP_NUM_THREADS: '1' },
      300_000,
    );
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toContain(`reader train: `);
    const summary = JSON.parse(trained.stdout.trim().split('\n').pop()!);
    const log = readFileSync(join(out, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log[0]).toMatchObject({ start: true, regions: true, region_features: 20 });
    const losses = log.filter((r) => typeof r.loss === 'number').map((r) => r.loss as number);
    expect(losses).toHaveLength(300);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(losses.slice(0, 20));
    const last = mean(losses.slice(-20));
    expect(last).toBeLessThan(first / 2);
    expect(summary.best_step).toBeGreaterThan(0);
    const tTrain = Date.now();

    // import (okvqa reader import): the ONNX folder with onnx/visual_projection.onnx
    const best = join(out, 'best');
    const imported = join(dir, 'imported');
    const r = await importReader(best, { out: imported });
    expect(r.info.visual_projection).toBe(true);
    expect(existsSync(join(imported, 'onnx', 'visual_projection.onnx'))).toBe(true);
    const tImport = Date.now();

    // revive with the trained reader: the same greedy tokens as torch on every question, and a higher accuracy
    const after = await runRevive(dataPath, join(dir, 'run-trained'), imported);
    expect(after.summary.ok).toBe(100);
    const torchPreds = JSON.parse(readFileSync(join(best, 'eval-predictions.json'), 'utf8')) as Record<string, { tokens: number[]; answer: string }>;
    for (const q of after.trace) {
      expect(q.nodes.answer.notes.regions).toMatch(/^3 visual tokens$|^[12] visual tokens$/);
      expect(q.nodes.answer.notes.reader.tokens, q.questionId).toEqual(torchPreds[q.questionId]!.tokens);
      expect(q.prediction.answer).toBe(torchPreds[q.questionId]!.answer);
    }
    const overall = (m: unknown) => (m as { overall: number }).overall; // an OK-VQA score
    const accBefore = overall(before.summary.metrics);
    const accAfter = overall(after.summary.metrics);
    expect(accAfter).toBeGreaterThan(accBefore);
    expect(accAfter).toBeCloseTo(summary.best_eval_accuracy, 1); // the trainer's official metric = okvqa eval's
    console.log(JSON.stringify({
      accBefore, accAfter, trainerAccuracy: summary.best_eval_accuracy, lossFirst20: first, lossLast20: last,
      ms: { run: tRun - t0, train: tTrain - tRun, import: tImport - tTrain, rerun: Date.now() - tImport, total: Date.now() - t0 },
    }));
  }, 240_000);
});
