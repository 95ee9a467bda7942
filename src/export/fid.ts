/**
 * A finished run in FiD's training format (facebookresearch/FiD, the format KAT's reader was trained from): one example
 * per answered question, in the data file's question order (the trace's order depends on which question finished first),
 * `{id, question, answers, ctxs: [{title?, text, score}]}`, the ctxs being the passages the reader received, in the order
 * it received them.
 *
 * - No `target` by default: FiD's and KAT's `Dataset.get_target` use a fixed `target` when the example has one, else draw
 *   one of the answers at random each time the question is drawn (what KAT trained with). `target: 'majority'` writes the
 *   most frequent answer.
 * - Passage text: a passage whose reader text is `title: {title} context: {body}` (KAT's explicit passages) exports as
 *   FiD's `{title, text: body}`, so FiD's `title: {title} context: {text}` rebuilds it; every other passage (KAT's implicit
 *   `candidate: … evidence: …`, ours `entity: … description: …`) exports as `{text}` alone — exactly the string the reader
 *   read, as KAT's `OkvqaDataset` builds it — with no title (FiD's stock `Dataset` cannot read those; `okvqa_py.train` can).
 * - `tokenizer`: also `passage_ids` (per passage, the token ids `reader.fid` encodes: `question: {q} {passage}` tokenised
 *   alone by the reader's own tokenizer code, no EOS, truncated to `textMaxLength` — the run's reader.fid params when the
 *   output node is one: template, textMaxLength, appendEos, maxPassages) and `answer_ids` (per answer, its ids + EOS,
 *   KAT's `answer + ' </s>'`), so training (python/okvqa_py) and inference tokenise with one implementation.
 * - `regions`: also `regions`, per question the rows `reader.fid` projects into visual tokens (each region's CLIP
 *   embedding ‖ normalised box, `planRegions` in stages/reader/fid.ts), for training REVIVE's visual projection.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Passage, Region, Sample, Tag } from '../core/artifacts.js';
import { InputError } from '../core/errors.js';
import type { SampleResult } from '../core/runner.js';
import { loadSamples } from '../data/data-file.js';
import type { DataSources } from '../data/sources.js';
import { FID_KAT, tokenizePassages, type PassageTokenizer } from '../reader/fid.js';
import { planRegions } from '../stages/reader/fid.js';

export interface FidCtx {
  /** Present only when FiD's `title: {title} context: {text}` rebuilds the reader's text. */
  title?: string;
  text: string;
  score: number;
}

export interface FidExample {
  id: string;
  question: string;
  answers: string[];
  /** Only with `target: 'majority'`. */
  target?: string;
  ctxs: FidCtx[];
  /** With a tokenizer: the encoder input ids of each passage, as `reader.fid` builds them. */
  passage_ids?: number[][];
  /** With a tokenizer: each answer's ids followed by EOS (parallel to `answers`). */
  answer_ids?: number[][];
  /** With `regions`: one row per region, CLIP embedding ‖ [x1/w, y1/h, x2/w, y2/h] (what `reader.fid` feeds as visual tokens). */
  regions?: number[][];
}

export interface ExportTokenizer {
  tokenizer: PassageTokenizer;
  /** Tokens per passage (reader.fid `textMaxLength`, KAT 64). */
  textMaxLength?: number;
  /** How a passage is read (reader.fid `template`, KAT `question: {question} {passage}`). */
  template?: string;
}

export interface ExportFidOptions {
  /** Passage nodes to export (default: what the run's output node read as `passages`). */
  nodes?: string[];
  /** Data sources (default: the run's manifest `data`). */
  data?: DataSources;
  /**
   * Write `score` as N − rank instead of the passage's own score. FiD's `Dataset.sort_data` sorts ctxs by score, which
   * would reorder KAT's list (40 explicit, then implicit); rank scores keep the order the reader saw.
   */
  rankScores?: boolean;
  /** `majority`: write a fixed `target` (the most frequent answer); default none (a random answer per draw, as KAT). */
  target?: 'majority';
  /** Export the reader's regions as visual-token rows; `true` = the regions the output node read, or name the node(s). */
  regions?: boolean | string[];
  /** Pre-tokenise passages and answers with the reader's tokenizer. */
  tokenizer?: ExportTokenizer;
}

interface Manifest {
  pipeline?: { output?: string };
  nodes?: { name: string; stage: string; params?: Record<string, unknown>; inputs?: Record<string, string[]> }[];
  data?: DataSources;
}

/** The most frequent answer; ties go to the one seen first (Python's `Counter(answers).most_common(1)`). */
export function majorityAnswer(answers: readonly string[]): string {
  const count = new Map<string, number>();
  for (const a of answers) count.set(a, (count.get(a) ?? 0) + 1);
  let best = '';
  let top = 0;
  for (const [a, n] of count) {
    if (n > top) {
      top = n;
      best = a;
    }
  }
  return best;
}

/** A passage as a FiD ctx: `{title, text}` when FiD's `title: … context: …` rebuilds the reader's text, else `{text}`. */
export function passageToCtx(p: Passage, score: number): FidCtx {
  if (p.title !== undefined && p.body !== undefined && p.text === `title: ${p.title} context: ${p.body}`) return { title: p.title, text: p.body, score };
  return { text: p.text, score };
}

