/**
 * Fusion-in-Decoder generation (Izacard & Grave 2021; facebookresearch/FiD, guilk/KAT) on ONNX Runtime sessions.
 *
 *   const reader = await loadT5Reader(ctx, readerSource(ctx));
 *   const [a, b] = await fidGenerate(reader, [{ question, passages }, { question: q2, passages: p2 }], FID_KAT);
 *
 * For every question, each passage is read as the text `question: {q} {passage}` (KAT src/data.py: `question_prefix +
 * " " + question`, then `question + " " + passage`), tokenised on its own (no EOS unless `appendEos`: KAT ran
 * transformers 3.0.2, whose T5 tokenizer appended none), truncated to `textMaxLength`. A question without passages is
 * read as `question: {q}` alone (KAT's `append_question`). All passages of all questions of a batch are encoded in one
 * call as (ΣN, L); the encodings are laid out as (B, N_max·L, d) with the attention mask (a question with fewer passages
 * gets masked, zero rows) — FiD's `EncoderWrapper` view — optionally followed by R visual tokens (REVIVE), and the decoder
 * runs greedily with its KV cache (or with beam search) up to `maxLength` positions counting the start token, as
 * transformers' `generate(max_length)` (KAT: 10, so at most 9 new tokens).
 *
 * Passage attribution is FiD's `get_crossattention_scores`: the cross-attention of the first decoded token, summed over
 * heads, layers and the passage's unmasked tokens, divided by tokens × layers × heads. FiD stores the scores before the
 * softmax (`score_storage = scores` after adding the mask); the decoder graph gives them as `cross_attention_scores.{i}`,
 * or only the softmax weights as `cross_attentions.{i}` (what `output_attentions` exports carry); without either,
 * there is no attribution.
 */
import type * as OrtTypes from 'onnxruntime-node';
import { ort as loadOrt } from '../runtime/lazy.js';
import type { EncoderStateCache } from './encoder-cache.js';
import type { T5Reader } from './t5.js';

export interface FidQuestion {
  question: string;
  /** Passage texts, read each as `question: {question} {passage}`. */
  passages: readonly string[];
  /** Region feature rows (CLIP embedding ‖ normalised box) projected into visual tokens; needs `reader.visual`. */
  visual?: readonly (readonly number[])[];
}

export interface FidOptions {
  /** Tokens per passage after truncation (KAT `text_maxlength` 64). */
  textMaxLength: number;
  /** Decoder length limit counting the start token, as transformers' `max_length` (KAT 10 → at most 9 new tokens). */
  maxLength: number;
  /** Append the EOS token to each passage (modern tokenizers do; KAT's transformers 3.0.2 did not). */
  appendEos: boolean;
  /** 1 = greedy; more = beam search as transformers 3.0.2 (length penalty 1, no early stopping). */
  numBeams: number;
  /** Compute FiD's passage attribution when the decoder exposes cross-attention. */
  attribution: boolean;
  /** How a passage is read; `{question}` and `{passage}` are replaced. */
  template: string;
}

/** KAT's settings (evaluate_KAT.py, src/data.py). */
export const FID_KAT: FidOptions = {
  textMaxLength: 64,
  maxLength: 10,
  appendEos: false,
  numBeams: 1,
  attribution: true,
  template: 'question: {question} {passage}',
};

export interface FidAnswer {
  /** Decoded answer (special tokens skipped, trimmed). */
  text: string;
  /** Generated token ids (the EOS included when it was generated; no start token, no padding). */
  tokens: number[];
  tokenLogprobs: number[];
  /** Sum of the generated tokens' log-probabilities (EOS included). */
  logprob: number;
  /** FiD score per passage (same order as the input passages; one entry for the question alone when none were given). */
  attribution?: number[];
  /** Mean first-token cross-attention of each visual token (over heads and layers). */
  visualAttribution?: number[];
  /** What the attribution averages ('pre-softmax' = FiD's score_storage; 'softmax' = attention weights). */
  attributionKind?: 'pre-softmax' | 'softmax';
  /** Why there is no attribution, when there is none. */
  attributionMissing?: string;
  /** Unmasked cross-attention length of this question: its passages' tokens plus its visual tokens. */
  crossLength: number;
  /** Length of the fused encoder sequence of the batch (N_max · L + R_max). */
  fusedLength: number;
  visualTokens: number;
  /** Passages actually read (the question alone counts as one). */
  passagesRead: number;
  /** Questions decoded together in this call. */
  batchQuestions: number;
  /** Distinct passages the encoder ran on for the whole batch (identical passages are encoded once). */
  batchEncodedPassages: number;
  /** Distinct passages of the batch whose encoder states came from the run's encoder cache. */
  batchCachedPassages: number;
}

