/**
 * `okvqa reader import` end to end on tiny random checkpoints made here with torch: T5 v1.0 in KAT's FiDT5 layout
 * (transformers 3.0.2 config, cross-attention position bias, optimizer.pth.tar beside), the same weights as a bare plain
 * state dict + --config, and T5 v1.1 (gated-GELU, untied head, visual projection) as a save_pretrained folder. The
 * imported graphs run through reader.fid and are checked against the independent numpy FiD (test/reader/fid_reference.py)
 * and against the torch model they came from (python/okvqa_py/model.py).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resources } from '../../src/core/resources.js';
import { FID_KAT, fidGenerate, tokenizePassages, type FidAnswer, type FidOptions, type FidQuestion } from '../../src/reader/fid.js';
import { loadT5Reader, readerSource, type T5Reader } from '../../src/reader/t5.js';
import { okvqa, repoRoot } from '../helpers/cli.js';
import { PYTHON, pythonMissing, runPython } from '../helpers/python.js';
import { makeCtx, tiny } from '../vision/helpers.js';
import { describeNeeds } from '../helpers/requires.js';

const missing = pythonMissing(['torch', 'onnx', 'numpy']);
if (missing) console.warn(`reader-import: skipped: ${missing} (Debian python3-torch python3-onnx python3-numpy)`);

const TOKENIZER = join(repoRoot, 'assets', 'models', 'okvqa-tiny', 't5', 'tokenizer.json');
const PYDIR = join(repoRoot, 'python');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-reader-import-'));
const resources = new Resources();
const { ctx } = makeCtx(tiny);
afterAll(async () => {
  await resources.disposeAll();
  await ctx.resources.disposeAll();
  rmSync(tmp, { recursive: true, force: true });
});

// Random tiny checkpoints (vocabulary of the tiny tokenizer: 326 ids). v1.0 as KAT saved it; v1.1 as save_pretrained.
const MAKE = `
import json, os, sys, numpy as np, torch
sys.path.insert(0, sys.argv[1])
from okvqa_py.model import FiDT5, T5Config, save_reader
tmp = sys.argv[2]
def make(seed, **kw):
    torch.manual_seed(seed)
    cfg = T5Config.from_dict(dict(vocab_size=326, d_model=32, d_kv=8, d_ff=64, num_heads=4, num_layers=2, num_decoder_layers=3, **kw))
    m = FiDT5(cfg)
    with torch.no_grad():
        for n, p in m.named_parameters():
            if p.dim() == 1 and 'layer_norm' in n: p.normal_(1.0, 0.1)
            elif 'relative_attention_bias' in n: p.normal_(0.0, 1.5)
            elif n == 'shared.weight': p.normal_(0.0, 1.0)
            else: p.normal_(0.0, 1.5 * p.shape[-1] ** -0.5)
    return m.eval()
def npz(m, path):
    np.savez(path, **{k: v.numpy() for k, v in m.state_dict().items() if not k.endswith('embed_tokens.weight')})
# v1.0 (KAT): wrapped encoder keys, 3.0.2's config.json (no feed_forward_proj, tie_word_embeddings, num_decoder_layers,
# relative_attention_max_distance), the cross-attention bias weight, an optimizer state beside
v10 = make(1, feed_forward_proj='relu', tie_word_embeddings=True, okvqa_cross_attention_bias=True, relative_attention_num_buckets=8)
state = v10.state_dict()
def wrap(k):
    if not k.startswith('encoder.'): return k
    parts = ('encoder.encoder.' + k[len('encoder.'):]).split('.')
    if parts[2] == 'block': parts.insert(4, 'module')
    return '.'.join(parts)
kat = os.path.join(tmp, 'kat')
os.makedirs(kat)
torch.save({wrap(k): v for k, v in state.items()}, os.path.join(kat, 'pytorch_model.bin'))
torch.save({'step': 1}, os.path.join(kat, 'optimizer.pth.tar'))
# the same, saved from a DataParallel wrapper inside a training checkpoint: {'model': {'module.encoder.encoder…': …}}
torch.save({'model': {'module.' + wrap(k): v for k, v in state.items()}, 'opt': {}}, os.path.join(tmp, 'dp.pth'))
cfg302 = {'architectures': ['FiDT5'], 'model_type': 't5', 'vocab_size': 326, 'd_model': 32, 'd_kv': 8, 'd_ff': 64,
          'num_heads': 4, 'num_layers': 2, 'relative_attention_num_buckets': 8, 'dropout_rate': 0.1, 'layer_norm_epsilon': 1e-6,
          'initializer_factor': 1.0, 'is_encoder_decoder': True, 'pad_token_id': 0, 'eos_token_id': 1,
          'decoder_start_token_id': 0, 'n_positions': 512, 'output_past': True}
json.dump(cfg302, open(os.path.join(kat, 'config.json'), 'w'))
torch.save({k: v for k, v in state.items()}, os.path.join(tmp, 'plain.bin'))
json.dump(cfg302, open(os.path.join(tmp, 'plain-config.json'), 'w'))
npz(v10, os.path.join(tmp, 'v10.npz'))
# v1.1 / flan: gated-GELU, untied head, a visual projection (REVIVE), a plain save_pretrained folder
# t5-base / flan-t5's bucketing (32 buckets, max distance 128): passages of 128 tokens reach most buckets
v11 = make(2, feed_forward_proj='gated-gelu', tie_word_embeddings=False, okvqa_visual_features=6,
           relative_attention_num_buckets=32, relative_attention_max_distance=128)
save_reader(v11, os.path.join(tmp, 'v11'))
npz(v11, os.path.join(tmp, 'v11.npz'))
print(json.dumps({'ok': True}))
`;

// The torch model on the same token ids, batched in reader.fid's layout [B, N_max, L] (masked padding).
const TORCH = `
import json, sys, torch
sys.path.insert(0, sys.argv[1])
from okvqa_py.model import load_reader
req = json.load(sys.stdin)
out = {}
# KAT's layout and a DataParallel-prefixed training checkpoint load to the same weights
a, ia = load_reader(req['v10']['checkpoint'])
b, ib = load_reader(req['dp']['checkpoint'], req['dp']['config'])
sa, sb = a.state_dict(), b.state_dict()
out['dp'] = {'same': sorted(sa) == sorted(sb) and all(torch.equal(sa[k], sb[k]) for k in sa), 'layout': ib['layout']}
del req['dp']
for name, job in req.items():
    m, info = load_reader(job['checkpoint'], job.get('config'))
    qs = job['questions']
    B, N = len(qs), max(len(q['passages']) for q in qs)
    L = max(len(p) for q in qs for p in q['passages'])
    ids = torch.zeros(B, N, L, dtype=torch.long); mask = torch.zeros(B, N, L, dtype=torch.long)
    for b, q in enumerate(qs):
        for n, p in enumerate(q['passages']):
            ids[b, n, :len(p)] = torch.tensor(p); mask[b, n, :len(p)] = 1
    R = max(len(q.get('visual', [])) for q in qs)
    rf = rm = None
    if R:
        F = len(next(v for q in qs for v in q.get('visual', []))); rf = torch.zeros(B, R, F); rm = torch.zeros(B, R)
        for b, q in enumerate(qs):
            for r, v in enumerate(q.get('visual', [])):
                rf[b, r] = torch.tensor(v); rm[b, r] = 1
    tokens, lps, _ = m.generate(ids, mask, rf, rm, max_length=job['maxLength'], return_scores=True)
    res = []
    for b in range(B):
        t, l = tokens[b].tolist(), lps[b].tolist()
        if 1 in t: t, l = t[:t.index(1) + 1], l[:t.index(1) + 1]
        res.append({'tokens': t, 'tokenLogprobs': l})
    out[name] = {'answers': res, 'info': info}
print(json.dumps(out))
`;

interface Ref {
  tokens: number[];
  tokenLogprobs: number[];
  attribution: number[];
  visualAttribution: number[];
}

function numpyReference(npz: string, config: string, reader: T5Reader, qs: FidQuestion[], o: FidOptions, layout?: { L: number; N: number }): Ref[] {
  const passages = qs.map((q) => tokenizePassages(reader, q, o));
  const request = {
    npz,
    config,
    format: 'hf',
    maxLength: o.maxLength,
    numBeams: 1,
    fusedStride: layout?.L ?? Math.max(...passages.flat().map((p) => p.length)),
    fusedPassages: layout?.N ?? Math.max(...passages.map((p) => p.length)),
    questions: qs.map((q, i) => ({ passages: passages[i], visual: q.visual ?? [] })),
  };
  const r = spawnSync(PYTHON, [join(repoRoot, 'test', 'reader', 'fid_reference.py')], { input: JSON.stringify(request), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fid_reference.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Ref[];
}

function expectClose(ours: Pick<FidAnswer, 'tokens' | 'tokenLogprobs'>[], ref: Pick<Ref, 'tokens' | 'tokenLogprobs'>[], what: string) {
  expect(ours).toHaveLength(ref.length);
  ours.forEach((a, i) => {
    expect(a.tokens, `${what}: question ${i}`).toEqual(ref[i]!.tokens);
    a.tokenLogprobs.forEach((lp, t) => expect(Math.abs(lp - ref[i]!.tokenLogprobs[t]!), `${what}: question ${i} token ${t}`).toBeLessThan(1e-4));
  });
}

// A long passage (> 64 tokens with the tiny tokenizer: one piece per word)
const LONG = Array.from({ length: 90 }, (_, i) => ['the', 'cup', 'is', 'a', 'white', 'coffee', 'mug', 'on', 'table', 'in', 'kitchen'][i % 11]).join(' ');
const QUESTIONS: FidQuestion[] = [
  {
    question: 'what color is the cup?',
    passages: ['title: cup context: cup is a drinking vessel', `candidate: white evidence: ${LONG}`, 'title: table context: table is a piece of furniture'],
  },
  { question: 'what sport is this?', passages: ['title: tennis context: tennis is a sport'] },
  { question: 'who made this?', passages: [] },
  { question: 'how many people are in the picture?', passages: ['candidate: two evidence: there are two people on the beach', 'title: beach context: beach is a landform'] },
];
// passages up to 128 tokens, more than 32 decoding positions
const OPTS: FidOptions = { ...FID_KAT, textMaxLength: 128, maxLength: 40 };

const out = { kat: join(tmp, 'out-kat'), plain: join(tmp, 'out-plain'), v11: join(tmp, 'out-v11') };
const imports: Record<string, { code: number | null; stdout: string; stderr: string }> = {};

describeNeeds(missing)('okvqa reader import', () => {
  beforeAll(() => {
    expect(JSON.parse(runPython(MAKE, [PYDIR, tmp])).ok).toBe(true);
    copyFileSync(TOKENIZER, join(tmp, 'v11', 'tokenizer.json')); // v1.1: the tokenizer travels in the checkpoint folder
    imports.kat = okvqa(['reader', 'import', join(tmp, 'kat'), '--out', out.kat, '--tokenizer', TOKENIZER, '--json']);
    // a hub id, offline, from the model cache (as after a first online run)
    const cached = join(tmp, 'model-cache', 'Xenova', 't5-base');
    mkdirSync(cached, { recursive: true });
    copyFileSync(TOKENIZER, join(cached, 'tokenizer.json'));
    imports.plain = okvqa(
      ['reader', 'import', join(tmp, 'plain.bin'), '--config', join(tmp, 'plain-config.json'), '--out', out.plain, '--tokenizer', 'Xenova/t5-base', '--offline', '--python', PYTHON, '--json'],
      { OKVQA_MODEL_CACHE: join(tmp, 'model-cache') },
    );
    imports.v11 = okvqa(['reader', 'import', join(tmp, 'v11'), '--out', out.v11, '--quantize', 'int8', '--json'], { OKVQA_PYTHON: PYTHON });
  }, 600_000);

  it("recognises KAT's FiDT5 layout and 3.0.2 config, names the interpreter, writes the hub layout", () => {
    for (const [name, r] of Object.entries(imports)) expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    const kat = JSON.parse(imports.kat!.stdout);
    expect(kat.info).toMatchObject({ layout: 'kat-fid', variant: 'v1.0', cross_attention_bias: true, visual_projection: false, ignored_files: ['optimizer.pth.tar'] });
    expect(kat.info.config_defaults).toEqual(expect.arrayContaining(['feed_forward_proj', 'tie_word_embeddings', 'num_decoder_layers', 'relative_attention_max_distance']));
    expect(kat.python.from).toBe('candidates');
    // a tokenizer.json named alone is taken alone (the files beside it may be another tokenizer's); T5's config is written
    expect(kat.tokenizer.files).toEqual(['tokenizer.json', 'tokenizer_config.json']);
    expect(JSON.parse(readFileSync(join(out.kat, 'tokenizer_config.json'), 'utf8'))).toMatchObject({ tokenizer_class: 'T5Tokenizer' });
    expect(imports.kat!.stderr).toMatch(/KAT's FiDT5 layout, T5 v1\.0, cross-attention position bias .* \(python: \S+ 3\./);
    const plain = JSON.parse(imports.plain!.stdout);
    expect(plain.python.from).toBe('flag');
    expect(plain.tokenizer.from).toBe('Xenova/t5-base');
    const v11 = JSON.parse(imports.v11!.stdout);
    expect(v11.python.from).toBe('OKVQA_PYTHON');
    // --quantize int8 writes the hub's quantized file names beside the fp32 graphs (reader.fid's `dtype: q8`)
    expect(v11.quantized).toEqual(['encoder_model_quantized.onnx', 'decoder_model_merged_quantized.onnx']);
    for (const f of v11.quantized as string[]) expect(existsSync(join(out.v11, 'onnx', f))).toBe(true);
    expect(v11.info).toMatchObject({ layout: 'plain', variant: 'v1.1', cross_attention_bias: false, visual_projection: true });
    expect(readdirSync(join(out.v11, 'onnx')).sort()).toEqual(['decoder_model_merged.onnx', 'decoder_model_merged_quantized.onnx', 'encoder_model.onnx', 'encoder_model_quantized.onnx', 'visual_projection.onnx']);
    for (const d of Object.values(out)) {
      for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']) expect(existsSync(join(d, f)), `${d}/${f}`).toBe(true);
    }
    // 3.0.2's defaults made explicit for the next reader of the folder
    expect(JSON.parse(readFileSync(join(out.kat, 'config.json'), 'utf8'))).toMatchObject({
      feed_forward_proj: 'relu', tie_word_embeddings: true, num_decoder_layers: 3, relative_attention_max_distance: 128, okvqa_cross_attention_bias: true,
    });
  });

  it('a KAT-wrapped checkpoint and the plain state dict of the same weights give byte-identical initialisers', () => {
    const files = ['encoder_model.onnx', 'decoder_model_merged.onnx'];
    // initialiser name -> sha256 of the serialised tensor, per graph (one Python call for all four graphs)
    const hashes = JSON.parse(
      runPython(
        `import onnx, sys, json, hashlib\nprint(json.dumps([{t.name: hashlib.sha256(t.SerializeToString()).hexdigest() for t in onnx.load(f).graph.initializer} for f in sys.argv[1:]]))`,
        files.flatMap((f) => [join(out.kat, 'onnx', f), join(out.plain, 'onnx', f)]),
      ),
    ) as Record<string, string>[];
    files.forEach((f, i) => {
      const [a, b] = [hashes[2 * i]!, hashes[2 * i + 1]!];
      expect(Object.keys(a).filter((k) => k.endsWith('.weight') || k.endsWith('.weight.T')).length).toBeGreaterThan(10);
      expect(b, f).toEqual(a);
      expect(readFileSync(join(out.plain, 'onnx', f)).equals(readFileSync(join(out.kat, 'onnx', f))), f).toBe(true);
    });
  });

  it('v1.0 (KAT) and v1.1: reader.fid on the imported graphs = the numpy FiD = the torch model (batched, passages > 64 tokens, maxLength 40)', async () => {
    const results: Record<string, FidAnswer[]> = {};
    const jobs: Record<string, unknown> = {};
    const visual = (k: number) => Array.from({ length: 6 }, (_, j) => Math.sin(k * 3 + j));
    const cases = [
      { name: 'v10', dir: out.kat, checkpoint: join(tmp, 'kat'), qs: QUESTIONS },
      { name: 'v11', dir: out.v11, checkpoint: join(tmp, 'v11'), qs: [{ ...QUESTIONS[0]!, visual: [visual(1), visual(2)] }, ...QUESTIONS.slice(1, 3), { ...QUESTIONS[3]!, visual: [visual(3)] }] },
    ];
    for (const c of cases) {
      const reader = await loadT5Reader({ resources }, readerSource(ctx, c.dir));
      expect(reader.crossAttention?.kind).toBe('pre-softmax');
      const ours = await fidGenerate(reader, c.qs, OPTS);
      results[c.name] = ours;
      expect(ours.map((a) => a.passagesRead)).toEqual([3, 1, 1, 2]);
      expect(Math.max(...ours.map((a) => a.fusedLength))).toBeGreaterThan(3 * 64);
      // attribution with imported weights, FiD's pre-softmax scores, equal to the reference's
      const ref = numpyReference(join(tmp, `${c.name}.npz`), join(c.dir, 'config.json'), reader, c.qs, OPTS);
      expectClose(ours, ref, `${c.name} vs numpy`);
      ours.forEach((a, i) => {
        expect(a.attribution).toHaveLength(ref[i]!.attribution.length);
        a.attribution!.forEach((s, p) => expect(Math.abs(s - ref[i]!.attribution[p]!)).toBeLessThan(1e-4));
        expect(a.visualTokens).toBe(c.qs[i]!.visual?.length ?? 0);
      });
      jobs[c.name] = {
        checkpoint: c.checkpoint,
        maxLength: OPTS.maxLength,
        questions: c.qs.map((q) => ({ passages: tokenizePassages(reader, q, OPTS), visual: q.visual ?? [] })),
      };
    }
    // a model that only repeats one token would make the comparison weak
    expect(new Set(results.v10!.flatMap((a) => a.tokens)).size).toBeGreaterThan(3);
    expect(new Set(results.v11!.flatMap((a) => a.tokens)).size).toBeGreaterThan(3);
    expect(Math.max(...results.v10!.map((a) => a.tokens.length))).toBeGreaterThan(32);
    jobs.dp = { checkpoint: join(tmp, 'dp.pth'), config: join(tmp, 'kat', 'config.json') };
    const torch = JSON.parse(runPython(TORCH, [PYDIR], JSON.stringify(jobs)));
    expect(torch.dp).toEqual({ same: true, layout: 'kat-fid' });
    expectClose(results.v10!, torch.v10.answers, 'v10 vs torch');
    expectClose(results.v11!, torch.v11.answers, 'v11 vs torch');
  }, 120_000);

  it('an interpreter without the modules is one clear error (exit 2)', () => {
    const r = okvqa(['reader', 'import', join(tmp, 'kat'), '--out', join(tmp, 'nope'), '--tokenizer', TOKENIZER, '--python', join(tmp, 'no-such-python')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs Python 3 with torch, onnx, numpy: .*no-such-python \(from --python\) cannot: not found\. Install them/);
  });
});

describeNeeds(missing)("kat-released with a KAT-layout checkpoint imported by okvqa reader import", () => {
  it('greedy tokens equal the numpy FiD over T5 v1.0 on every question', async () => {
    const r = imports.kat;
    expect(r?.code, r?.stderr).toBe(0);
    const run = join(tmp, 'run-kat-released');
    const data = join(repoRoot, 'test', 'fixtures', 'kat', 'data.json');
    const res = okvqa(['run', 'kat-released', '--data', data, '--out', run, '--profile', 'tiny', '--no-progress', '--set', `models.ids.reader=${out.kat}`], {
      OKVQA_CACHE_PATH: join(tmp, 'cache.sqlite'),
    });
    expect(res.stderr).toContain('kat-released: 3 answered, 0 failed');
    const questions = new Map(
      (JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'kat', 'val_questions.json'), 'utf8')).questions as { question_id: number; question: string }[]).map(
        (q) => [String(q.question_id), q.question],
      ),
    );
    const reader = await loadT5Reader({ resources }, readerSource(ctx, out.kat));
    const trace = readFileSync(join(run, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(trace).toHaveLength(3);
    for (const t of trace) {
      const q: FidQuestion = { question: questions.get(t.questionId)!, passages: t.nodes.passages.output.map((p: { text: string }) => p.text) };
      const notes = t.nodes.answer.notes.reader;
      expect(notes.model).toBe(out.kat);
      const [ref] = numpyReference(join(tmp, 'v10.npz'), join(out.kat, 'config.json'), reader, [q], FID_KAT);
      expect(notes.tokens, `question ${t.questionId}`).toEqual(ref!.tokens);
      notes.tokenLogprobs.forEach((lp: number, i: number) => expect(Math.abs(lp - ref!.tokenLogprobs[i]!)).toBeLessThan(1e-4));
      expect(t.prediction.attribution).toHaveLength(41);
    }
  }, 180_000);
});
