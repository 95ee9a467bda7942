/**
 * `okvqa data fetch <target>`: download a dataset's official files into `<dir>/downloads/`, verify them, unpack them into
 * `<dir>/<target folder>/`, and write ready `data.json` files (`<dir>/okvqa/data.json`, `<dir>/aokvqa/data.json`) that
 * name whatever has been fetched so far (COCO captions for the example pool, COCO val images).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAokvqaRecords } from '../aokvqa.js';
import { loadVqaAnnotations, loadVqaQuestions } from '../okvqa.js';
import { downloadFile, type DownloadProgress } from './download.js';
import { DATASET_TARGETS, type DatasetTarget, type RemoteFile, type TargetId } from './manifest.js';
import { UnpackError, unpackTarGz, unpackZip } from './unpack.js';

export interface FetchOptions {
  /** Root folder (default `data`). */
  dir: string;
  /** Fetch every file from `<baseUrl>/<file name>` instead of its official URL (a mirror, or a test server). */
  baseUrl?: string;
  /** Keep the downloaded archives after unpacking (default: delete them; their digests stay in fetched.json). */
  keepArchives?: boolean;
  onProgress?: (p: DownloadProgress) => void;
  log?: (msg: string) => void;
  signal?: AbortSignal;
  /** Replaces the shipped manifest (tests). */
  targets?: Readonly<Record<string, DatasetTarget>>;
  retryDelayMs?: number;
}

export interface FetchedFile {
  name: string;
  url: string;
  size: number;
  sha256: string;
  /** How the file was verified: against the recorded sha256, or only size + archive CRCs (+ JSON parse). */
  verified: 'sha256' | 'size+crc';
  downloaded: boolean;
  resumed: number;
  refetched: number;
}

export interface FetchReport {
  target: TargetId;
  folder: string;
  files: FetchedFile[];
  /** data.json files written or updated. */
  dataJson: string[];
}

interface FetchedLog {
  [name: string]: { url: string; size: number; sha256: string; recorded: boolean; at: string };
}

function readFetchedLog(dir: string): FetchedLog {
  const p = join(dir, 'fetched.json');
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as FetchedLog;
  } catch {
    return {};
  }
}

function unpacked(folder: string, f: RemoteFile): boolean {
  return f.yields.every((y) => existsSync(join(folder, y)));
}

/** Parse what was unpacked: a JSON file cut short or garbled inside a (CRC-valid) archive is caught here too. */
function validate(folder: string, f: RemoteFile): void {
  for (const y of f.yields) {
    const p = join(folder, y);
    if (/questions\.json$/.test(y)) loadVqaQuestions(p);
    else if (/annotations\.json$/.test(y)) loadVqaAnnotations(p);
    else if (/^aokvqa_v1p0_\w+\.json$/.test(y)) loadAokvqaRecords(p);
    else if (y.endsWith('.json')) JSON.parse(readFileSync(p, 'utf8'));
  }
}

