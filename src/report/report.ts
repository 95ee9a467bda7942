/** `okvqa report`: one self-contained HTML file about a run (and a comparison with a second run). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { StageRegistry } from '../core/registry.js';
import { jsonForScript, renderPage, webAsset } from './html.js';
import { buildReport, type ReportData, type ReportImage } from './model.js';
import { readRunFiles, type RunFiles } from './run-files.js';
import { thumbnail, thumbnails } from './thumbnails.js';

export interface ReportOptions {
  /** A second run folder to compare with. */
  compare?: string;
  /** Output HTML file (default `<run>/report.html`). */
  out?: string;
  title?: string;
  /** Stage registry for artifact kinds (default: the built-in stages). */
  registry?: StageRegistry;
  /** Leave images out. */
  images?: boolean;
  /** Longest side of the thumbnails (default 160); lowered when the size budget needs it. */
  thumbSize?: number;
  /** Size budget of the file in bytes (default 30 MB): texts, lists and thumbnails shrink, saying so, to stay within it. */
  maxBytes?: number;
  onWarning?: (msg: string) => void;
}

export interface ReportResult {
  out: string;
  bytes: number;
  questions: number;
  images: number;
  /** Thumbnail size used (0 when none). */
  thumbSize: number;
  data: ReportData;
}

/** Questions per compressed chunk of details: the page inflates one chunk (with DecompressionStream) when a question opens. */
export const DETAIL_CHUNK = 50;

interface Encoded {
  index: unknown;
  images: unknown;
  chunks: string[];
}

/**
 * Split the data for the page: the table's fields stay plain JSON (parsed at load); each question's node outputs go
 * into gzip chunks of DETAIL_CHUNK questions, base64 in a second JSON blob, inflated only when opened. The page parses a
 * small index at load, and the file stays small (node outputs repeat a lot: prompts, passages, JSON keys).
 */
function encode(data: ReportData): Encoded {
  const details: unknown[] = [];
  const questions = data.questions.map((q) => {
    const { nodes, b, ...row } = q;
    details.push({ nodes, bNodes: b?.nodes });
    if (!b) return row;
    const { nodes: _n, ...bRow } = b;
    return { ...row, b: bRow };
  });
  const chunks: string[] = [];
  for (let i = 0; i < details.length; i += DETAIL_CHUNK) {
    chunks.push(gzipSync(JSON.stringify(details.slice(i, i + DETAIL_CHUNK)), { level: 9 }).toString('base64'));
  }
  const { images, ...rest } = data;
  return { index: { ...rest, questions, detailChunk: DETAIL_CHUNK, detailChunks: chunks.length }, images, chunks };
}

/** Index, thumbnails and each detail chunk in their own element: the page reads only what it shows. */
function page(e: Encoded, title: string): string {
  const blobs: Record<string, unknown> = { 'report-images': e.images };
  e.chunks.forEach((c, i) => (blobs[`report-details-${i}`] = c));
  return renderPage({ title, data: e.index, blobs, css: [webAsset('report.css')], scripts: [webAsset('report.js')] });
}

/** The report's HTML for already-built data. */
export function reportHtml(data: ReportData): string {
  return page(encode(data), data.title);
}

function encodedBytes(e: Encoded): number {
  return Buffer.byteLength(jsonForScript(e.index)) + Buffer.byteLength(jsonForScript(e.images)) + e.chunks.reduce((s, c) => s + c.length + 80, 0);
}

function imagePaths(...runs: (RunFiles | undefined)[]): Map<number, string> {
  const paths = new Map<number, string>();
  for (const run of runs) {
    if (!run) continue;
    const asked = new Set(run.results.map((r) => r.questionId));
    for (const s of run.samples.values()) {
      if (s.imagePath && s.imageId !== undefined && asked.has(s.questionId) && !paths.has(s.imageId)) paths.set(s.imageId, s.imagePath);
    }
  }
  return paths;
}

