import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { didYouMean } from './suggest.js';

export const CACHE_MODES = ['rw', 'ro', 'off', 'replay'] as const;
export type CacheMode = (typeof CACHE_MODES)[number];

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'okvqa');
}

/** The whole configuration. Each section has defaults, so `{}` is a valid config. */
export const configSchema = z.object({
  seed: z.number().int().default(0),
  concurrency: z.number().int().positive().default(4),
  cache: z
    .object({
      path: z.string().optional(),
      /** A shared cache in PostgreSQL (`postgres://user:pass@host/db`) instead of the SQLite file at `path`. */
      url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// URL').optional(),
      mode: z.enum(CACHE_MODES).default('rw'),
    })
    .prefault({}),
  models: z
    .object({
      /** `default` = real hub models; `tiny` = the generated test models shipped under assets/models. */
      profile: z.enum(['default', 'tiny']).default('default'),
      /** Where downloaded hub models are cached (never inside node_modules). */
      cacheDir: z.string().optional(),
      /** Folder holding models in hub layout (`<dir>/<org>/<name>/…`), searched before the hub. */
      localDir: z.string().optional(),
      offline: z.boolean().default(false),
      dtype: z.string().default('fp32'),
      /** Where models run: cpu, cuda (onnxruntime's CUDA provider; an error before the run when it cannot start), auto (cuda when it works, else cpu). */
      device: z.enum(['cpu', 'cuda', 'auto']).default('cpu'),
      /** Override the model id used for a role, e.g. `{ clip: "Xenova/clip-vit-base-patch16" }`. */
      ids: z.record(z.string(), z.string()).default({}),
    })
    .prefault({}),
  llm: z
    .object({
      backend: z.enum(['auto', 'openai', 'local', 'batch']).default('auto'),
      baseURL: z.string().optional(),
      apiKey: z.string().optional(),
      model: z.string().optional(),
      /** Use chat completions instead of completions. */
      chat: z.boolean().default(false),
      concurrency: z.number().int().positive().default(8),
      requestsPerMinute: z.number().positive().optional(),
      tokensPerMinute: z.number().positive().optional(),
      timeoutMs: z.number().int().positive().default(60_000),
      maxRetries: z.number().int().min(0).default(4),
    })
    .prefault({}),
  /** Vision-language models (docs/vlm.md): served by an OpenAI-compatible server, the llm server unless set here. */
  vlm: z
    .object({
      /** Model name on the server (default: llm.model, else gpt-4o-mini). */
      model: z.string().optional(),
      /** Server and key for the VLM when it is not the llm server (default: llm.baseURL / llm.apiKey). */
      baseURL: z.string().optional(),
      apiKey: z.string().optional(),
      /** Longest image side sent, in pixels (resized with sharp, never enlarged), and the JPEG quality. */
      maxSide: z.number().int().min(16).max(8192).default(768),
      jpegQuality: z.number().int().min(1).max(100).default(90),
      /** OpenAI's image `detail` (low / high / auto); `omit` leaves it out for servers that refuse the field. */
      detail: z.enum(['auto', 'low', 'high', 'omit']).default('auto'),
      /** Pre-flight: send one tiny image to the server, so a model without image input is refused before the run. */
      probe: z.boolean().default(true),
    })
    .prefault({}),
  knowledge: z
    .object({
      /** Knowledge-base SQLite file (overrides data.json `knowledge`). */
      kb: z.string().optional(),
    })
    .prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

export function cachePath(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  return config.cache.path ?? join(defaultCacheDir(env), 'cache.sqlite');
}

/** Where the cache lives: `cache.url` (a shared PostgreSQL cache) when set, else the SQLite file. */
export function cacheLocation(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  return config.cache.url ?? cachePath(config, env);
}

export function modelCacheDir(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  return config.models.cacheDir ?? join(defaultCacheDir(env), 'models');
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, everything else (arrays included) is replaced by the later layer. */
export function deepMerge<T>(base: T, over: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k], v) : v;
  }
  return out as T;
}

/** Parse the value of `--set key=value`: JSON when it parses (numbers, booleans, arrays), else the raw string. */
export function parseSetValue(raw: string): Json {
  try {
    return JSON.parse(raw) as Json;
  } catch {
    return raw;
  }
}