/**
 * The text of one passage as the reader sees it: `{question}` and `{passage}` filled in one pass, with a replacer
 * function, so `$&`, `$1`, `$$` in the texts stay literal and a question containing `{passage}` is not filled twice
 * (as Python's `str.format` and f-strings in KAT's code behave).
 */
export function passageText(template: string, question: string, passage: string): string {
  return template.replace(/\{question\}|\{passage\}/g, (m) => (m === '{question}' ? question : passage));
}

/** What passage tokenisation needs of a reader (the tokenizer and the EOS id); `okvqa export fid --tokenizer` passes one. */
export type PassageTokenizer = Pick<T5Reader, 'tokenizer'> & { geometry: Pick<T5Reader['geometry'], 'eosTokenId'> };

/** Token ids of every passage of a question, truncated (and EOS-terminated with `appendEos`) as transformers does. */
export function tokenizePassages(reader: PassageTokenizer, q: FidQuestion, o: Pick<FidOptions, 'textMaxLength' | 'appendEos' | 'template'>): number[][] {
  const texts = q.passages.length
    ? q.passages.map((p) => passageText(o.template, q.question, p))
    : [passageText(o.template.replace(/\s*\{passage\}\s*$/, ''), q.question, '')];
  const eos = reader.geometry.eosTokenId;
  const room = o.textMaxLength - (o.appendEos ? 1 : 0);
  if (room < 1) throw new Error(`textMaxLength ${o.textMaxLength} leaves no room for text`);
  const seen = new Map<string, number[]>(); // KAT repeats passages (a short entity list cycled to 40): tokenise each once
  return texts.map((t) => {
    let ids = seen.get(t);
    if (!ids) {
      ids = reader.tokenizer.encode(t, { add_special_tokens: false }).slice(0, room);
      if (o.appendEos) ids.push(eos);
      seen.set(t, ids);
    }
    return ids;
  });
}

interface Layout {
  /** Token ids per question per passage. */
  ids: number[][][];
  /** Passage length of the batch (longest tokenised passage). */
  L: number;
  nMax: number;
  rMax: number;
  fusedLength: number;
}

function layout(reader: T5Reader, qs: readonly FidQuestion[], o: FidOptions): Layout {
  const ids = qs.map((q) => tokenizePassages(reader, q, o));
  const L = Math.max(1, ...ids.flat().map((p) => p.length));
  const nMax = Math.max(...ids.map((p) => p.length));
  const rMax = Math.max(0, ...qs.map((q) => q.visual?.length ?? 0));
  return { ids, L, nMax, rMax, fusedLength: nMax * L + rMax };
}