export async function fetchDataset(id: TargetId, opts: FetchOptions): Promise<FetchReport> {
  const target = (opts.targets ?? DATASET_TARGETS)[id];
  if (!target) throw new Error(`unknown data target "${id}" (known: ${Object.keys(opts.targets ?? DATASET_TARGETS).join(', ')})`);
  const log = opts.log ?? (() => {});
  const folder = join(opts.dir, target.folder);
  const downloads = join(opts.dir, 'downloads');
  mkdirSync(folder, { recursive: true });
  mkdirSync(downloads, { recursive: true });
  const fetched = readFetchedLog(opts.dir);
  const files: FetchedFile[] = [];
  for (const f of target.files) {
    const url = opts.baseUrl ? `${opts.baseUrl.replace(/\/+$/, '')}/${f.name}` : f.url;
    const into = f.into ? join(folder, f.into) : folder;
    const prior = fetched[f.name];
    if (prior && unpacked(folder, f) && !existsSync(join(downloads, f.name))) {
      log(`${f.name}: already fetched and unpacked (sha256 ${prior.sha256})`);
      files.push({ name: f.name, url, size: prior.size, sha256: prior.sha256, verified: prior.recorded ? 'sha256' : 'size+crc', downloaded: false, resumed: 0, refetched: 0 });
      continue;
    }
    const archive = join(downloads, f.name);
    let result: Awaited<ReturnType<typeof downloadFile>> | undefined;
    let refetchedForUnpack = 0;
    for (let attempt = 0; ; attempt++) {
      const dl: Parameters<typeof downloadFile>[2] = { log };
      if (f.size !== undefined) dl.size = f.size;
      if (f.sha256) dl.sha256 = f.sha256;
      if (opts.onProgress) dl.onProgress = opts.onProgress;
      if (opts.signal) dl.signal = opts.signal;
      if (opts.retryDelayMs !== undefined) dl.retryDelayMs = opts.retryDelayMs;
      result = await downloadFile(url, archive, dl);
      try {
        if (f.unpack === 'zip') await unpackZip(archive, into, f.members ? { members: f.members } : {});
        else if (f.unpack === 'tar.gz') await unpackTarGz(archive, into, f.members ? { members: f.members } : {});
        if (!unpacked(folder, f)) throw new UnpackError(`${archive} did not contain ${f.yields.filter((y) => !existsSync(join(folder, y))).join(', ')}`);
        break;
      } catch (err) {
        if (!(err instanceof UnpackError) || attempt >= 1) throw err;
        log(`${f.name}: ${err.message}; fetching it again`);
        rmSync(archive, { force: true });
        refetchedForUnpack++;
      }
    }
    validate(folder, f);
    fetched[f.name] = { url, size: result.size, sha256: result.sha256, recorded: !!f.sha256, at: new Date().toISOString() };
    writeFileSync(join(opts.dir, 'fetched.json'), JSON.stringify(fetched, null, 2) + '\n');
    if (!opts.keepArchives && f.unpack !== 'none') rmSync(archive, { force: true });
    files.push({
      name: f.name,
      url,
      size: result.size,
      sha256: result.sha256,
      verified: f.sha256 ? 'sha256' : 'size+crc',
      downloaded: result.downloaded,
      resumed: result.resumed,
      refetched: result.refetched + refetchedForUnpack,
    });
  }
  return { target: id, folder, files, dataJson: writeDataJsons(opts.dir) };
}

/** Write `data.json` for every dataset fetched under `dir`, naming the COCO files fetched so far. Returns their paths. */
export function writeDataJsons(dir: string): string[] {
  const out: string[] = [];
  const has = (p: string) => existsSync(join(dir, p));
  const trainCaptions = has('coco/annotations/captions_train2014.json') ? '../coco/annotations/captions_train2014.json' : undefined;
  if (has('okvqa/OpenEnded_mscoco_val2014_questions.json') && has('okvqa/mscoco_val2014_annotations.json')) {
    const spec: Record<string, unknown> = {
      dataset: 'okvqa',
      questions: 'OpenEnded_mscoco_val2014_questions.json',
      annotations: 'mscoco_val2014_annotations.json',
    };
    if (has('coco/val2014')) spec.images = '../coco/val2014';
    if (has('okvqa/OpenEnded_mscoco_train2014_questions.json') && has('okvqa/mscoco_train2014_annotations.json')) {
      const examples: Record<string, string> = {
        questions: 'OpenEnded_mscoco_train2014_questions.json',
        annotations: 'mscoco_train2014_annotations.json',
      };
      if (trainCaptions) examples.captions = trainCaptions;
      spec.examples = examples;
    }
    const p = join(dir, 'okvqa', 'data.json');
    writeFileSync(p, JSON.stringify(spec, null, 2) + '\n');
    out.push(p);
  }
  if (has('aokvqa/aokvqa_v1p0_val.json')) {
    const spec: Record<string, unknown> = { dataset: 'aokvqa', questions: 'aokvqa_v1p0_val.json' };
    // A-OKVQA uses COCO 2017 images: val2017 (not fetched by this command) if present.
    if (has('coco/val2017')) spec.images = '../coco/val2017';
    if (has('aokvqa/aokvqa_v1p0_train.json')) {
      const examples: Record<string, string> = { questions: 'aokvqa_v1p0_train.json' };
      if (trainCaptions) examples.captions = trainCaptions;
      spec.examples = examples;
    }
    const p = join(dir, 'aokvqa', 'data.json');
    writeFileSync(p, JSON.stringify(spec, null, 2) + '\n');
    out.push(p);
  }
  return out;
}
