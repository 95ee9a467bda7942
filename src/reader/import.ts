/**
 * `okvqa reader import`: a PyTorch T5 / Fusion-in-Decoder checkpoint → the folder `reader.fid` loads (hub/optimum
 * layout: tokenizer files, config.json, generation_config.json, onnx/encoder_model.onnx, onnx/decoder_model_merged.onnx
 * with past key/values and FiD's cross-attention scores, onnx/visual_projection.onnx for REVIVE-trained readers).
 *
 *   const r = await importReader('base_both_knowledge/', { out: 'kat-base', tokenizer: 'Xenova/t5-base' });
 *
 * The weights side runs in Python (`python -m okvqa_py.import_reader`, torch + onnx + numpy, no transformers): it reads
 * save_pretrained folders, KAT's FiDT5 layout and bare state dicts (python/okvqa_py/model.py says how). This side finds
 * the interpreter (src/runtime/python.ts), copies and checks the tokenizer (T5 ids: <pad> 0, </s> 1), and, with
 * `quantize: 'int8'`, runs `python -m okvqa_py.quantize <out>/onnx`.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../core/config.js';
import { InputError, UsageError } from '../core/errors.js';
import { packagePaths } from '../core/paths.js';
import { Resources } from '../core/resources.js';
import { loadOnce, resolveModelSource } from '../models/hub.js';
import { transformers } from '../runtime/lazy.js';
import { findPython, pythonHasModule, runPythonModule, type PythonFound } from '../runtime/python.js';

/** Modules the weights side needs. */
export const IMPORT_MODULES: readonly string[] = ['torch', 'onnx', 'numpy'];
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'spiece.model', 'added_tokens.json'];

export interface ImportOptions {
  /** Output folder (created; files in it are replaced). */
  out: string;
  /** Tokenizer: a hub id, a folder with tokenizer.json, or a tokenizer.json file. Default: the checkpoint folder's. */
  tokenizer?: string;
  /** config.json for a bare state-dict file (default: the config.json beside it). */
  config?: string;
  /** Python interpreter (default: OKVQA_PYTHON, else the first candidate with torch, onnx and numpy). */
  python?: string;
  /** Also write int8 graphs (`onnx/*_quantized.onnx`, transformers.js dtype q8) with `python -m okvqa_py.quantize`. */
  quantize?: 'int8';
  /** okvqa config, for resolving a hub tokenizer id (cache folder, offline). */
  okvqaConfig?: Config;
  env?: NodeJS.ProcessEnv;
}

export interface ImportResult {
  out: string;
  python: PythonFound;
  /** What the Python side read: layout ('plain' | 'kat-fid'), variant ('v1.0' | 'v1.1'), cross_attention_bias, … */
  info: Record<string, unknown>;
  tokenizer: { from: string; files: string[]; vocab: number };
  quantized?: string[];
  /** Wall-clock seconds of the whole import (interpreter discovery included). */
  seconds: number;
}

/** Where the tokenizer files are: a folder (the hub's cache folder for a hub id). */
async function tokenizerDir(spec: string | undefined, checkpoint: string, cfg: Config | undefined): Promise<{ dir: string; from: string; single?: string }> {
  if (!spec) {
    const dir = statSync(checkpoint).isDirectory() ? checkpoint : dirname(checkpoint);
    if (existsSync(join(dir, 'tokenizer.json'))) return { dir, from: dir };
    throw new UsageError(
      `${checkpoint} has no tokenizer.json: give --tokenizer (a hub id such as Xenova/t5-base — KAT used t5-base / t5-large's tokenizer —, a folder with tokenizer.json, or a tokenizer.json file)`,
    );
  }
  if (existsSync(spec)) {
    if (statSync(spec).isDirectory()) {
      if (!existsSync(join(spec, 'tokenizer.json'))) {
        throw new InputError(`no tokenizer.json in the folder (transformers.js reads tokenizer.json, not spiece.model alone)`, spec);
      }
      return { dir: spec, from: spec };
    }
    return { dir: dirname(spec), from: spec, single: spec };
  }
  if (!cfg) throw new UsageError(`--tokenizer ${spec}: no such file or folder`);
  // a hub id: transformers.js fetches (or, offline, finds) it in the model cache, then the files are copied from there
  const source = resolveModelSource('reader', cfg, packagePaths(), spec);
  const dir = source.from === 'hub' ? join(source.cacheDir, source.id) : source.location;
  if (!existsSync(join(dir, 'tokenizer.json'))) {
    if (source.from === 'hub' && source.offline) {
      throw new UsageError(`--tokenizer ${spec}: offline, and ${dir} holds no tokenizer.json (run once with network access, or give a folder / tokenizer.json)`);
    }
    const resources = new Resources();
    try {
      await loadOnce({ resources }, source, 'tokenizer', async (loc, o) => (await transformers()).AutoTokenizer.from_pretrained(loc, o), false);
    } finally {
      await resources.disposeAll();
    }
  }
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new InputError(`tokenizer ${spec} loaded, but ${dir} holds no tokenizer.json to copy`, spec);
  return { dir, from: spec };
}

