/**
 * A T5-family encoder-decoder in the ONNX layout optimum writes (`text2text-generation-with-past`) and the hub's
 * `Xenova/t5-*` / `Xenova/flan-t5-*` repos carry: `onnx/encoder_model.onnx`, `onnx/decoder_model_merged.onnx`,
 * `tokenizer.json`, `config.json`, `generation_config.json`.
 *
 * transformers.js resolves, downloads and caches the files and builds the ONNX Runtime sessions
 * (`AutoModelForSeq2SeqLM`, role `reader` in hub.ts); this module takes those sessions and runs them itself, so Fusion-in-
 * Decoder can concatenate the passages' encodings between the encoder and the decoder (see fid.ts).
 * A local folder in optimum's older layout (`onnx/decoder_model.onnx` for the first step + `onnx/decoder_with_past_model.onnx`
 * afterwards, no merged decoder), which transformers.js does not load, gets its sessions opened here directly.
 *
 * An optional `onnx/visual_projection.onnx` (REVIVE's regional visual tokens: `region_features` [B, R, clip + 4] →
 * `visual_embeds` [B, R, d_model]) travels with the checkpoint; transformers.js does not know it, so it is opened here
 * when the model is a local folder (or already in the model cache).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type * as OrtTypes from 'onnxruntime-node';
import { ort as loadOrt, transformers } from '../runtime/lazy.js';
import type { RunContext } from '../core/context.js';
import { resolveDevice, sessionOptions } from '../models/device.js';
import { loadOnce, modelFingerprint, sourceFor, type ModelSource } from '../models/hub.js';

export const READER_ROLE = 'reader';

/** The part of config.json the reader needs. */
export interface T5Geometry {
  dModel: number;
  numHeads: number;
  dKv: number;
  numDecoderLayers: number;
  vocabSize: number;
  decoderStartTokenId: number;
  eosTokenId: number;
  padTokenId: number;
}

export interface T5Reader {
  source: ModelSource;
  geometry: T5Geometry;
  tokenizer: PreTrainedTokenizer;
  encoder: OrtTypes.InferenceSession;
  /** The merged decoder (every step), or in the split layout the decoder-with-past (steps after the first). */
  decoder: OrtTypes.InferenceSession;
  /** Split layout only: the decoder without past that runs the first step. */
  decoderFirst?: OrtTypes.InferenceSession;
  /** Present when the checkpoint carries `onnx/visual_projection.onnx`. */
  visual?: OrtTypes.InferenceSession;
  /** Input width of the visual projection (CLIP embedding size + 4 box coordinates). */
  visualFeatures?: number;
  /** Names of the decoder's per-layer cross-attention outputs, when it exposes them, and what they hold. */
  crossAttention?: { names: string[]; kind: 'pre-softmax' | 'softmax' };
}

function num(v: unknown, fallback?: number): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`config.json lacks a number where one is required (got ${JSON.stringify(v)})`);
}

/** Geometry from config.json (+ generation_config.json for the special ids). */
export function t5Geometry(config: Record<string, unknown>, generation: Record<string, unknown> = {}): T5Geometry {
  const dModel = num(config.d_model);
  const numHeads = num(config.num_heads);
  return {
    dModel,
    numHeads,
    dKv: num(config.d_kv, dModel / numHeads),
    numDecoderLayers: num(config.num_decoder_layers ?? config.num_layers),
    vocabSize: num(config.vocab_size),
    decoderStartTokenId: num(generation.decoder_start_token_id ?? config.decoder_start_token_id, 0),
    eosTokenId: num(generation.eos_token_id ?? config.eos_token_id, 1),
    padTokenId: num(generation.pad_token_id ?? config.pad_token_id, 0),
  };
}

/** Which cross-attention outputs the decoder graph exposes: FiD's pre-softmax scores are preferred. */
export function crossAttentionOutputs(outputNames: readonly string[], layers: number): T5Reader['crossAttention'] {
  for (const [prefix, kind] of [['cross_attention_scores', 'pre-softmax'], ['cross_attentions', 'softmax']] as const) {
    const names = Array.from({ length: layers }, (_, i) => `${prefix}.${i}`);
    if (names.every((n) => outputNames.includes(n))) return { names, kind };
  }
  return undefined;
}

/** The visual projection graph of a checkpoint, if it has one here (local folder, or already in the model cache). */
function visualProjectionPath(source: ModelSource): string | undefined {
  const dirs = source.from === 'hub' ? [join(source.cacheDir, source.id)] : [source.location];
  for (const d of dirs) {
    const f = join(d, 'onnx', 'visual_projection.onnx');
    if (existsSync(f)) return f;
  }
  return undefined;
}

function readJson(dir: string, name: string): Record<string, unknown> {
  const f = join(dir, name);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>) : {};
}

/** transformers.js's file suffix per dtype (utils/dtypes.js DEFAULT_DTYPE_SUFFIX_MAPPING). */
const DTYPE_SUFFIX: Readonly<Record<string, string>> = {
  fp32: '', fp16: '_fp16', int8: '_int8', uint8: '_uint8', q8: '_quantized', q4: '_q4', q4f16: '_q4f16', bnb4: '_bnb4',
};

