/**
 * Where models come from, and loading them once per run.
 *
 * A model is named by a *role* (`clip`, `detector`, `object-detector`, `captioner`, …). The role resolves to a hub id:
 * `config.models.ids[role]` (or an explicit id a stage passes), else the default below. The id is then looked up:
 *   1. an id that is a path (absolute, or starting with ./ or ../) is that directory, in every profile;
 *   2. profile `tiny`: `<paths.tinyModels>/<tiny id>/` (generated random models, never on the hub; a hub id given for
 *      the role maps to the role's tiny model);
 *   3. `config.models.localDir`: `<localDir>/<org>/<name>/` in hub layout (config.json, tokenizer files, onnx/*.onnx);
 *   4. the Hugging Face hub, cached under `modelCacheDir(config)` (the user's cache, never node_modules).
 * With `models.offline` (or profile `tiny`) step 4 is not allowed: transformers.js gets `local_files_only` and
 * `env.allowRemoteModels = false`, and its `env.fetch` is replaced by a function that throws, so no request is attempted;
 * a model that is not already local (or in the model cache) fails with a clear error.
 *
 * transformers.js keeps its settings in a module-level singleton (`env`). `applyTransformersEnv` sets every field this
 * package relies on right before each load, from that load's config, so nothing depends on what an earlier run left
 * behind, and loads take turns (`withTransformersEnv`) so two runs in one process never see each other's settings; the
 * per-call `local_files_only` option keeps the offline guarantee as well.
 */
import { existsSync, statSync } from 'node:fs';
import { directoryHashes } from '../core/file-identity.js';
import { isAbsolute, join, resolve } from 'node:path';
import { transformers } from '../runtime/lazy.js';
import { modelCacheDir, type Config } from '../core/config.js';
import type { RunContext } from '../core/context.js';
import { sha256 } from '../core/hash.js';
import { resolveDevice } from './device.js';
import type { PackagePaths } from '../core/paths.js';

/** Hub ids used when the config names none. Real models, loaded by id (they need the network once). */
export const DEFAULT_MODEL_IDS: Readonly<Record<string, string>> = Object.freeze({
  clip: 'Xenova/clip-vit-base-patch32',
  /** Open-vocabulary detector (`zero-shot-object-detection`), prompted with a class list. */
  detector: 'Xenova/owlvit-base-patch32',
  /** Closed-set detector (`object-detection`). */
  'object-detector': 'Xenova/detr-resnet-50',
  captioner: 'Xenova/vit-gpt2-image-captioning',
  'text-generation': 'Xenova/gpt2',
  /** Fusion-in-Decoder reader (T5 family, encoder + merged decoder): zero-shot flan-t5, not KAT's trained reader. */
  reader: 'Xenova/flan-t5-base',
});

/** The embedded LLM backend's model when nothing is configured (re-exported by src/llm/service.ts). */
export const DEFAULT_LOCAL_MODEL = 'onnx-community/Qwen2.5-0.5B-Instruct';

/** Generated random models (assets/models/<id>) that profile `tiny` uses for each role. */
export const TINY_MODEL_IDS: Readonly<Record<string, string>> = Object.freeze({
  clip: 'okvqa-tiny/clip',
  detector: 'okvqa-tiny/owlvit',
  'object-detector': 'okvqa-tiny/detr',
  captioner: 'okvqa-tiny/captioner',
  'text-generation': 'okvqa-tiny-llm/gpt2',
  reader: 'okvqa-tiny/t5',
});

export interface ModelSource {
  role: string;
  /** The id asked for (hub id, tiny id, or a path). */
  id: string;
  /** What to hand to transformers.js `from_pretrained`: an absolute directory, or a hub id. */
  location: string;
  /** Where it was found. */
  from: 'tiny' | 'local' | 'path' | 'hub';
  /** No network for this load. */
  offline: boolean;
  dtype: string;
  device: string;
  cacheDir: string;
}

function isModelDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory() && existsSync(join(dir, 'config.json'));
  } catch {
    return false;
  }
}

/** The id a role resolves to before lookup: explicit id > config.models.ids[role] > profile default. */
export function modelIdFor(role: string, config: Config, explicitId?: string): string {
  const id =
    explicitId ??
    config.models.ids[role] ??
    (config.models.profile === 'tiny' ? TINY_MODEL_IDS[role] : DEFAULT_MODEL_IDS[role]);
  if (!id) {
    throw new Error(
      `no model configured for role "${role}": set models.ids.${role} (e.g. --set models.ids.${role}=org/name)`,
    );
  }
  return id;
}

