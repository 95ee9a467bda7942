/**
 * Pre-flight checks shared by the built-in stages (see `Stage.check` and src/core/preflight.ts). Each helper returns
 * findings, never throws for an expected problem, and loads what it reads through `ctx.resources` so the run reuses it.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckContext, CheckFinding } from '../core/stage.js';
import { errorMessage } from '../core/errors.js';
import type { TextMap } from '../data/captions.js';
import { KnowledgeStore } from '../knowledge/store.js';
import { resolveLlmIdentity } from '../llm/service.js';
import { CUDA_INSTALL_HINT, resolveDevice } from '../models/device.js';
import { describeSource, resolveModelSource, type ModelSource } from '../models/hub.js';
import { keyedMap, type KeyParam } from './caption/text-file.js';

const fmt = (n: number) => n.toLocaleString('en-US');
const DATA_FETCH = 'okvqa data fetch okvqa';

const error = (key: string, message: string, fix?: string): CheckFinding => ({ severity: 'error', key, message, ...(fix ? { fix } : {}) });
const warning = (key: string, message: string, fix?: string): CheckFinding => ({ severity: 'warning', key, message, ...(fix ? { fix } : {}) });

/** A file input: named, exists, is a file. `how` tells how to name it when it is missing. */
export function checkFile(key: string, path: string | undefined, how: string): CheckFinding[] {
  if (!path) return [error(key, `no ${key} file is named`, how)];
  if (!existsSync(path)) return [error(key, `file not found: ${path}`, `fix the path, or download the data (${DATA_FETCH})`)];
  if (!statSync(path).isFile()) return [error(key, `not a file: ${path}`)];
  return [];
}

/**
 * A caption or tag file: it exists, parses, and covers the run's questions. No coverage is an error when the node
 * requires an entry per question; partial coverage is a warning with the numbers.
 */
export async function checkTextMap<T>(
  ctx: CheckContext,
  o: { kind: 'captions' | 'tags'; path: string | undefined; paramFile: boolean; key: KeyParam; required: boolean; load: (p: string) => TextMap<T> },
): Promise<CheckFinding[]> {
  const key = o.paramFile ? 'params.file' : o.kind;
  const what = o.kind === 'tags' ? 'tags' : 'captions';
  const missing = checkFile(key, o.path, `name a ${what.replace(/s$/, '')} file: "${o.kind}" in data.json, or --set nodes.${ctx.node}.params.file=FILE`);
  if (missing.length) return missing;
  let keyed: Awaited<ReturnType<typeof keyedMap<T>>>;
  try {
    keyed = await keyedMap(ctx, o.kind, o.path!, o.key, o.load);
  } catch (err) {
    return [error(key, errorMessage(err))];
  }
  const ids = new Set(ctx.samples.map((s) => (keyed.keying === 'question' ? s.questionId : String(s.imageId))));
  let covered = 0;
  for (const id of ids) if (keyed.map.get(id)?.length) covered++;
  const unit = keyed.keying === 'question' ? 'questions' : 'images';
  const numbers = `${fmt(covered)} of ${fmt(ids.size)} ${unit} have ${what} in ${o.path}`;
  if (covered === ids.size) return [];
  if (covered === 0 && o.required) {
    return [error(key, `${numbers} (is it the file of another split?)`, `name the ${what} file of these questions, or set nodes.${ctx.node}.params.required=false`)];
  }
  if (o.required) return [warning(key, `${numbers}; the other ${fmt(ids.size - covered)} ${unit} will fail (required: true)`)];
  return [warning(key, `${numbers}; the others get none`)];
}

/** Every question has an image file (data.json "images" names a folder holding them). */
export function checkImages(ctx: CheckContext): CheckFinding[] {
  const folder = ctx.data.images;
  const fix = `add "images": "path/to/coco/val2014" to data.json (okvqa data fetch coco-val-images)`;
  if (!folder) {
    // Questions may carry their own image paths (library use); only fail when some have none.
    const without = ctx.samples.filter((s) => !s.imagePath).length;
    if (without === 0) return [];
    return [error('images', `data.json names no images folder and ${fmt(without)} of ${fmt(ctx.samples.length)} questions have no image path`, fix)];
  }
  if (!existsSync(folder) || !statSync(folder).isDirectory()) return [error('images', `images folder not found: ${folder}`, fix)];
  const ids = new Set(ctx.samples.map((s) => s.imageId));
  const found = new Set(ctx.samples.filter((s) => s.imagePath).map((s) => s.imageId));
  if (found.size === ids.size) return [];
  const numbers = `${fmt(found.size)} of ${fmt(ids.size)} images of the questions are in ${folder}`;
  const refix = `point "images" in data.json at the folder holding these questions' COCO images (okvqa data fetch coco-val-images)`;
  if (found.size === 0) return [error('images', `${numbers} (expected COCO file names such as COCO_val2014_000000000042.jpg)`, refix)];
  return [warning('images', `${numbers}; questions without their image will fail`)];
}

function inModelCache(s: ModelSource): boolean {
  return existsSync(join(s.cacheDir, s.id, 'config.json'));
}

/** A model role resolves to a model that is available now (local, tiny, cached) or can be downloaded (online). */
export function checkModel(ctx: CheckContext, role: string, explicitId: string | undefined, key = `models.ids.${role}`): CheckFinding[] {
  let s: ModelSource;
  try {
    s = resolveModelSource(role, ctx.config, ctx.paths, explicitId);
  } catch (err) {
    return [error(key, errorMessage(err))];
  }
  if (s.from !== 'hub' || inModelCache(s)) return [];
  if (s.offline) {
    return [error(key, `models are offline and ${describeSource(s)} (role "${role}") is not in the model cache`,
      `run once with network access to download ${s.id}, put it in hub layout under models.localDir (OKVQA_MODELS_DIR), or use --profile tiny for the bundled test models`)];
  }
  return [warning(key, `${s.id} (role "${role}") is not in the model cache ${s.cacheDir}: it is downloaded from the Hugging Face hub on first use (needs network access)`,
    'to run without network: --offline with models.localDir, or --profile tiny for the bundled test models')];
}