function int64(values: ArrayLike<number>, dims: number[]): OrtTypes.Tensor {
  return new (loadOrt().Tensor)('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
}

/** Encode every passage once, fuse per question (+ visual tokens): hidden states [B, F, d] and mask [B, F]. */
async function encodeFused(
  reader: T5Reader,
  qs: readonly FidQuestion[],
  lay: Layout,
  cache?: EncoderStateCache,
): Promise<{ states: Float32Array; mask: Int32Array; encodedRows: number; cachedRows: number }> {
  const d = reader.geometry.dModel;
  const { L, nMax, rMax, fusedLength: F } = lay;
  // Identical passages (KAT cycles a short entity list to 40) are encoded once: a passage's encoding depends only on its tokens.
  const uniqueOf = new Map<string, number>();
  const rows: number[][] = [];
  const keys: string[] = [];
  const rowOf = lay.ids.map((ps) =>
    ps.map((p) => {
      const key = p.join(',');
      let i = uniqueOf.get(key);
      if (i === undefined) {
        i = rows.length;
        uniqueOf.set(key, i);
        rows.push(p);
        keys.push(key);
      }
      return i;
    }),
  );
  // Passages encoded earlier in the run (same reader) come from the cache; the rest go to the encoder in one call.
  const cached = keys.map((k) => cache?.get(k));
  const todo = rows.flatMap((_, i) => (cached[i] ? [] : [i]));
  let enc: Float32Array = new Float32Array(0);
  const slot = new Map<number, number>(); // row -> its row in `enc`
  if (todo.length) {
    const inputIds = new BigInt64Array(todo.length * L);
    const attn = new BigInt64Array(todo.length * L);
    todo.forEach((row, i) => {
      const r = rows[row]!;
      slot.set(row, i);
      for (let t = 0; t < r.length; t++) {
        inputIds[i * L + t] = BigInt(r[t]!);
        attn[i * L + t] = 1n;
      }
      // padding: id = pad token (0 in T5), mask 0
      if (reader.geometry.padTokenId !== 0) for (let t = r.length; t < L; t++) inputIds[i * L + t] = BigInt(reader.geometry.padTokenId);
    });
    const out = await reader.encoder.run({
      input_ids: new (loadOrt().Tensor)('int64', inputIds, [todo.length, L]),
      attention_mask: new (loadOrt().Tensor)('int64', attn, [todo.length, L]),
    });
    const e = out.last_hidden_state?.data as Float32Array | undefined;
    if (!e) throw new Error('encoder returned no last_hidden_state');
    enc = e;
    if (cache) for (const [row, i] of slot) cache.set(keys[row]!, enc.slice(i * L * d, (i * L + rows[row]!.length) * d));
  }
  const B = qs.length;
  const mask = new Int32Array(B * F);
  let states: Float32Array;
  const inOrder = todo.length === rows.length && rows.length === B * nMax && rMax === 0 && lay.ids.every((p) => p.length === nMax);
  if (inOrder) {
    states = enc; // every passage distinct, encoded now, none missing: (B·N, L, d) is already (B, N·L, d)
  } else {
    states = new Float32Array(B * F * d);
    rowOf.forEach((ps, b) =>
      ps.forEach((row, j) => {
        const c = cached[row];
        const i = slot.get(row);
        // padded positions stay zero: the mask hides them from cross-attention
        states.set(c ?? enc.subarray(i! * L * d, (i! * L + rows[row]!.length) * d), (b * F + j * L) * d);
      }),
    );
  }
  lay.ids.forEach((ps, b) => ps.forEach((p, j) => mask.fill(1, b * F + j * L, b * F + j * L + p.length)));
  if (rMax > 0) {
    if (!reader.visual || reader.visualFeatures === undefined) throw new Error('visual tokens given but the reader has no visual projection');
    const width = reader.visualFeatures;
    const feats = new Float32Array(B * rMax * width);
    qs.forEach((q, b) =>
      (q.visual ?? []).forEach((v, r) => {
        if (v.length !== width) throw new Error(`region feature width ${v.length}, the visual projection expects ${width}`);
        feats.set(v, (b * rMax + r) * width);
      }),
    );
    const vo = await reader.visual.run({ [reader.visual.inputNames[0]!]: new (loadOrt().Tensor)('float32', feats, [B, rMax, width]) });
    const vis = vo[reader.visual.outputNames[0]!]!.data as Float32Array;
    qs.forEach((q, b) => {
      const r = q.visual?.length ?? 0;
      states.set(vis.subarray(b * rMax * d, (b * rMax + r) * d), (b * F + nMax * L) * d);
      mask.fill(1, b * F + nMax * L, b * F + nMax * L + r);
    });
  }
  return { states, mask, encodedRows: todo.length, cachedRows: rows.length - todo.length };
}

/** Log-softmax of one row, in float64. */
function logSoftmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i]! > max) max = row[i]!;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i]! - lse;
  return out;
}

/** Repeat each of B rows (of `per` elements) k times: [B, …] → [B·k, …]. */
function repeatRows<T extends Float32Array | Int32Array>(src: T, B: number, per: number, k: number, make: (n: number) => T): T {
  if (k === 1) return src;
  const out = make(B * k * per);
  for (let b = 0; b < B; b++) for (let j = 0; j < k; j++) out.set(src.subarray(b * per, (b + 1) * per), (b * k + j) * per);
  return out;
}