/** Resolve a role (or an explicit id) to a concrete location, without loading anything. */
export function resolveModelSource(role: string, config: Config, paths: PackagePaths, explicitId?: string): ModelSource {
  const m = config.models;
  let id = modelIdFor(role, config, explicitId);
  const tiny = m.profile === 'tiny';
  const base = { role, offline: m.offline || tiny, dtype: m.dtype, device: m.device, cacheDir: modelCacheDir(config) };

  if (isAbsolute(id) || id.startsWith('./') || id.startsWith('../')) {
    const dir = resolve(id);
    if (isModelDir(dir)) return { ...base, id, location: dir, from: 'path' };
    throw new Error(`model for role "${role}": ${dir} is not a model directory (no config.json)`);
  }
  if (tiny) {
    // In the tiny profile an explicit id that is a real hub id still maps to the role's tiny model, so a pipeline
    // written for real models runs unchanged on the generated ones.
    if (!isModelDir(join(paths.tinyModels, id)) && TINY_MODEL_IDS[role]) id = TINY_MODEL_IDS[role];
    const dir = join(paths.tinyModels, id);
    if (isModelDir(dir)) return { ...base, id, location: dir, from: 'tiny' };
    throw new Error(
      `profile "tiny": no generated model for role "${role}" at ${dir} (run the generators in test/fixtures/models/; they write to assets/models/)`,
    );
  }
  if (m.localDir) {
    const dir = resolve(m.localDir, id);
    if (isModelDir(dir)) return { ...base, id, location: dir, from: 'local' };
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(id) && !/^[\w.-]+$/.test(id)) {
    throw new Error(`model for role "${role}": "${id}" is neither a hub id (org/name) nor a model directory`);
  }
  return { ...base, id, location: id, from: 'hub' };
}

/** Online: the process's fetch at call time (what transformers.js binds by default, looked up when used). */
const onlineFetch = (input: unknown, init?: unknown): Promise<Response> =>
  globalThis.fetch(input as Parameters<typeof fetch>[0], init as Parameters<typeof fetch>[1]);

/** Stands in for `env.fetch` while offline: any attempt to reach the network is a bug, so it fails loudly. */
async function offlineFetch(input: unknown): Promise<Response> {
  throw new Error(`models.offline is set: refusing network request to ${String(input)}`);
}

/**
 * Set transformers.js's global `env` for one load (see the module comment). Every field is set each time.
 */
export async function applyTransformersEnv(source: ModelSource): Promise<void> {
  const { env } = await transformers();
  env.allowLocalModels = true;
  env.useFS = true;
  env.useFSCache = true;
  env.useBrowserCache = false;
  env.cacheDir = source.cacheDir;
  env.allowRemoteModels = !source.offline;
  env.fetch = (source.offline ? offlineFetch : onlineFetch) as typeof env.fetch;
}

/**
 * transformers.js's `env` is one per process, so model loads take turns: each runs entirely under its own settings.
 * This queue is the one piece of module state in the package; it guards a third-party global and holds no data.
 */
let envTurn: Promise<unknown> = Promise.resolve();
function withTransformersEnv<T>(source: ModelSource, load: () => Promise<T>): Promise<T> {
  const run = envTurn.then(async () => {
    await applyTransformersEnv(source);
    return load();
  });
  envTurn = run.catch(() => undefined);
  return run;
}

/** Options for transformers.js `from_pretrained` / `pipeline` for this source. */
export function pretrainedOptions(source: ModelSource, withWeights = true): Record<string, unknown> {
  const o: Record<string, unknown> = { cache_dir: source.cacheDir, local_files_only: source.offline };
  if (withWeights) {
    o.dtype = source.dtype;
    o.device = source.device;
  }
  return o;
}

/**
 * What identifies a resolved model in stage fingerprints and cache keys: its content, never where it lies. A model
 * folder (tiny, local, path) is identified by the full sha256 of every file in it (config, tokenizer, pre-processor,
 * every ONNX file), so replacing or re-exporting any file invalidates results computed with the old one. A hub model is
 * identified the same way by the files transformers.js downloaded into the model cache (`<cacheDir>/<id>/`, what the run
 * loads); a hub model not downloaded yet has no content to hash and is named `<id>|hub|not-downloaded` (its results are
 * recomputed once its files are there, never replayed across a revision change).
 */
