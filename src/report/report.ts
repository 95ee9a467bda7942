/** `okvqa report`: one self-contained HTML file about a run (and a comparison with a second run). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { StageRegistry } from '../core/registry.js';
import { renderPage, webAsset } from './html.js';
import { buildReport, type ReportData } from './model.js';
import { readRunFiles, type RunFiles } from './run-files.js';
import { thumbnails, type ThumbnailOptions } from './thumbnails.js';

export interface ReportOptions {
  /** A second run folder to compare with. */
  compare?: string;
  /** Output HTML file (default `<run>/report.html`). */
  out?: string;
  title?: string;
  /** Stage registry for artifact kinds (default: the built-in stages). */
  registry?: StageRegistry;
  /** Thumbnail size/quality; `false` leaves images out. */
  thumbnails?: ThumbnailOptions | false;
  /** Longest string embedded whole (prompts keep their tail). */
  maxString?: number;
  onWarning?: (msg: string) => void;
}

export interface ReportResult {
  out: string;
  bytes: number;
  questions: number;
  images: number;
  data: ReportData;
}

function imagePaths(...runs: (RunFiles | undefined)[]): Map<number, string> {
  const paths = new Map<number, string>();
  for (const run of runs) {
    if (!run) continue;
    const asked = new Set(run.results.map((r) => r.questionId));
    for (const s of run.samples.values()) if (s.imagePath && asked.has(s.questionId) && !paths.has(s.imageId)) paths.set(s.imageId, s.imagePath);
  }
  return paths;
}

/** The report's HTML for already-built data. */
export function reportHtml(data: ReportData): string {
  return renderPage({ title: data.title, data, css: [webAsset('report.css')], scripts: [webAsset('report.js')] });
}

/** Read a run folder (and optionally a second one), build the report data, write one HTML file. */
export async function writeReport(runDir: string, opts: ReportOptions = {}): Promise<ReportResult> {
  const a = readRunFiles(resolve(runDir));
  const b = opts.compare ? readRunFiles(resolve(opts.compare)) : undefined;
  let registry = opts.registry;
  if (!registry) registry = (await import('../stages/index.js')).createRegistry();
  const stageKinds = new Map(registry.list().map((s) => [s.id, String(s.output)]));
  const warnings: string[] = [];
  const onWarning = (m: string) => {
    warnings.push(m);
    opts.onWarning?.(m);
  };
  const images = opts.thumbnails === false ? new Map() : await thumbnails(imagePaths(a, b), { ...(opts.thumbnails ?? {}), onWarning });
  const data = buildReport(a, b, images, { stageKinds, ...(opts.title ? { title: opts.title } : {}), ...(opts.maxString ? { maxString: opts.maxString } : {}) });
  if (warnings.length) data.warnings.push(`${warnings.length} image(s) could not be read, e.g. ${warnings[0]}`);
  const out = resolve(opts.out ?? `${a.dir}/report.html`);
  const html = reportHtml(data);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, html);
  return { out, bytes: Buffer.byteLength(html), questions: data.questions.length, images: Object.keys(data.images).length, data };
}