/** The split-layout decoder files of a local folder, when it has them and no merged decoder. */
function splitLayout(source: ModelSource): { first: string; withPast: string; encoder: string } | undefined {
  if (source.from === 'hub') return undefined;
  const sfx = DTYPE_SUFFIX[source.dtype] ?? '';
  const f = (name: string) => join(source.location, 'onnx', `${name}${sfx}.onnx`);
  if (existsSync(f('decoder_model_merged'))) return undefined;
  const files = { first: f('decoder_model'), withPast: f('decoder_with_past_model'), encoder: f('encoder_model') };
  return Object.values(files).every((x) => existsSync(x)) ? files : undefined;
}

interface Seq2Seq {
  config: Record<string, unknown>;
  generation_config?: Record<string, unknown>;
  sessions: Record<string, OrtTypes.InferenceSession>;
  dispose(): Promise<unknown>;
}

/** The reader's tokenizer (what `reader.fid` tokenises passages with; `okvqa export fid --tokenizer` uses the same). */
export function loadReaderTokenizer(ctx: Pick<RunContext, 'resources'>, source: ModelSource): Promise<PreTrainedTokenizer> {
  return loadOnce(ctx, source, 'tokenizer', async (loc, o) => (await transformers()).AutoTokenizer.from_pretrained(loc, o), false);
}

/** Load (once per run) the reader for a role source: tokenizer, encoder and merged decoder sessions, visual projection. */
export function loadT5Reader(ctx: Pick<RunContext, 'resources'>, source: ModelSource): Promise<T5Reader> {
  return ctx.resources.get(`t5-reader:${source.location}:${source.dtype}:${source.device}`, async () => {
    const tokenizer = await loadReaderTokenizer(ctx, source);
    const split = splitLayout(source);
    let reader: T5Reader;
    if (split) {
      const opts = sessionOptions((await resolveDevice(source.device)).device);
      const [encoder, decoderFirst, decoder] = await Promise.all([split.encoder, split.first, split.withPast].map((f) => loadOrt().InferenceSession.create(f, opts)));
      const geometry = t5Geometry(readJson(source.location, 'config.json'), readJson(source.location, 'generation_config.json'));
      reader = { source, geometry, tokenizer, encoder: encoder!, decoder: decoder!, decoderFirst: decoderFirst! };
    } else {
      const model = await loadOnce(ctx, source, 'seq2seq', async (loc, o) => (await transformers()).AutoModelForSeq2SeqLM.from_pretrained(loc, o) as unknown as Promise<Seq2Seq>);
      const encoder = model.sessions.model;
      const decoder = model.sessions.decoder_model_merged;
      if (!encoder || !decoder) {
        throw new Error(
          `reader model ${source.id}: expected onnx/encoder_model.onnx and onnx/decoder_model_merged.onnx (sessions: ${Object.keys(model.sessions).join(', ')})`,
        );
      }
      const generation =
        source.from === 'hub' ? (model.generation_config ?? {}) : readJson(source.location, 'generation_config.json');
      reader = { source, geometry: t5Geometry(model.config, generation as Record<string, unknown>), tokenizer, encoder, decoder };
    }
    const geometry = reader.geometry;
    const ca = crossAttentionOutputs((reader.decoderFirst ?? reader.decoder).outputNames, geometry.numDecoderLayers);
    if (ca) reader.crossAttention = ca;
    const vp = visualProjectionPath(source);
    if (vp) {
      const visual = await loadOrt().InferenceSession.create(vp, sessionOptions((await resolveDevice(source.device)).device));
      reader.visual = visual;
      const meta = visual.inputMetadata?.[0] as { shape?: readonly (number | string)[] } | undefined;
      const width = meta?.shape?.[2];
      if (typeof width === 'number') reader.visualFeatures = width;
    }
    return reader;
  }, async (r) => {
    await r.visual?.release();
    if (r.decoderFirst) await Promise.all([r.encoder.release(), r.decoderFirst.release(), r.decoder.release()]);
  });
}

/**
 * The reader model of a run (role `reader`, or an explicit id / folder), with `dtype` overriding `models.dtype` for the
 * reader alone (`q8`: the dynamic-int8 `*_quantized.onnx` files hub repos ship and `okvqa reader import --quantize int8`
 * writes).
 */
export function readerSource(ctx: Pick<RunContext, 'config' | 'paths'>, model?: string, dtype?: string): ModelSource {
  const source = sourceFor(ctx, READER_ROLE, model);
  return dtype ? { ...source, dtype } : source;
}

/** What identifies the reader in cache keys (content of local model files included, see modelFingerprint). */
export function readerFingerprint(ctx: Pick<RunContext, 'config' | 'paths'>, model?: string, dtype?: string): string {
  return modelFingerprint(readerSource(ctx, model, dtype));
}