export function modelFingerprint(source: ModelSource): string {
  const base = `${source.id}|${source.dtype}`;
  const dir = source.from === 'hub' ? join(source.cacheDir, source.id) : source.location;
  if (!existsSync(join(dir, 'config.json'))) return `${base}|${source.from}|not-downloaded`;
  const files = directoryHashes(dir);
  return `${base}|files=${sha256(files.map((f) => `${f.file}:${f.sha256}`).join('\n')).slice(0, 32)}`;
}

/** Model source for a role in a run (resolved against the run's config and package paths). */
export function sourceFor(ctx: Pick<RunContext, 'config' | 'paths'>, role: string, explicitId?: string): ModelSource {
  return resolveModelSource(role, ctx.config, ctx.paths, explicitId);
}

/**
 * Load something (a model, tokenizer, processor, pipeline) for a source once per run: concurrent calls with the same
 * source and part share one promise (via `ctx.resources`), and the value's `dispose()` runs when the run ends.
 */
export function loadOnce<T>(
  ctx: Pick<RunContext, 'resources'>,
  source: ModelSource,
  part: string,
  load: (location: string, options: Record<string, unknown>) => Promise<T>,
  withWeights = true,
): Promise<T> {
  const key = `model:${part}:${source.location}:${withWeights ? `${source.dtype}:${source.device}` : ''}:${source.offline}`;
  return ctx.resources.get(
    key,
    async () => {
      assertAvailableOffline(source);
      // `auto` becomes cuda or cpu here (transformers.js's own `auto` would try every provider it knows)
      const resolved = withWeights ? { ...source, device: (await resolveDevice(source.device)).device } : source;
      try {
        return await withTransformersEnv(source, () => load(source.location, pretrainedOptions(resolved, withWeights)));
      } catch (err) {
        if (isNetworkError(err)) throw new HubUnreachableError(source, part, err);
        throw new Error(`loading ${part} for role "${source.role}" from ${describeSource(source)}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    },
    async (value: T) => {
      const d = (value as { dispose?: () => unknown } | null)?.dispose;
      if (typeof d === 'function') await d.call(value);
    },
  );
}

/** A failed request that never reached a server (DNS, refused, reset, timeout): Node's fetch says only "fetch failed". */
export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code && /^(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET)$/.test(code)) return true;
    if (e instanceof Error && /^fetch failed$/i.test(e.message)) return true;
  }
  return false;
}

function networkDetail(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error) parts.push((e as NodeJS.ErrnoException).code ?? e.message);
  }
  return [...new Set(parts)].join(': ');
}

/** The hub could not be reached to download a model: says so, and what to do instead. */
export class HubUnreachableError extends Error {
  override name = 'HubUnreachableError';
  constructor(readonly source: ModelSource, part: string, cause: unknown) {
    const llm = source.role === 'text-generation';
    super(
      `the Hugging Face hub is unreachable (${networkDetail(cause)}): cannot download the ${part} of ${source.id} (role "${source.role}"${llm ? ', the embedded LLM' : ''}). ` +
        `Options: --profile tiny uses the bundled test models (random weights: for trying the tools, never for answers); ` +
        `--offline with models.localDir (OKVQA_MODELS_DIR) naming a folder that holds ${source.id} in hub layout (<dir>/${source.id}/config.json, onnx/…); ` +
        `or download ${source.id} once where the hub is reachable (it is kept in ${source.cacheDir}).` +
        (llm ? ` The embedded LLM's default model is ${DEFAULT_LOCAL_MODEL}; to use a server instead set OPENAI_BASE_URL / OPENAI_API_KEY.` : ''),
      { cause },
    );
  }
}

/** Offline, a hub model must already be in the model cache: fail early with a message that says what to do. */
export function assertAvailableOffline(source: ModelSource): void {
  if (source.from !== 'hub' || !source.offline) return;
  if (existsSync(join(source.cacheDir, source.id, 'config.json'))) return;
  throw new Error(
    `models are offline and "${source.id}" (role "${source.role}") is not in the model cache ${source.cacheDir}: ` +
      `run once with network access, put the model in hub layout under models.localDir (OKVQA_MODELS_DIR), ` +
      `or use --profile tiny for the bundled test models (random weights)` +
      (source.role === 'text-generation' ? `; the embedded LLM's default model is ${DEFAULT_LOCAL_MODEL}` : ''),
  );
}

export function describeSource(s: ModelSource): string {
  switch (s.from) {
    case 'hub':
      return `hub id ${s.id}${s.offline ? ' (offline: model cache ' + s.cacheDir + ' only)' : ''}`;
    case 'tiny':
      return `generated tiny model ${s.location}`;
    default:
      return s.location;
  }
}