/** Runs the decoder step by step (the merged graph, or decoder then decoder-with-past), holding the KV cache. */
class DecoderSteps {
  private past = new Map<string, OrtTypes.Tensor>();
  private readonly encState: OrtTypes.Tensor;
  private readonly encMask: OrtTypes.Tensor;
  private step = 0;
  private readonly decoderNames: string[] = [];
  private readonly encoderNames: string[] = [];

  constructor(
    private readonly reader: T5Reader,
    states: Float32Array,
    mask: Int32Array,
    readonly rows: number,
    readonly F: number,
  ) {
    const g = reader.geometry;
    this.encState = new (loadOrt().Tensor)('float32', states, [rows, F, g.dModel]);
    this.encMask = int64(mask, [rows, F]);
    for (const name of reader.decoder.inputNames) {
      if (!name.startsWith('past_key_values.')) continue;
      const present = name.replace('past_key_values.', 'present.');
      (name.includes('.encoder.') ? this.encoderNames : this.decoderNames).push(present);
      this.past.set(name, new (loadOrt().Tensor)('float32', new Float32Array(0), [rows, g.numHeads, 0, g.dKv]));
    }
  }

  /** One decoder call on the last token of every row; returns logits [rows, V] and, on the first step, cross-attention. */
  async run(tokens: readonly number[], fetchCross: readonly string[] = []): Promise<{ logits: Float32Array; cross: Float32Array[] }> {
    const dec = this.step === 0 && this.reader.decoderFirst ? this.reader.decoderFirst : this.reader.decoder;
    const feeds: Record<string, OrtTypes.Tensor> = {};
    for (const name of dec.inputNames) {
      if (name === 'input_ids') feeds[name] = int64(tokens, [this.rows, 1]);
      else if (name === 'encoder_attention_mask') feeds[name] = this.encMask;
      else if (name === 'encoder_hidden_states') feeds[name] = this.encState;
      else if (name === 'use_cache_branch') feeds[name] = new (loadOrt().Tensor)('bool', new Uint8Array([this.step > 0 ? 1 : 0]), [1]);
      else if (this.past.has(name)) feeds[name] = this.past.get(name)!;
      else throw new Error(`decoder input "${name}" is not one the reader knows how to feed`);
    }
    const fetches = ['logits', ...this.decoderNames, ...(this.step === 0 ? this.encoderNames : []), ...fetchCross].filter((n) =>
      dec.outputNames.includes(n),
    );
    const out = await dec.run(feeds, fetches);
    for (const p of fetches) {
      if (!p.startsWith('present.')) continue;
      this.past.set(p.replace('present.', 'past_key_values.'), out[p]!);
    }
    this.step++;
    const logits = out.logits!;
    const V = logits.dims[logits.dims.length - 1]!;
    const S = logits.dims[1]!;
    let data = logits.data as Float32Array;
    if (S !== 1) {
      const last = new Float32Array(this.rows * V);
      for (let r = 0; r < this.rows; r++) last.set(data.subarray((r * S + S - 1) * V, (r * S + S) * V), r * V);
      data = last;
    }
    return { logits: data, cross: fetchCross.filter((n) => out[n]).map((n) => out[n]!.data as Float32Array) };
  }

  /** Reorder the self-attention cache rows (beam search): row r takes the cache of row `from[r]`. */
  reorder(from: readonly number[]): void {
    for (const p of this.decoderNames) {
      const name = p.replace('present.', 'past_key_values.');
      const t = this.past.get(name)!;
      const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
      const src = t.data as Float32Array;
      const dst = new Float32Array(src.length);
      from.forEach((f, r) => dst.set(src.subarray(f * per, (f + 1) * per), r * per));
      this.past.set(name, new (loadOrt().Tensor)('float32', dst, t.dims as number[]));
    }
  }
}

/**
 * FiD's per-passage score (get_crossattention_scores) from the first step's cross-attention tensors, one per layer, each
 * [rows, H, 1, F]: for question row `row`, the sum over layers, heads and the passage's unmasked tokens, divided by
 * tokens × layers × heads. Then, for each visual token, its mean over layers and heads.
 */
