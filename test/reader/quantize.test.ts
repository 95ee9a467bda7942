// python/okvqa_py/quantize.py (dynamic int8 MatMul weights) and reader.fid loading the `q8` files it writes.
// The rewrite's numerics are checked against numpy computing the ONNX operators' definitions (DynamicQuantizeLinear,
// MatMulInteger) on its own; the quantized tiny reader is checked to load through `dtype: q8` and to stay close to fp32.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Passage, Sample } from '../../src/core/artifacts.js';
import { fidParams, readerFid } from '../../src/stages/reader/fid.js';
import { loadT5Reader, readerSource } from '../../src/reader/t5.js';
import { FID_KAT, fidGenerate } from '../../src/reader/fid.js';
import { PYTHON, pythonMissing } from '../helpers/python.js';
import { makeCtx, paths, tiny } from '../vision/helpers.js';
import { describeNeeds } from '../helpers/requires.js';

const missing = pythonMissing(['numpy', 'onnx']);
if (missing) console.warn(`quantize: skipped: ${missing}`);
const PYPATH = join(paths.root, 'python');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-quantize-'));
const reader = join(tmp, 't5');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function py(args: string[], input?: string) {
  return spawnSync(PYTHON, args, { encoding: 'utf8', input, env: { ...process.env, PYTHONPATH: PYPATH } });
}

// One MatMul [3, K] x W [K, N]: numpy computes what the ONNX specification says the quantized graph computes.
const MATMUL_REF = String.raw`
import sys, json, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
from okvqa_py.quantize import quantize_model
out = sys.argv[1]
rng = np.random.default_rng(5)
K, N = 24, 10
W = (rng.standard_normal((K, N)) * np.linspace(0.01, 2.0, N)).astype(np.float32)
A = rng.standard_normal((3, K)).astype(np.float32) * 3 + 0.5
g = helper.make_graph([helper.make_node("MatMul", ["a", "w"], ["y"])], "mm",
    [helper.make_tensor_value_info("a", TensorProto.FLOAT, [None, K])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, N])],
    [numpy_helper.from_array(W, "w")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]); m.ir_version = 8
onnx.save(m, out + "/mm.onnx")
n = quantize_model(out + "/mm.onnx", out + "/mm_quantized.onnx")
# the specification, by hand: DynamicQuantizeLinear (uint8, asymmetric, range widened to include 0, round half to even)
lo, hi = min(0.0, float(A.min())), max(0.0, float(A.max()))
sa = np.float32((hi - lo) / 255.0)
za = np.clip(np.rint(0 - lo / sa), 0, 255)
aq = np.clip(np.rint(A / sa) + za, 0, 255).astype(np.int64)
# symmetric int8 weights, one scale per output column
sw = (np.abs(W).max(axis=0) / 127.0).astype(np.float32)
wq = np.clip(np.rint(W / sw), -127, 127).astype(np.int64)
# MatMulInteger, then the two scales
y = ((aq - za) @ wq).astype(np.float32) * (sa * sw)
q = onnx.load(out + "/mm_quantized.onnx")
print(json.dumps({"rewritten": n, "ops": [x.op_type for x in q.graph.node], "inits": [i.name for i in q.graph.initializer],
                  "a": A.ravel().tolist(), "y": y.ravel().tolist(), "fp32": (A @ W).ravel().tolist()}))
`;