/** The reader text of a ctx (what `okvqa_py` rebuilds from it): `title: {title} context: {text}`, or the text alone. */
export function ctxText(c: FidCtx): string {
  return c.title !== undefined ? `title: ${c.title} context: ${c.text}` : c.text;
}

function listOutput<T>(rec: SampleResult, node: string, tracePath: string, what: string): T[] {
  const t = rec.nodes[node];
  if (!t) throw new InputError(`question ${rec.questionId}: no node "${node}" in the trace`, tracePath);
  if (!Array.isArray(t.output)) throw new InputError(`question ${rec.questionId}: node "${node}" has no ${what} list in the trace`, tracePath);
  return t.output as T[];
}

export function exportFid(runDir: string, opts: ExportFidOptions = {}): { examples: FidExample[]; nodes: string[]; regionNodes: string[]; skipped: number } {
  const manifestPath = join(runDir, 'manifest.json');
  const tracePath = join(runDir, 'trace.jsonl');
  if (!existsSync(tracePath)) throw new InputError('not a run folder (no trace.jsonl)', runDir);
  const manifest = (existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : {}) as Manifest;
  const out = manifest.nodes?.find((n) => n.name === (manifest.pipeline?.output ?? 'answer'));
  let nodes = opts.nodes;
  if (!nodes?.length) {
    nodes = out?.inputs?.passages;
    if (!nodes?.length) throw new InputError('the run\'s output node reads no passages: name the passage node(s) with --node', manifestPath);
  }
  let regionNodes: string[] = [];
  let tagNodes: string[] = [];
  if (opts.regions) {
    regionNodes = Array.isArray(opts.regions) ? opts.regions : out?.inputs?.regions ?? [];
    tagNodes = out?.inputs?.tags ?? [];
    if (!regionNodes.length) {
      throw new InputError("--regions: the run's output node read no regions (a REVIVE run reads them); name the region node(s): --regions <node>", manifestPath);
    }
  }
  const data = opts.data ?? manifest.data;
  if (!data?.questions) throw new InputError('no data sources in manifest.json: pass --data', manifestPath);
  const samples = new Map<string, Sample>(loadSamples(data).map((s) => [s.questionId, s]));
  const tok = opts.tokenizer;
  // what the run's reader.fid node read: its template, passage length, EOS setting and passage limit (KAT's by default)
  const rp = out?.stage === 'reader.fid' ? out.params ?? {} : {};
  const tokOptions = {
    textMaxLength: tok?.textMaxLength ?? (typeof rp.textMaxLength === 'number' ? rp.textMaxLength : FID_KAT.textMaxLength),
    appendEos: typeof rp.appendEos === 'boolean' ? rp.appendEos : FID_KAT.appendEos,
    template: tok?.template ?? (typeof rp.template === 'string' ? rp.template : FID_KAT.template),
  };
  const maxPassages = !opts.nodes?.length && typeof rp.maxPassages === 'number' ? rp.maxPassages : undefined;
  const eos = tok?.tokenizer.geometry.eosTokenId;
  const answerIds = new Map<string, number[]>();
  const examples: FidExample[] = [];
  let skipped = 0;
  for (const line of readFileSync(tracePath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const rec = JSON.parse(line) as SampleResult;
    const sample = samples.get(rec.questionId);
    if (!rec.ok || !sample) {
      skipped++;
      continue;
    }
    const all: Passage[] = nodes.flatMap((n) => listOutput<Passage>(rec, n, tracePath, 'passage'));
    const passages = maxPassages ? all.slice(0, maxPassages) : all;
    const answers = sample.answers ?? [];
    const ex: FidExample = { id: sample.questionId, question: sample.question, answers, ctxs: [] };
    if (opts.target === 'majority') ex.target = majorityAnswer(answers);
    ex.ctxs = passages.map((p, i) => passageToCtx(p, opts.rankScores ? passages.length - i : p.score));
    if (tok) {
      ex.passage_ids = tokenizePassages(tok.tokenizer, { question: sample.question, passages: passages.map((p) => p.text) }, tokOptions);
      ex.answer_ids = answers.map((a) => {
        let ids = answerIds.get(a);
        if (!ids) {
          ids = [...tok.tokenizer.tokenizer.encode(a, { add_special_tokens: false }), eos!];
          answerIds.set(a, ids);
        }
        return ids;
      });
    }
    if (regionNodes.length) {
      const regions = regionNodes.flatMap((n) => listOutput<Region>(rec, n, tracePath, 'region'));
      const tags = tagNodes.flatMap((n) => (Array.isArray(rec.nodes[n]?.output) ? (rec.nodes[n]!.output as Tag[]) : []));
      try {
        // the rows reader.fid builds when the checkpoint has a visual projection (mode tokens: any problem is an error)
        ex.regions = regions.length ? planRegions(regions, tags, { visual: {} as never, visualFeatures: undefined }, 'tokens').visual : [];
      } catch (err) {
        throw new InputError(`question ${rec.questionId}: ${(err as Error).message.replace(/^regionsAs: tokens, but /, '')}`, tracePath);
      }
    }
    examples.push(ex);
  }
  // the data file's question order, not the trace's (questions finish in any order): one export per run content
  const order = new Map([...samples.keys()].map((q, i) => [q, i]));
  examples.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  return { examples, nodes, regionNodes, skipped };
}