function attributionOf(cross: Float32Array[], row: number, H: number, F: number, lay: Layout, b: number, visualTokens: number) {
  const layers = cross.length;
  const tokenSum = (pos: number): number => {
    let s = 0;
    for (const c of cross) for (let h = 0; h < H; h++) s += c[(row * H + h) * F + pos]!;
    return s;
  };
  const passages = lay.ids[b]!.map((p, j) => {
    let s = 0;
    for (let t = 0; t < p.length; t++) s += tokenSum(j * lay.L + t);
    return p.length ? s / (p.length * layers * H) : 0;
  });
  const visual = Array.from({ length: visualTokens }, (_, r) => tokenSum(lay.nMax * lay.L + r) / (layers * H));
  return { passages, visual };
}

/**
 * Answer a batch of questions with Fusion-in-Decoder. Questions may have different numbers of passages (and of visual
 * tokens); results are in input order.
 */
export async function fidGenerate(
  reader: T5Reader,
  questions: readonly FidQuestion[],
  opts: FidOptions,
  cache?: EncoderStateCache,
): Promise<FidAnswer[]> {
  if (questions.length === 0) return [];
  if (opts.maxLength < 2) throw new Error(`maxLength ${opts.maxLength} leaves no room for an answer token`);
  const g = reader.geometry;
  const lay = layout(reader, questions, opts);
  const { states, mask, encodedRows, cachedRows } = await encodeFused(reader, questions, lay, cache);
  const B = questions.length;
  const F = lay.fusedLength;
  const K = Math.max(1, Math.floor(opts.numBeams));
  const rows = B * K;
  const steps = new DecoderSteps(
    reader,
    repeatRows(states, B, F * g.dModel, K, (n) => new Float32Array(n)),
    repeatRows(mask, B, F, K, (n) => new Int32Array(n)),
    rows,
    F,
  );
  const crossNames = opts.attribution && reader.crossAttention ? reader.crossAttention.names : [];
  const result = K === 1 ? await greedy(steps, B, opts, g.decoderStartTokenId, g.eosTokenId, g.padTokenId, crossNames)
    : await beamSearch(steps, B, K, opts, g.decoderStartTokenId, g.eosTokenId, crossNames);

  return questions.map((q, b) => {
    const { tokens, tokenLogprobs } = result.sequences[b]!;
    const visualTokens = q.visual?.length ?? 0;
    const ans: FidAnswer = {
      text: reader.tokenizer.decode(tokens, { skip_special_tokens: true }).trim(),
      tokens,
      tokenLogprobs,
      logprob: tokenLogprobs.reduce((a, x) => a + x, 0),
      crossLength: lay.ids[b]!.reduce((a, p) => a + p.length, 0) + visualTokens,
      fusedLength: F,
      visualTokens,
      passagesRead: lay.ids[b]!.length,
      batchQuestions: B,
      batchEncodedPassages: encodedRows,
      batchCachedPassages: cachedRows,
    };
    if (result.cross.length) {
      const a = attributionOf(result.cross, b * K, g.numHeads, F, lay, b, visualTokens);
      ans.attribution = a.passages;
      ans.attributionKind = reader.crossAttention!.kind;
      if (visualTokens) ans.visualAttribution = a.visual;
    } else {
      ans.attributionMissing = !opts.attribution
        ? 'attribution off'
        : 'the decoder graph exposes no cross-attention outputs (cross_attention_scores.{i} or cross_attentions.{i})';
    }
    return ans;
  });
}

interface Decoded {
  sequences: { tokens: number[]; tokenLogprobs: number[] }[];
  cross: Float32Array[];
}

/** transformers 3.0.2 `_generate_no_beam_search` without sampling: argmax until every row has produced EOS. */
async function greedy(
  steps: DecoderSteps,
  B: number,
  o: FidOptions,
  start: number,
  eos: number,
  pad: number,
  crossNames: readonly string[],
): Promise<Decoded> {
  const seqs = Array.from({ length: B }, () => ({ tokens: [] as number[], tokenLogprobs: [] as number[] }));
  const done = new Array<boolean>(B).fill(false);
  let last = new Array<number>(B).fill(start);
  let cross: Float32Array[] = [];
  for (let len = 1; len < o.maxLength && done.some((d) => !d); len++) {
    const out = await steps.run(last, len === 1 ? crossNames : []);
    if (len === 1) cross = out.cross;
    const V = out.logits.length / B;
    last = last.map((_, b) => {
      if (done[b]) return pad;
      const lp = logSoftmax(out.logits.subarray(b * V, (b + 1) * V));
      let best = 0;
      for (let i = 1; i < V; i++) if (lp[i]! > lp[best]!) best = i;
      seqs[b]!.tokens.push(best);
      seqs[b]!.tokenLogprobs.push(lp[best]!);
      if (best === eos) done[b] = true;
      return best;
    });
  }
  return { sequences: seqs, cross };
}

