/**
 * `okvqa data fetch` against a loopback HTTP server (127.0.0.1) serving small fixture archives: resume with HTTP Range
 * after a dropped connection or an interrupted process, corrupt and truncated downloads detected and fetched again,
 * unpacking (zip, tar.gz), data.json written and loadable; the CLI end to end.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import { downloadFile } from '../../src/data/fetch/download.js';
import { fetchDataset, writeDataJsons } from '../../src/data/fetch/fetch.js';
import { DATASET_TARGETS, type DatasetTarget } from '../../src/data/fetch/manifest.js';
import { cleanEnv } from '../helpers/cli.js';
import { FileServer, makeZip } from './file-server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-fetch-'));
const server = new FileServer();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const questions = (split: string, ids: number[]) =>
  JSON.stringify({ data_subtype: split, questions: ids.map((id) => ({ image_id: id * 10, question_id: id, question: `what is thing ${id}?` })) });
const annotations = (ids: number[]) =>
  JSON.stringify({ annotations: ids.map((id) => ({ image_id: id * 10, question_id: id, answers: Array.from({ length: 10 }, () => ({ answer: `t${id}` })) })) });
// OK-VQA's four official zips, each holding its one JSON file (small stand-ins with the real names and layout).
const okvqaZips: Record<string, Buffer> = {
  'OpenEnded_mscoco_val2014_questions.json.zip': makeZip({ 'OpenEnded_mscoco_val2014_questions.json': questions('val2014', [1, 2, 3]) }),
  'mscoco_val2014_annotations.json.zip': makeZip({ 'mscoco_val2014_annotations.json': annotations([1, 2, 3]) }),
  'OpenEnded_mscoco_train2014_questions.json.zip': makeZip({ 'OpenEnded_mscoco_train2014_questions.json': questions('train2014', [7, 8]) }),
  'mscoco_train2014_annotations.json.zip': makeZip({ 'mscoco_train2014_annotations.json': annotations([7, 8]) }),
};
// A bigger archive for the transfer tests (a dropped connection mid-way needs something to drop).
const big = makeZip({ 'annotations/captions_train2014.json': JSON.stringify({ annotations: Array.from({ length: 4000 }, (_, i) => ({ image_id: i, id: i, caption: `caption number ${i} of a fixture` })) }), 'annotations/captions_val2014.json': '{"annotations": []}', 'annotations/instances_train2014.json': '{}' });

/** A manifest target for `big` with its recorded size and sha256 (like the COCO entries). */
function bigTarget(name: string): Record<string, DatasetTarget> {
  return {
    'coco-captions': {
      ...DATASET_TARGETS['coco-captions'],
      files: [{ ...DATASET_TARGETS['coco-captions'].files[0]!, name, url: `unused`, size: big.length, sha256: sha(big) }],
    },
  };
}

