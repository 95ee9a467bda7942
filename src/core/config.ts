import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

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
      mode: z.enum(CACHE_MODES).default('rw'),
    })
    .prefault({}),
  models: z
    .object({
      /** `default` = real hub models; `tiny` = the generated test models shipped under test/fixtures/models. */
      profile: z.enum(['default', 'tiny']).default('default'),
      /** Where downloaded hub models are cached (never inside node_modules). */
      cacheDir: z.string().optional(),
      /** Folder holding models in hub layout (`<dir>/<org>/<name>/…`), searched before the hub. */
      localDir: z.string().optional(),
      offline: z.boolean().default(false),
      dtype: z.string().default('fp32'),
      device: z.string().default('cpu'),
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
    if (eq <= 0) throw new Error(`--set expects key=value, got "${s}"`);
    const path = s.slice(0, eq).split('.');
    if (path.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')) {
      throw new Error(`--set: bad key "${s.slice(0, eq)}"`);
    }
    let patch: unknown = parseSetValue(s.slice(eq + 1));
    for (let i = path.length - 1; i >= 0; i--) patch = { [path[i]!]: patch };
    out = deepMerge(out, patch);
  }
  return out;
}

/** The environment layer: the variables a user of this kind of tool expects to work. */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const layer: Record<string, any> = {};
  const set = (path: string[], value: unknown) => {
    let o = layer;
    for (const p of path.slice(0, -1)) o = o[p] ??= {};
    o[path[path.length - 1]!] = value;
  };
  const bool = (v: string) => /^(1|true|yes|on)$/i.test(v);
  if (env.OKVQA_CACHE_MODE) set(['cache', 'mode'], env.OKVQA_CACHE_MODE);
  if (env.OKVQA_CACHE_PATH) set(['cache', 'path'], env.OKVQA_CACHE_PATH);
  if (env.OKVQA_CONCURRENCY) set(['concurrency'], Number(env.OKVQA_CONCURRENCY));
  if (env.OKVQA_PROFILE) set(['models', 'profile'], env.OKVQA_PROFILE);
  if (env.OKVQA_MODELS_DIR) set(['models', 'localDir'], env.OKVQA_MODELS_DIR);
  if (env.OKVQA_MODEL_CACHE) set(['models', 'cacheDir'], env.OKVQA_MODEL_CACHE);
  const offline = env.OKVQA_OFFLINE ?? env.HF_HUB_OFFLINE;
  if (offline) set(['models', 'offline'], bool(offline));
  if (env.OPENAI_BASE_URL) set(['llm', 'baseURL'], env.OPENAI_BASE_URL);
  if (env.OPENAI_API_KEY) set(['llm', 'apiKey'], env.OPENAI_API_KEY);
  if (env.OKVQA_LLM_MODEL) set(['llm', 'model'], env.OKVQA_LLM_MODEL);
  if (env.OKVQA_LLM_BACKEND) set(['llm', 'backend'], env.OKVQA_LLM_BACKEND);
  if (env.OKVQA_KB) set(['knowledge', 'kb'], env.OKVQA_KB);
  return layer;
}

export interface ConfigLayers {
  file?: unknown;
  pipeline?: unknown;
  /** `key=value` strings from the command line. */
  sets?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Programmatic overrides (library API), applied with the CLI layer. */
  overrides?: ConfigInput;
}

/** defaults → file → pipeline → CLI `--set` / API overrides → environment. */
export function resolveConfig(layers: ConfigLayers = {}): Config {
  let merged: Record<string, unknown> = {};
  merged = deepMerge(merged, layers.file ?? {});
  merged = deepMerge(merged, layers.pipeline ?? {});
  merged = deepMerge(merged, layers.overrides ?? {});
  merged = applySets(merged, layers.sets ?? []);
  merged = deepMerge(merged, configFromEnv(layers.env ?? {}));
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The config as recorded in a manifest: secrets removed. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.llm.apiKey) copy.llm.apiKey = '<redacted>';
  return copy;
}
