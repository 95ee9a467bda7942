/**
 * Replay bundles: every cache entry a run used (node outputs and LLM calls, as recorded per question in trace.jsonl),
 * with the run's manifest and predictions, in one .tgz or .tar.zst. Imported into another machine's cache, they let
 * `okvqa run … --cache replay` reproduce the run's predictions with no API key and no models.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as zlib from 'node:zlib';
import { Cache, type CacheEntry } from '../core/cache.js';
import { isDatabaseUrl } from '../core/cache-store.js';
import { sha256 } from '../core/hash.js';
import { readTrace } from '../report/run-files.js';
import { readTar, writeTar, type TarFile } from './tar.js';

export const BUNDLE_FORMAT = 'okvqa-replay-bundle';

export interface BundleInfo {
  format: typeof BUNDLE_FORMAT;
  version: 1;
  createdAt: string;
  pipeline?: string;
  questions: number;
  entries: number;
  /** Keys the trace names that the cache no longer holds (failed work, or a run with the cache off). */
  missing: number;
  entriesSha256: string;
  /** `--set` flags that make `okvqa run … --cache replay` compute the same cache keys (LLM identity, model profile). */
  replaySets: string[];
}

export interface ExportOptions {
  /** Cache to read (default: the one the run's manifest names). */
  cachePath?: string;
  /** The full URL (with password) of a shared cache whose manifest records it without one. */
  cacheUrl?: string;
  out: string;
}

export interface ExportResult extends BundleInfo {
  out: string;
  bytes: number;
  cachePath: string;
}

type Compression = 'gzip' | 'zstd';

function compressionFor(path: string): Compression {
  if (/\.(tgz|tar\.gz)$/i.test(path)) return 'gzip';
  if (/\.(tar\.zst|tzst)$/i.test(path)) return 'zstd';
  throw new Error(`bundle name must end in .tgz, .tar.gz or .tar.zst: ${path}`);
}

type ZstdZlib = { zstdCompressSync?: (b: Buffer) => Buffer; zstdDecompressSync?: (b: Buffer) => Buffer };

function compress(data: Buffer, kind: Compression): Buffer {
  if (kind === 'gzip') return zlib.gzipSync(data, { level: 6 });
  const z = zlib as unknown as ZstdZlib;
  if (z.zstdCompressSync) return z.zstdCompressSync(data); // Node ≥ 22.15
  const r = spawnSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 2 ** 31 });
  if (r.error || r.status !== 0) throw new Error(`.tar.zst needs Node ≥ 22.15 or the zstd program (${r.error?.message ?? r.stderr?.toString().trim()}); or write a .tgz`);
  return r.stdout;
}

function decompress(data: Buffer): Buffer {
  if (data[0] === 0x1f && data[1] === 0x8b) return zlib.gunzipSync(data);
  if (data.readUInt32LE(0) === 0xfd2fb528) {
    const z = zlib as unknown as ZstdZlib;
    if (z.zstdDecompressSync) return z.zstdDecompressSync(data);
    const r = spawnSync('zstd', ['-q', '-d', '-c'], { input: data, maxBuffer: 2 ** 31 });
    if (r.error || r.status !== 0) throw new Error(`reading a .tar.zst needs Node ≥ 22.15 or the zstd program (${r.error?.message ?? r.stderr?.toString().trim()})`);
    return r.stdout;
  }
  return data; // plain tar
}

interface ManifestLike {
  pipeline?: { name?: string };
  questions?: number;
  cache?: { path?: string };
  config?: { seed?: number; models?: { profile?: string }; llm?: { backend?: string; model?: string; chat?: boolean; baseURL?: string; apiKey?: string } };
}

/**
 * What a replay needs on the command line so every cache key comes out the same without the original server: the LLM
 * backend as it was resolved (an OpenAI-compatible server when the run had a base URL or key), the model, and the model
 * profile (local model files enter fingerprints).
 */
export function replaySets(manifest: ManifestLike): string[] {
  const c = manifest.config;
  const sets: string[] = [];
  if (!c) return sets;
  const l = c.llm ?? {};
  const backend = l.backend === 'auto' || l.backend === undefined ? (l.baseURL || l.apiKey ? 'openai' : undefined) : l.backend === 'batch' ? 'openai' : l.backend;
  if (backend) sets.push(`llm.backend=${backend}`);
  if (l.model) sets.push(`llm.model=${l.model}`);
  if (l.chat) sets.push('llm.chat=true');
  if (c.models?.profile && c.models.profile !== 'default') sets.push(`models.profile=${c.models.profile}`);
  if (c.seed !== undefined && c.seed !== 0) sets.push(`seed=${c.seed}`);
  return sets;
}