beforeAll(async () => {
  await server.start();
  for (const [n, b] of Object.entries(okvqaZips)) server.files.set(n, b);
  const aok = join(tmp, 'aok-src');
  mkdirSync(aok, { recursive: true });
  const rec = (id: string, split: string) => ({ split, image_id: 5, question_id: id, question: 'what?', choices: ['a', 'b', 'c', 'd'], correct_choice_idx: 1, direct_answers: Array(10).fill('b'), difficult_direct_answer: false, rationales: ['r'] });
  writeFileSync(join(aok, 'aokvqa_v1p0_train.json'), JSON.stringify([rec('t1', 'train'), rec('t2', 'train')]));
  writeFileSync(join(aok, 'aokvqa_v1p0_val.json'), JSON.stringify([rec('v1', 'val')]));
  writeFileSync(join(aok, 'aokvqa_v1p0_test.json'), JSON.stringify([{ ...rec('x1', 'test'), correct_choice_idx: undefined, direct_answers: undefined }]));
  await tar.c({ gzip: true, file: join(tmp, 'aokvqa_v1p0.tar.gz'), cwd: aok }, ['aokvqa_v1p0_train.json', 'aokvqa_v1p0_val.json', 'aokvqa_v1p0_test.json']);
  server.files.set('aokvqa_v1p0.tar.gz', readFileSync(join(tmp, 'aokvqa_v1p0.tar.gz')));
});
afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('downloads', () => {
  it('a connection dropped mid-way resumes with an HTTP Range request; size and sha256 verified', async () => {
    server.files.set('drop.zip', big);
    server.misbehave.set('drop.zip', 'drop-once');
    const dir = join(tmp, 'drop');
    const logs: string[] = [];
    const r = await fetchDataset('coco-captions', { dir, baseUrl: server.baseURL, targets: bigTarget('drop.zip'), log: (m) => logs.push(m), retryDelayMs: 10 });
    expect(r.files[0]).toMatchObject({ resumed: 1, refetched: 0, size: big.length, sha256: sha(big), verified: 'sha256' });
    const reqs = server.requests.filter((q) => q.name === 'drop.zip');
    expect(reqs[0]!.range).toBeUndefined();
    expect(reqs[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(Number(reqs[1]!.range!.slice(6, -1))).toBeGreaterThan(0);
    expect(logs.join('\n')).toMatch(/connection dropped at \d+ bytes.*resuming/);
    expect(JSON.parse(readFileSync(join(dir, 'coco', 'annotations', 'captions_train2014.json'), 'utf8')).annotations).toHaveLength(4000);
    // only the members the manifest asks for are unpacked; the archive is removed, its digest kept
    expect(existsSync(join(dir, 'coco', 'annotations', 'instances_train2014.json'))).toBe(false);
    expect(existsSync(join(dir, 'downloads', 'drop.zip'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'fetched.json'), 'utf8'))['drop.zip']).toMatchObject({ sha256: sha(big), recorded: true });
  });

  it('a partial file left by an interrupted run is resumed from its size', async () => {
    server.files.set('partial.zip', big);
    const dir = join(tmp, 'partial');
    mkdirSync(join(dir, 'downloads'), { recursive: true });
    writeFileSync(join(dir, 'downloads', 'partial.zip.part'), big.subarray(0, 12_345));
    const r = await fetchDataset('coco-captions', { dir, baseUrl: server.baseURL, targets: bigTarget('partial.zip') });
    expect(server.requests.filter((q) => q.name === 'partial.zip')).toEqual([{ name: 'partial.zip', range: 'bytes=12345-' }]);
    expect(r.files[0]).toMatchObject({ resumed: 1, sha256: sha(big) });
  });

  it('a corrupt download (sha256 mismatch) is detected and fetched again', async () => {
    server.files.set('corrupt.zip', big);
    server.misbehave.set('corrupt.zip', 'corrupt-once');
    const logs: string[] = [];
    const r = await fetchDataset('coco-captions', { dir: join(tmp, 'corrupt'), baseUrl: server.baseURL, targets: bigTarget('corrupt.zip'), log: (m) => logs.push(m) });
    expect(r.files[0]).toMatchObject({ refetched: 1, sha256: sha(big) });
    expect(logs.join('\n')).toMatch(/corrupt.zip: download is corrupt \(sha256 \w+ does not match the recorded/);
    expect(server.requests.filter((q) => q.name === 'corrupt.zip')).toHaveLength(2);
  });

  it('without a recorded digest, a corrupt archive is caught by its CRCs/structure and fetched again', async () => {
    const name = 'OpenEnded_mscoco_val2014_questions.json.zip';
    const dir = join(tmp, 'crc');
    server.misbehave.set(name, 'corrupt-once');
    const logs: string[] = [];
    try {
      const r = await fetchDataset('okvqa', { dir, baseUrl: server.baseURL, log: (m) => logs.push(m) });
      expect(r.files.find((f) => f.name === name)).toMatchObject({ refetched: 1, verified: 'size+crc', sha256: sha(okvqaZips[name]!) });
      expect(logs.join('\n')).toMatch(new RegExp(`${name.replace(/\./g, '\\.')}: .*(corrupt|damaged|not a readable zip).*; fetching it again`));
    } finally {
      server.misbehave.delete(name);
    }
  });

  it('an archive already on disk that is truncated is detected and fetched again; one that stays corrupt is an error', async () => {
    server.files.set('trunc.bin', big);
    const dest = join(tmp, 'trunc', 'trunc.bin');
    mkdirSync(join(tmp, 'trunc'), { recursive: true });
    writeFileSync(dest, big.subarray(0, 1000));
    const logs: string[] = [];
    const r = await downloadFile(`${server.baseURL}/trunc.bin`, dest, { size: big.length, sha256: sha(big), log: (m) => logs.push(m) });
    expect(r).toMatchObject({ downloaded: true, size: big.length });
    expect(logs[0]).toMatch(/trunc\.bin is damaged \(truncated: 1000 bytes, expected \d+\): fetching it again/);
    expect(sha(readFileSync(dest))).toBe(sha(big));
    server.files.set('bad.bin', big);
    server.misbehave.set('bad.bin', 'corrupt-always');
    await expect(downloadFile(`${server.baseURL}/bad.bin`, join(tmp, 'trunc', 'bad.bin'), { size: big.length, sha256: sha(big) })).rejects.toThrow(
      /bad\.bin: the download is corrupt again \(sha256 .* does not match the recorded/,
    );
  });

  it('a server that ignores Range restarts the file instead of appending to it', async () => {
    server.files.set('norange.zip', big);
    server.misbehave.set('norange.zip', 'no-range');
    const dir = join(tmp, 'norange');
    mkdirSync(join(dir, 'downloads'), { recursive: true });
    writeFileSync(join(dir, 'downloads', 'norange.zip.part'), big.subarray(0, 5000));
    const r = await fetchDataset('coco-captions', { dir, baseUrl: server.baseURL, targets: bigTarget('norange.zip') });
    expect(r.files[0]).toMatchObject({ resumed: 0, sha256: sha(big) });
  });
});

describe('data.json', () => {
  it('names the COCO captions for the example pool and the val images once they are fetched', () => {
    const dir = join(tmp, 'dj');
    mkdirSync(join(dir, 'okvqa'), { recursive: true });
    for (const f of ['OpenEnded_mscoco_val2014_questions.json', 'mscoco_val2014_annotations.json', 'OpenEnded_mscoco_train2014_questions.json', 'mscoco_train2014_annotations.json']) {
      writeFileSync(join(dir, 'okvqa', f), '{}');
    }
    writeDataJsons(dir);
    expect(JSON.parse(readFileSync(join(dir, 'okvqa', 'data.json'), 'utf8'))).toEqual({
      dataset: 'okvqa', questions: 'OpenEnded_mscoco_val2014_questions.json', annotations: 'mscoco_val2014_annotations.json',
      examples: { questions: 'OpenEnded_mscoco_train2014_questions.json', annotations: 'mscoco_train2014_annotations.json' },
    });
    mkdirSync(join(dir, 'coco', 'annotations'), { recursive: true });
    mkdirSync(join(dir, 'coco', 'val2014'), { recursive: true });
    writeFileSync(join(dir, 'coco', 'annotations', 'captions_train2014.json'), '{}');
    writeDataJsons(dir);
    const spec = JSON.parse(readFileSync(join(dir, 'okvqa', 'data.json'), 'utf8'));
    expect(spec.images).toBe('../coco/val2014');
    expect(spec.examples.captions).toBe('../coco/annotations/captions_train2014.json');
  });
});

function okvqa(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'okvqa.js'), ...args], { cwd: tmp, env: { ...cleanEnv(), ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('okvqa data fetch (CLI)', () => {
  it('fetches OK-VQA and A-OKVQA from a mirror, unpacks them and writes data.json a run can load; a rerun fetches nothing', async () => {
    const dir = join(tmp, 'cli');
    const env = { OKVQA_DATA_BASE_URL: server.baseURL };
    const r = await okvqa(['data', 'fetch', 'okvqa', 'aokvqa', '--dir', dir, '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const reports = JSON.parse(r.stdout);
    expect(reports.map((x: { target: string }) => x.target)).toEqual(['okvqa', 'aokvqa']);
    expect(reports[0].files).toHaveLength(4);
    const okSamples = loadSamples(loadDataFile(join(dir, 'okvqa', 'data.json')));
    expect(okSamples.map((s) => [s.questionId, s.answers![0]])).toEqual([['1', 't1'], ['2', 't2'], ['3', 't3']]);
    const aData = loadDataFile(join(dir, 'aokvqa', 'data.json'));
    expect(loadSamples(aData).map((s) => s.questionId)).toEqual(['v1']);
    expect(aData.examples?.questions).toMatch(/aokvqa_v1p0_train\.json$/);
    const before = server.requests.length;
    const again = await okvqa(['data', 'fetch', 'okvqa', '--dir', dir], env);
    expect(again.code).toBe(0);
    expect(server.requests.length).toBe(before);
    expect(again.stderr).toMatch(/already fetched and unpacked/);
    const bad = await okvqa(['data', 'fetch', 'coco', '--dir', dir], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown data target "coco": use okvqa, aokvqa, coco-captions, coco-val-images/);
  }, 60_000);
});