/** Apply `a.b.c=value` assignments to a plain object, returning a new object. */
export function applySets(target: Record<string, unknown>, sets: readonly string[]): Record<string, unknown> {
  let out = target;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set expects key=value, got "${s}"`);
    const path = s.slice(0, eq).split('.');
    if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) {
      throw new ConfigError(`--set: bad key "${s.slice(0, eq)}"`);
    }
    let patch: unknown = parseSetValue(s.slice(eq + 1));
    for (let i = path.length - 1; i >= 0; i--) patch = { [path[i]!]: patch };
    out = deepMerge(out, patch);
  }
  return out;
}

/** Environment variables that set config values, and the config path each sets. */
export const CONFIG_ENV: Readonly<Record<string, string>> = Object.freeze({
  OKVQA_CACHE_MODE: 'cache.mode',
  OKVQA_CACHE_PATH: 'cache.path',
  OKVQA_CACHE_URL: 'cache.url',
  OKVQA_CONCURRENCY: 'concurrency',
  OKVQA_PROFILE: 'models.profile',
  OKVQA_MODELS_DIR: 'models.localDir',
  OKVQA_MODEL_CACHE: 'models.cacheDir',
  OKVQA_OFFLINE: 'models.offline',
  OKVQA_DEVICE: 'models.device',
  HF_HUB_OFFLINE: 'models.offline',
  OPENAI_BASE_URL: 'llm.baseURL',
  OPENAI_API_KEY: 'llm.apiKey',
  OKVQA_LLM_MODEL: 'llm.model',
  OKVQA_LLM_BACKEND: 'llm.backend',
  OKVQA_VLM_MODEL: 'vlm.model',
  OKVQA_VLM_BASE_URL: 'vlm.baseURL',
  OKVQA_KB: 'knowledge.kb',
});

/**
 * `OKVQA_*` variables read elsewhere (not config values): `OKVQA_DEBUG` (stack traces), `OKVQA_PYTHON` (the Python that
 * `reader import` / `reader train` run), `OKVQA_DATA_BASE_URL` (the mirror `okvqa data fetch` downloads from; it stays
 * exported while every other command runs), `OKVQA_DB_RETRY_S` (how long PostgreSQL operations wait for the
 * database). Any other `OKVQA_*` variable is an error (a typo).
 */
export const OTHER_OKVQA_ENV: readonly string[] = ['OKVQA_DEBUG', 'OKVQA_PYTHON', 'OKVQA_DATA_BASE_URL', 'OKVQA_DB_RETRY_S'];

function unwrapSchema(s: z.ZodType): z.ZodType {
  let cur: any = s;
  while (cur?._zod?.def?.innerType) cur = cur._zod.def.innerType;
  return cur;
}

/**
 * Every config key as a dotted path (`llm.model`); a `*` segment marks a free-form record (`models.ids.*`).
 * Derived from the schema, so a key added there is known everywhere.
 */
export function knownConfigKeys(schema: z.ZodType = configSchema): string[] {
  const out: string[] = [];
  const walk = (s: z.ZodType, prefix: string) => {
    const u: any = unwrapSchema(s);
    const type = u?._zod?.def?.type;
    if (type === 'object') {
      for (const [k, v] of Object.entries(u._zod.def.shape as Record<string, z.ZodType>)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else if (type === 'record') out.push(`${prefix}.*`);
    else out.push(prefix);
  };
  walk(schema, '');
  return out;
}

/** Throw a ConfigError for the first key of `layer` that the config does not have, naming the nearest known key. */
export function assertKnownKeys(layer: unknown, source: string): void {
  if (!isPlainObject(layer)) return;
  const known = knownConfigKeys();
  const leaves = known.filter((k) => !k.endsWith('.*'));
  const records = known.filter((k) => k.endsWith('.*')).map((k) => k.slice(0, -2));
  const sections = new Set(known.flatMap((k) => k.split('.').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join('.'))));
  const visit = (obj: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      const path = prefix ? `${prefix}.${k}` : k;
      if (records.includes(path)) continue;
      if (leaves.includes(path)) continue;
      if (sections.has(path) && isPlainObject(v)) {
        visit(v, path);
        continue;
      }
      if (sections.has(path)) throw new ConfigError(`${source}: "${path}" is a section, not a value (keys: ${leaves.filter((l) => l.startsWith(path + '.')).join(', ')})`);
      throw new ConfigError(`${source}: unknown config key "${path}"${didYouMean(path, [...leaves, ...records.map((r) => `${r}.<name>`)], false)}`);
    }
  };
  visit(layer, '');
}

/** Throw a ConfigError for an `OKVQA_*` variable this package does not read (a typo would otherwise be ignored). */
export function assertKnownEnv(env: NodeJS.ProcessEnv): void {
  const known = [...Object.keys(CONFIG_ENV).filter((k) => k.startsWith('OKVQA_')), ...OTHER_OKVQA_ENV];
  for (const name of Object.keys(env)) {
    if (!name.startsWith('OKVQA_') || known.includes(name) || env[name] === undefined) continue;
    throw new ConfigError(`environment: unknown variable ${name}${didYouMean(name, known)}`);
  }
}

/** The environment layer: the variables a user of this kind of tool expects to work. */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  assertKnownEnv(env);
  const layer: Record<string, unknown> = {};
  const bool = (v: string) => /^(1|true|yes|on)$/i.test(v);
  for (const [name, path] of Object.entries(CONFIG_ENV)) {
    const raw = env[name];
    if (!raw) continue;
    if (name === 'HF_HUB_OFFLINE' && env.OKVQA_OFFLINE) continue; // OKVQA_OFFLINE wins over the hub's own variable
    const value = path === 'models.offline' ? bool(raw) : path === 'concurrency' ? Number(raw) : raw;
    const patch = path.split('.').reduceRight<unknown>((acc, k) => ({ [k]: acc }), value);
    Object.assign(layer, deepMerge(layer, patch));
  }
  return layer;
}

export interface ConfigLayers {
  file?: unknown;
  /** Name of the config file, for messages. */
  fileName?: string;
  pipeline?: unknown;
  /** Name of the pipeline file, for messages. */
  pipelineName?: string;
  /** `key=value` strings from the command line (flags such as --cache and --profile arrive here too). */
  sets?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Programmatic overrides (library API): they count as flags. */
  overrides?: ConfigInput;
}

function getPath(obj: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[k as string];
  }
  return cur;
}

/**
 * defaults → config file → pipeline `config:` → environment → flags (`--set`, --cache, --profile… and the library's
 * explicit options). Later layers win. An unknown key in any layer is an error naming the nearest known key.
 */
export function resolveConfig(layers: ConfigLayers = {}): Config {
  const fileName = `config file${layers.fileName ? ` ${layers.fileName}` : ''}`;
  const pipelineName = `pipeline${layers.pipelineName ? ` ${layers.pipelineName}` : ''} config`;
  assertKnownKeys(layers.file, fileName);
  assertKnownKeys(layers.pipeline, pipelineName);
  assertKnownKeys(layers.overrides, 'options');
  const sets = applySets({}, layers.sets ?? []);
  assertKnownKeys(sets, '--set');
  const env = configFromEnv(layers.env ?? {});
  const ordered: [string, unknown][] = [
    [fileName, layers.file ?? {}],
    [pipelineName, layers.pipeline ?? {}],
    ['environment', env],
    ['options', layers.overrides ?? {}],
    ['--set/flags', sets],
  ];
  let merged: Record<string, unknown> = {};
  for (const [, layer] of ordered) merged = deepMerge(merged, layer);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const from = [...ordered].reverse().find(([, l]) => getPath(l, issue.path) !== undefined)?.[0];
    const envName = from === 'environment' ? Object.entries(CONFIG_ENV).find(([n, p]) => p === issue.path.join('.') && layers.env?.[n])?.[0] : undefined;
    throw new ConfigError(
      `config: ${issue.path.join('.') || '(root)'}: ${issue.message}${from ? ` (set by ${envName ?? from})` : ''}`,
    );
  }
  return parsed.data;
}

/** The config as recorded in a manifest: secrets removed. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.llm.apiKey) copy.llm.apiKey = '<redacted>';
  if (copy.vlm.apiKey) copy.vlm.apiKey = '<redacted>';
  return copy;
}