/** Write the bundle of a run folder. */
export async function exportBundle(runDir: string, opts: ExportOptions): Promise<ExportResult> {
  const dir = resolve(runDir);
  const tracePath = join(dir, 'trace.jsonl');
  if (!existsSync(tracePath)) throw new Error(`${dir}: no trace.jsonl (not an okvqa run folder?)`);
  const manifestText = existsSync(join(dir, 'manifest.json')) ? readFileSync(join(dir, 'manifest.json'), 'utf8') : '{}';
  const manifest = JSON.parse(manifestText) as ManifestLike;
  const results = readTrace(tracePath);
  const keys: string[] = [];
  const seen = new Set<string>();
  let withKeys = 0;
  for (const r of results) {
    if (r.cacheKeys?.length) withKeys++;
    for (const k of r.cacheKeys ?? []) if (!seen.has(k)) keys.push(k), seen.add(k);
  }
  if (results.length && !withKeys) {
    throw new Error(`${tracePath} records no cache keys (a run made before okvqa recorded them, or with nothing cached); rerun it to record them`);
  }
  const named = opts.cachePath ?? manifest.cache?.path;
  if (!named) throw new Error('the manifest names no cache; give --cache-path');
  // A run on a shared cache records the database URL without its password: the caller passes the full URL.
  const location = isDatabaseUrl(named) ? (opts.cacheUrl ?? named) : resolve(named);
  if (!isDatabaseUrl(location) && !existsSync(location)) throw new Error(`no cache file at ${location}`);
  const cache = new Cache(location, 'ro');
  const cachePath = cache.path;
  const lines: string[] = [];
  let missing = 0;
  try {
    for (const k of keys) {
      const e = await cache.entry(k);
      if (e) lines.push(JSON.stringify(e));
      else missing++;
    }
  } finally {
    await cache.close();
  }
  const entries = Buffer.from(lines.length ? lines.join('\n') + '\n' : '');
  const info: BundleInfo = {
    format: BUNDLE_FORMAT,
    version: 1,
    createdAt: new Date().toISOString(),
    questions: results.length,
    entries: lines.length,
    missing,
    entriesSha256: sha256(entries),
    replaySets: replaySets(manifest),
  };
  if (manifest.pipeline?.name) info.pipeline = manifest.pipeline.name;
  const files: TarFile[] = [
    { name: 'bundle.json', data: Buffer.from(JSON.stringify(info, null, 2) + '\n') },
    { name: 'manifest.json', data: Buffer.from(manifestText) },
    { name: 'entries.jsonl', data: entries },
  ];
  for (const f of ['predictions.json', 'metrics.json']) if (existsSync(join(dir, f))) files.push({ name: f, data: readFileSync(join(dir, f)) });
  const out = resolve(opts.out);
  const bytes = compress(writeTar(files), compressionFor(out));
  writeFileSync(out, bytes);
  return { ...info, out, bytes: bytes.length, cachePath };
}

export interface ImportResult {
  info: BundleInfo;
  cachePath: string;
  imported: number;
  /** The run's manifest as it was bundled. */
  manifest: unknown;
}

/** Read a bundle, check it, and write its entries into the cache at `cachePath` (created when missing). */
export async function importBundle(bundlePath: string, cachePath: string): Promise<ImportResult> {
  const files = readTar(decompress(readFileSync(bundlePath)));
  const infoText = files.get('bundle.json');
  const entries = files.get('entries.jsonl');
  if (!infoText || !entries) throw new Error(`${bundlePath}: not an okvqa replay bundle (no bundle.json / entries.jsonl)`);
  const info = JSON.parse(infoText.toString('utf8')) as BundleInfo;
  if (info.format !== BUNDLE_FORMAT || info.version !== 1) throw new Error(`${bundlePath}: unsupported bundle format ${info.format} v${info.version}`);
  if (sha256(entries) !== info.entriesSha256) throw new Error(`${bundlePath}: entries.jsonl does not match its checksum (damaged bundle)`);
  const target = isDatabaseUrl(cachePath) ? cachePath : resolve(cachePath);
  const cache = new Cache(target, 'rw');
  let imported = 0;
  try {
    const rows: CacheEntry[] = [];
    for (const [i, line] of entries.toString('utf8').split('\n').filter(Boolean).entries()) {
      const e = JSON.parse(line) as { key: string; label: string; value: string; created: number };
      if (typeof e.key !== 'string' || typeof e.value !== 'string' || typeof e.label !== 'string') throw new Error(`${bundlePath}: entries.jsonl line ${i + 1} is malformed`);
      rows.push({ key: e.key, label: e.label, value: e.value, created: Number(e.created) || 0 });
    }
    await cache.putEntries(rows);
    imported = rows.length;
  } finally {
    await cache.close();
  }
  const manifestText = files.get('manifest.json');
  return { info, cachePath: cache.path, imported, manifest: manifestText ? JSON.parse(manifestText.toString('utf8')) : {} };
}