/** T5's special ids, checked in tokenizer.json: <pad> 0, </s> 1 (what the graphs and generation_config.json assume). */
function checkT5Tokenizer(file: string, vocabSize: number): number {
  const tok = JSON.parse(readFileSync(file, 'utf8')) as {
    added_tokens?: { id: number; content: string }[];
    model?: { vocab?: unknown };
  };
  const idOf = new Map<string, number>();
  for (const t of tok.added_tokens ?? []) idOf.set(t.content, t.id);
  const vocab = tok.model?.vocab;
  let size = 0;
  if (Array.isArray(vocab)) {
    size = vocab.length;
    vocab.forEach((v, i) => Array.isArray(v) && typeof v[0] === 'string' && !idOf.has(v[0]) && idOf.set(v[0], i));
  } else if (vocab && typeof vocab === 'object') {
    size = Object.keys(vocab).length;
    for (const [k, v] of Object.entries(vocab as Record<string, number>)) if (!idOf.has(k)) idOf.set(k, v);
  }
  size = Math.max(size, ...[...idOf.values()].map((i) => i + 1));
  if (idOf.get('<pad>') !== 0 || idOf.get('</s>') !== 1) {
    throw new InputError(`not a T5 tokenizer: expected <pad> = 0 and </s> = 1, found ${idOf.get('<pad>')} and ${idOf.get('</s>')}`, file);
  }
  if (size > vocabSize) throw new InputError(`the tokenizer has ${size} ids, the checkpoint's vocabulary only ${vocabSize}`, file);
  return size;
}

/** Import a checkpoint (folder or state-dict file) into `opts.out`. */
export async function importReader(checkpoint: string, opts: ImportOptions): Promise<ImportResult> {
  const t0 = performance.now();
  const env = opts.env ?? process.env;
  if (!existsSync(checkpoint)) throw new InputError('no such checkpoint file or folder', checkpoint);
  if (opts.config && !existsSync(opts.config)) throw new InputError('no such config file', opts.config);
  const tok = await tokenizerDir(opts.tokenizer, checkpoint, opts.okvqaConfig);
  const python = findPython(IMPORT_MODULES, { ...(opts.python ? { explicit: opts.python } : {}), env, purpose: 'okvqa reader import' });
  if (opts.quantize && !pythonHasModule(python.command, 'okvqa_py.quantize')) {
    throw new UsageError(`--quantize int8: ${python.command} cannot import okvqa_py.quantize (not in this build of okvqa, or its modules are missing)`);
  }
  const out = resolve(opts.out);
  mkdirSync(out, { recursive: true });
  const args = [resolve(checkpoint), '--out', out, ...(opts.config ? ['--config', resolve(opts.config)] : [])];
  let stdout: string;
  try {
    ({ stdout } = await runPythonModule(python.command, 'okvqa_py.import_reader', args));
  } catch (err) {
    const e = err as Error & { code?: number };
    if (e.code === 2) throw new InputError(e.message.replace(/^.*?okvqa_py\.import_reader: /s, ''), checkpoint);
    throw err;
  }
  const info = JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { vocab_size: number };

  const files: string[] = [];
  if (tok.single) {
    copyFileSync(tok.single, join(out, 'tokenizer.json'));
    files.push('tokenizer.json');
  }
  // A single named tokenizer.json is taken alone: files lying beside it may belong to another tokenizer.
  for (const f of tok.single ? [] : TOKENIZER_FILES) {
    const src = join(tok.dir, f);
    if (existsSync(src) && resolve(src) !== join(out, f)) {
      copyFileSync(src, join(out, f));
      files.push(f);
    } else if (existsSync(src)) files.push(f);
  }
  if (!files.includes('tokenizer_config.json')) {
    // transformers.js wants one; T5's, as the hub's t5 repos have it
    writeFileSync(
      join(out, 'tokenizer_config.json'),
      `${JSON.stringify({ tokenizer_class: 'T5Tokenizer', eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>', model_max_length: 512 }, null, 1)}\n`,
    );
    files.push('tokenizer_config.json');
  }
  const vocab = checkT5Tokenizer(join(out, 'tokenizer.json'), config.vocab_size);

  let quantized: string[] | undefined;
  if (opts.quantize) {
    await runPythonModule(python.command, 'okvqa_py.quantize', [join(out, 'onnx')]);
    quantized = ['encoder_model_quantized.onnx', 'decoder_model_merged_quantized.onnx'].filter((f) => existsSync(join(out, 'onnx', f)));
    if (quantized.length !== 2) throw new Error(`okvqa_py.quantize wrote ${quantized.join(', ') || 'nothing'} in ${join(out, 'onnx')}`);
  }
  return {
    out,
    python,
    info,
    tokenizer: { from: tok.from, files, vocab },
    ...(quantized ? { quantized } : {}),
    seconds: (performance.now() - t0) / 1000,
  };
}