interface Hyp {
  score: number;
  tokens: number[];
  tokenLogprobs: number[];
}

/**
 * transformers 3.0.2 `_generate_beam_search` (no sampling, length penalty 1, early_stopping false): 2K candidates per
 * question each step, a finished hypothesis scored sum(logprob) / length (length counts the start token, not the EOS),
 * a question done when its worst kept hypothesis beats the best running beam's score / current length.
 */
async function beamSearch(
  steps: DecoderSteps,
  B: number,
  K: number,
  o: FidOptions,
  start: number,
  eos: number,
  crossNames: readonly string[],
): Promise<Decoded> {
  type Beam = { tokens: number[]; tokenLogprobs: number[]; score: number };
  let beams: Beam[] = Array.from({ length: B * K }, (_, r) => ({ tokens: [], tokenLogprobs: [], score: r % K === 0 ? 0 : -1e9 }));
  const hyps: Hyp[][] = Array.from({ length: B }, () => []);
  const done = new Array<boolean>(B).fill(false);
  let cross: Float32Array[] = [];
  const addHyp = (b: number, tokens: number[], tokenLogprobs: number[], sum: number, len: number) => {
    const h = hyps[b]!;
    const score = sum / len;
    if (h.length < K || score > h[h.length - 1]!.score) {
      h.push({ score, tokens, tokenLogprobs });
      h.sort((x, y) => y.score - x.score);
      if (h.length > K) h.pop();
    }
  };
  let len = 1;
  for (; len < o.maxLength && done.some((d) => !d); len++) {
    const out = await steps.run(beams.map((bm) => bm.tokens[bm.tokens.length - 1] ?? start), len === 1 ? crossNames : []);
    if (len === 1) cross = out.cross;
    const V = out.logits.length / (B * K);
    const next: Beam[] = [];
    const from: number[] = [];
    for (let b = 0; b < B; b++) {
      if (done[b]) {
        for (let k = 0; k < K; k++) {
          next.push(beams[b * K]!);
          from.push(b * K);
        }
        continue;
      }
      // top 2K of (beam score + token log-prob) over K·V
      const cand: { score: number; beam: number; token: number; lp: number }[] = [];
      for (let k = 0; k < K; k++) {
        const r = b * K + k;
        const lp = logSoftmax(out.logits.subarray(r * V, (r + 1) * V));
        for (let t = 0; t < V; t++) {
          const s = beams[r]!.score + lp[t]!;
          if (cand.length < 2 * K || s > cand[cand.length - 1]!.score) {
            cand.push({ score: s, beam: r, token: t, lp: lp[t]! });
            cand.sort((x, y) => y.score - x.score || x.beam - y.beam || x.token - y.token);
            if (cand.length > 2 * K) cand.pop();
          }
        }
      }
      const kept: Beam[] = [];
      for (let rank = 0; rank < cand.length && kept.length < K; rank++) {
        const c = cand[rank]!;
        const src = beams[c.beam]!;
        if (c.token === eos) {
          if (rank >= K) continue;
          addHyp(b, [...src.tokens, eos], [...src.tokenLogprobs, c.lp], c.score, len);
        } else {
          kept.push({ tokens: [...src.tokens, c.token], tokenLogprobs: [...src.tokenLogprobs, c.lp], score: c.score });
          from.push(c.beam);
        }
      }
      next.push(...kept);
      const h = hyps[b]!;
      const bestNext = cand[0]!.score;
      if (h.length >= K && h[h.length - 1]!.score >= bestNext / len) done[b] = true;
    }
    steps.reorder(from);
    beams = next;
  }
  for (let b = 0; b < B; b++) {
    if (done[b]) continue;
    for (let k = 0; k < K; k++) {
      const bm = beams[b * K + k]!;
      addHyp(b, bm.tokens, bm.tokenLogprobs, bm.score, len);
    }
  }
  return { sequences: hyps.map((h) => ({ tokens: h[0]!.tokens, tokenLogprobs: h[0]!.tokenLogprobs })), cross };
}
