/**
 * Stream the lines of a Wikidata JSON dump without loading it: `.json.gz` (node:zlib), `.json.bz2` (the system's
 * `lbzip2`/`pbzip2`/`bzip2 -dc`: Node has no bzip2, and native decompressors are several times faster than pure-JS ones
 * and ship with every Linux/macOS base system), or plain JSON. Dumps are `[`, one entity per line ending in `,`, `]`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

export interface DumpLine {
  /** 1-based line number in the (decompressed) dump. */
  lineNo: number;
  line: string;
}

export interface DumpProgress {
  /** Bytes of the (compressed) file read so far. */
  bytesRead: number;
  /** File size in bytes. */
  totalBytes: number;
}

function findBzip2(): string | undefined {
  for (const cmd of ['lbzip2', 'pbzip2', 'bzip2']) {
    const r = spawnSync(cmd, ['--help'], { stdio: 'ignore' });
    if (!r.error) return cmd;
  }
  return undefined;
}

/**
 * Lines of the dump file, with the number of compressed bytes consumed so far (for progress).
 * The caller may stop early (break); the file and any child process are then closed.
 */
export async function* dumpLines(path: string, progress?: DumpProgress): AsyncGenerator<DumpLine> {
  const totalBytes = statSync(path).size;
  if (progress) progress.totalBytes = totalBytes;
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  file.on('data', (chunk) => {
    if (progress) progress.bytesRead += chunk.length;
  });
  let text: Readable = file;
  let child: ReturnType<typeof spawn> | undefined;
  let childError: Error | undefined;
  if (/\.gz$/i.test(path)) {
    text = file.pipe(createGunzip());
  } else if (/\.bz2$/i.test(path)) {
    const cmd = findBzip2();
    if (!cmd) throw new Error(`cannot read ${path}: no bzip2 decompressor found (install lbzip2 or bzip2)`);
    child = spawn(cmd, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    child.on('close', (code, signal) => {
      if (code && !signal) childError = new Error(`${cmd} -dc ${path} failed (${code}): ${stderr.trim()}`);
    });
    child.stdin!.on('error', () => {}); // EPIPE when we stop early
    file.pipe(child.stdin!);
    const out = new PassThrough();
    child.stdout!.pipe(out);
    text = out;
  }
  file.on('error', (e) => text.destroy(e));
  const rl = createInterface({ input: text, crlfDelay: Infinity });
  let lineNo = 0;
  try {
    for await (const line of rl) {
      lineNo++;
      yield { lineNo, line };
    }
    if (child && child.exitCode === null) await new Promise((r) => child!.once('close', r));
    if (childError) throw childError;
  } catch (err) {
    const e = err as Error;
    throw new Error(`${path}: line ${lineNo + 1}: ${e.message}`, { cause: err });
  } finally {
    rl.close();
    file.destroy();
    if (child && child.exitCode === null) child.kill();
  }
}

export type ParsedLine = { kind: 'entity'; entity: WikidataEntity } | { kind: 'skip' } | { kind: 'error'; message: string };

/** The parts of a Wikidata entity this package reads. */
export interface WikidataEntity {
  id: string;
  type?: string;
  labels?: Record<string, { language: string; value: string }>;
  descriptions?: Record<string, { language: string; value: string }>;
  claims?: Record<string, { mainsnak?: { snaktype?: string; datavalue?: { value?: unknown } } }[]>;
}

/** Parse one dump line: `[`/`]`/blank are skipped, a trailing comma is allowed, anything else must be an entity. */
export function parseDumpLine(line: string): ParsedLine {
  let s = line.trim();
  if (s === '' || s === '[' || s === ']') return { kind: 'skip' };
  if (s.endsWith(',')) s = s.slice(0, -1);
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (err) {
    return { kind: 'error', message: `invalid JSON (${(err as Error).message})` };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || typeof (v as { id?: unknown }).id !== 'string') {
    return { kind: 'error', message: 'not an entity object with an "id"' };
  }
  return { kind: 'entity', entity: v as WikidataEntity };
}

/** Numeric ids of the item values of property `prop` (e.g. P31, P279): "Q5" → 5. */
export function claimItemIds(entity: WikidataEntity, prop: string): number[] {
  const out: number[] = [];
  for (const c of entity.claims?.[prop] ?? []) {
    const v = c.mainsnak?.datavalue?.value as { 'numeric-id'?: number; id?: string } | undefined;
    if (!v) continue;
    const n = typeof v['numeric-id'] === 'number' ? v['numeric-id'] : qidNumber(v.id);
    if (n !== undefined) out.push(n);
  }
  return out;
}

/** "Q144" → 144; anything else → undefined. */
export function qidNumber(id: string | undefined): number | undefined {
  if (!id || !/^Q\d+$/.test(id)) return undefined;
  return Number(id.slice(1));
}

/** English label and description (`en` only: regional variants such as en-gb are other languages). */
export function englishTerms(entity: WikidataEntity): { label: string; description: string } | undefined {
  const label = entity.labels?.en?.value?.trim();
  const description = entity.descriptions?.en?.value?.trim();
  if (!label || !description) return undefined;
  return { label, description };
}