describeNeeds(missing)('okvqa_py.quantize', () => {
  beforeAll(() => {
    cpSync(join(paths.root, 'assets', 'models', 'okvqa-tiny', 't5'), reader, { recursive: true });
    const r = py(['-m', 'okvqa_py.quantize', join(reader, 'onnx')]);
    if (r.status !== 0) throw new Error(`quantize failed: ${r.stderr}`);
  }, 60_000);

  it('rewrites a MatMul into DynamicQuantizeLinear + MatMulInteger + scales, computing what the ONNX spec says', async () => {
    const r = py(['-c', MATMUL_REF, tmp]);
    expect(r.status, r.stderr).toBe(0);
    const ref = JSON.parse(r.stdout) as { rewritten: number; ops: string[]; inits: string[]; a: number[]; y: number[]; fp32: number[] };
    expect(ref.rewritten).toBe(1);
    expect(ref.ops).toEqual(['DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Mul', 'Mul']);
    expect(ref.inits).not.toContain('w'); // the fp32 weight is gone
    const s = await ort.InferenceSession.create(join(tmp, 'mm_quantized.onnx'));
    const y = (await s.run({ a: new ort.Tensor('float32', Float32Array.from(ref.a), [3, 24]) })).y!.data as Float32Array;
    ref.y.forEach((v, i) => expect(y[i]).toBeCloseTo(v, 4));
    // and the int8 result is an approximation of the fp32 product (a few percent on these magnitudes)
    const err = Math.hypot(...ref.fp32.map((v, i) => v - y[i]!)) / Math.hypot(...ref.fp32);
    expect(err).toBeLessThan(0.05);
    expect(err).toBeGreaterThan(0); // it really is quantized
    await s.release();
  });

  it('writes the q8 files transformers.js reads beside the fp32 ones, and leaves the rest alone', () => {
    const files = readdirSync(join(reader, 'onnx')).sort();
    expect(files).toEqual([
      'decoder_model_merged.onnx',
      'decoder_model_merged_quantized.onnx',
      'encoder_model.onnx',
      'encoder_model_quantized.onnx',
      'visual_projection.onnx',
    ]);
    const bad = py(['-m', 'okvqa_py.quantize', tmp]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/holds none of encoder_model\.onnx/);
  });

  it('reader.fid with dtype q8 loads the quantized files; its answers stay close to fp32', async () => {
    const { ctx } = makeCtx(tiny);
    try {
      const fp32 = await loadT5Reader(ctx, readerSource(ctx, reader));
      const q8 = await loadT5Reader(ctx, readerSource(ctx, reader, 'q8'));
      expect(q8.source.dtype).toBe('q8');
      expect(q8.encoder).not.toBe(fp32.encoder);
      const qs = ['what sport is this?', 'what color is the cup?', 'what is on the table?', 'who made this?'].map((question, i) => ({
        question,
        passages: [`title: cup context: cup number ${i} is white`, 'title: tennis context: tennis is a sport', `candidate: red evidence: item ${i}`],
      }));
      const a = await fidGenerate(fp32, qs, FID_KAT);
      const b = await fidGenerate(q8, qs, FID_KAT);
      // different files really ran: the log-probabilities differ, but only by int8's rounding
      expect(a.map((x) => x.logprob)).not.toEqual(b.map((x) => x.logprob));
      a.forEach((x, i) => expect(Math.abs(x.tokenLogprobs[0]! - b[i]!.tokenLogprobs[0]!)).toBeLessThan(0.5));
    } finally {
      await ctx.resources.disposeAll();
    }
  });

  it('the stage param dtype: q8 is part of the fingerprint, and a folder without q8 files fails naming them', async () => {
    const { ctx } = makeCtx(tiny);
    try {
      const p32 = fidParams.parse({ model: reader });
      const p8 = fidParams.parse({ model: reader, dtype: 'q8' });
      expect(readerFid.fingerprint!(p32, ctx)).not.toBe(readerFid.fingerprint!(p8, ctx));
      const sample: Sample = { dataset: 'okvqa', questionId: 'q1', imageId: 1, question: 'what sport is this?' };
      const passages: Passage[] = [{ text: 'title: tennis context: tennis is a sport', score: 1, source: 't' }];
      // fp32 and q8 in one run each get their own reader (and micro-batcher)
      const a = await readerFid.run({ sample, passages, regions: undefined, tags: undefined }, p32, { ...ctx, note: () => {} });
      const b = await readerFid.run({ sample, passages, regions: undefined, tags: undefined }, p8, { ...ctx, note: () => {} });
      expect(typeof b.answer).toBe('string');
      expect(b.logprob).not.toBe(a.logprob);
      const plain = join(paths.root, 'assets', 'models', 'okvqa-tiny', 't5');
      expect(existsSync(join(plain, 'onnx', 'encoder_model_quantized.onnx'))).toBe(false);
      await expect(
        readerFid.run({ sample, passages, regions: undefined, tags: undefined }, fidParams.parse({ model: plain, dtype: 'q8' }), { ...ctx, note: () => {} }),
      ).rejects.toThrow(/encoder_model_quantized\.onnx/);
    } finally {
      await ctx.resources.disposeAll();
    }
  });
});