/**
 * `models.device` works here: `cuda` where onnxruntime's CUDA provider cannot start is an error (before any question
 * runs); `auto` there is a warning (the models run on the CPU). One finding for all nodes (same key and message).
 */
export async function checkDevice(ctx: Pick<CheckContext, 'config'>): Promise<CheckFinding[]> {
  const setting = ctx.config.models.device;
  if (setting === 'cpu') return [];
  try {
    const r = await resolveDevice(setting);
    return r.warning ? [warning('models.device', r.warning, `for the GPU, ${CUDA_INSTALL_HINT}; --device cpu silences this`)] : [];
  } catch (err) {
    return [error('models.device', errorMessage(err).replace(/; install onnxruntime-node.*$/s, ''), `${CUDA_INSTALL_HINT}; or --device cpu (or auto)`)];
  }
}

/** The LLM is configured: a backend and model are chosen, an API server has what it needs, an embedded model resolves. */
export function checkLlm(ctx: CheckContext): CheckFinding[] {
  // A replay answers every call from the cache (a miss is an error naming the call): no server, key or model needed.
  if (ctx.config.cache.mode === 'replay') return [];
  let id: ReturnType<typeof resolveLlmIdentity>;
  try {
    id = resolveLlmIdentity(ctx.config);
  } catch (err) {
    return [error('llm.model', errorMessage(err))];
  }
  const l = ctx.config.llm;
  if (id.backend === 'openai' && !l.apiKey && !l.baseURL) {
    return [error('llm.apiKey', 'llm.backend is openai but neither an API key nor a server is configured', 'set OPENAI_API_KEY (and OPENAI_BASE_URL for another server)')];
  }
  if (id.backend === 'local') return checkModel(ctx, 'text-generation', id.model, 'llm.model');
  return [];
}

/** The knowledge base exists and holds vectors of the pipeline's CLIP model. */
export function checkKnowledgeBase(ctx: CheckContext, clipModel: string | undefined): CheckFinding[] {
  const path = ctx.config.knowledge.kb ?? ctx.data.knowledge;
  const key = ctx.config.knowledge.kb ? 'knowledge.kb' : 'knowledge';
  if (!path) return [error('knowledge', 'no knowledge base is named', 'set "knowledge" in data.json or --set knowledge.kb=path/kb.sqlite (build one with okvqa kb build, then okvqa kb embed)')];
  if (!existsSync(path)) return [error(key, `knowledge base not found: ${path}`, 'build it with okvqa kb build, then okvqa kb embed')];
  let model: string;
  try {
    model = resolveModelSource('clip', ctx.config, ctx.paths, clipModel).id;
  } catch (err) {
    return [error(clipModel ? 'params.model' : 'models.ids.clip', errorMessage(err))];
  }
  let stats: ReturnType<KnowledgeStore['stats']>;
  try {
    const store = KnowledgeStore.open(path, { readonly: true });
    try {
      stats = store.stats();
    } finally {
      store.close();
    }
  } catch (err) {
    return [error(key, `cannot open knowledge base ${path}: ${errorMessage(err)}`)];
  }
  if (!stats.entities) return [error(key, `knowledge base ${path} holds no entities`, 'build it with okvqa kb build')];
  const n = stats.embedded[model] ?? 0;
  if (n === 0) {
    const have = Object.keys(stats.embedded);
    return [error(key, `knowledge base ${path} has no vectors of ${model}, the CLIP model this node uses${have.length ? ` (it has ${have.join(', ')})` : ' (it is not embedded)'}`,
      `okvqa kb embed --kb ${path} --model ${model}${have.length ? `, or set the node's model to ${have[0]}` : ''}`)];
  }
  if (n < stats.entities) return [warning(key, `${fmt(n)} of ${fmt(stats.entities)} entities of ${path} have vectors of ${model}; the rest are never retrieved`, `finish with okvqa kb embed --kb ${path}`)];
  return [];
}

/** The in-context example pool: data.json "examples" with questions, answers and captions (and images when asked). */
export function checkExamplePool(ctx: CheckContext, o: { captions: boolean; images: boolean }): CheckFinding[] {
  const ex = ctx.data.examples;
  const how = 'add "examples": {"questions", "annotations", "captions"} to data.json (the training split)';
  if (!ex) return [error('examples', 'data.json names no in-context example pool', how)];
  const out = [...checkFile('examples.questions', ex.questions, how)];
  if (ex.annotations) out.push(...checkFile('examples.annotations', ex.annotations, how));
  else if (ctx.data.dataset !== 'aokvqa') out.push(error('examples.annotations', 'the example pool has no answers', 'set "examples.annotations" in data.json'));
  if (o.captions) out.push(...checkFile('examples.captions', ex.captions, 'set "examples.captions" in data.json (e.g. COCO train captions)'));
  if (ex.tags) out.push(...checkFile('examples.tags', ex.tags, ''));
  if (o.images) {
    if (!ex.images) out.push(error('examples.images', 'this node needs the example pool\'s images', 'set "examples.images" in data.json (the COCO train images)'));
    else if (!existsSync(ex.images)) out.push(error('examples.images', `images folder not found: ${ex.images}`));
  }
  return out;
}