const THUMB_LADDER = [160, 144, 128, 112, 96, 80, 64];
const PAGE_OVERHEAD = 200_000; // page script, styles and the HTML around the blobs, with room to spare

/** The largest thumbnail size whose estimated total (from a sample of the images) fits `bytes`; 0 when none does. */
async function fitThumbSize(paths: ReadonlyMap<number, string>, first: number, bytes: number): Promise<number> {
  const sample = [...paths.values()].filter((_, i, all) => i % Math.max(1, Math.floor(all.length / 64)) === 0).slice(0, 64);
  for (const size of [first, ...THUMB_LADDER.filter((s) => s < first)]) {
    let total = 0;
    let n = 0;
    for (const p of sample) {
      try {
        total += (await thumbnail(p, { size })).src.length + 48;
        n++;
      } catch {
        /* unreadable images are reported when the thumbnails are made */
      }
    }
    if (!n || (total / n) * paths.size * 1.1 <= bytes) return size;
  }
  return 0;
}

/** Read a run folder (and optionally a second one), build the report data, write one HTML file. */
export async function writeReport(runDir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const a = readRunFiles(resolve(runDir));
  const b = opts.compare ? readRunFiles(resolve(opts.compare)) : undefined;
  const registry = opts.registry ?? (await import('../stages/index.js')).createRegistry();
  const stageKinds = new Map(registry.list().map((s) => [s.id, String(s.output)]));
  const budget = opts.maxBytes ?? 30_000_000;
  const title = opts.title ? { title: opts.title } : {};
  const notes: string[] = [];

  // Texts first: full detail, or shorter prompts and lists when they would take more than 60% of the budget.
  let data = buildReport(a, b, { stageKinds, ...title });
  let enc = encode(data);
  if (encodedBytes(enc) > budget * 0.6) {
    data = buildReport(a, b, { stageKinds, ...title, maxString: 400, maxList: 24 });
    enc = encode(data);
    notes.push(`size budget ${(budget / 1e6).toFixed(0)} MB: long texts keep their last 400 characters and lists their first 24 items (all of it is in trace.jsonl)`);
  }

  // Then images, as large as the rest of the budget allows.
  let thumbSize = 0;
  const paths = opts.images === false ? new Map<number, string>() : imagePaths(a, b);
  if (paths.size) {
    const room = budget - encodedBytes(enc) - PAGE_OVERHEAD;
    const first = opts.thumbSize ?? THUMB_LADDER[0]!;
    thumbSize = room > 0 ? await fitThumbSize(paths, first, room) : 0;
    const warnings: string[] = [];
    // The estimate comes from a sample: check the real total and step down while it does not fit.
    while (thumbSize) {
      warnings.length = 0;
      const thumbs = await thumbnails(paths, { size: thumbSize, onWarning: (m) => warnings.push(m) });
      const images: Record<string, ReportImage> = {};
      for (const [id, img] of thumbs) images[String(id)] = img;
      if (Buffer.byteLength(jsonForScript(images)) <= room) {
        data.images = images;
        break;
      }
      thumbSize = THUMB_LADDER.find((s) => s < thumbSize) ?? 0;
    }
    if (!thumbSize) notes.push(`size budget ${(budget / 1e6).toFixed(0)} MB: no room left for ${paths.size} images; they are left out`);
    else if (thumbSize < first) notes.push(`size budget ${(budget / 1e6).toFixed(0)} MB: thumbnails are ${thumbSize} px (asked ${first})`);
    if (warnings.length) notes.push(`${warnings.length} image(s) could not be read, e.g. ${warnings[0]}`);
  }
  for (const n of notes) opts.onWarning?.(n);
  data.warnings.push(...notes);
  const html = page(encode(data), data.title);
  const out = resolve(opts.out ?? `${a.dir}/report.html`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);
  return { out, bytes: Buffer.byteLength(html), questions: data.questions.length, images: Object.keys(data.images).length, thumbSize, data };
}
