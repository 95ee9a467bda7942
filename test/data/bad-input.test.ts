/**
 * Bad input (issue 10): each gives a clear error naming the input; where it concerns one question the batch goes on.
 * (Stored IVF blobs and KBs without the pipeline's embedding model: test/knowledge/identity.test.ts.)
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Sample } from '../../src/core/artifacts.js';
import { runPipeline as runBatch } from '../../src/answerer.js';
import { Cache } from '../../src/core/cache.js';
import { compilePipeline } from '../../src/core/graph.js';
import { StageRegistry } from '../../src/core/registry.js';
import { defineStage } from '../../src/core/stage.js';
import { loadAokvqa } from '../../src/data/aokvqa.js';
import { loadCaptions } from '../../src/data/captions.js';
import { loadOkvqa } from '../../src/data/okvqa.js';
import { scorePredictionFiles } from '../../src/eval/score-files.js';
import { loadImage, sampleImagePath } from '../../src/image/load.js';
import { testContext } from '../helpers/context.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ROOT = join(import.meta.dirname, '..', '..');
const COFFEE = join(ROOT, 'test', 'fixtures', 'images', 'coffee.png');

const file = (name: string, content: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

describe('JSON and text files', () => {
  it('non-UTF-8 bytes are an error naming the file and the byte, never replaced silently', () => {
    const latin1 = Buffer.concat([
      Buffer.from('{"questions": [{"image_id": 1, "question_id": 2, "question": "Qu'),
      Buffer.from([0xe9]), // "é" in Latin-1
      Buffer.from(' est-ce?"}]}'),
    ]);
    const q = file('latin1_questions.json', latin1);
    const at = latin1.indexOf(0xe9);
    expect(() => loadOkvqa(q)).toThrow(new RegExp(`latin1_questions\\.json: not UTF-8 text: invalid byte 0xe9 at byte ${at} \\(line 1, column ${at + 1}\\)`));
    const tsv = file('captions.tsv', Buffer.concat([Buffer.from('1\t[{"caption": "caf'), Buffer.from([0xe9, 0x22, 0x7d, 0x5d, 0x0a])]));
    expect(() => loadCaptions(tsv)).toThrow(/captions\.tsv: not UTF-8 text/);
  });

  it('malformed JSON names the file, line and column; a truncated file says so', () => {
    const q = file('broken.json', '{\n  "questions": [\n    {"image_id": 1, "question_id": 2 "question": "x"}\n  ]\n}\n');
    expect(() => loadOkvqa(q)).toThrow(/broken\.json:3: not valid JSON: .* \(line 3, column \d+\)/);
    const t = file('truncated.json', '{"questions": [{"image_id": 1, "question_id": 2, "question": "x"}');
    expect(() => loadOkvqa(t)).toThrow(/truncated\.json.*not valid JSON/);
    expect(() => loadOkvqa(file('empty.json', '  \n'))).toThrow(/empty\.json: not valid JSON: the file is empty/);
  });

  it('duplicate question ids (OK-VQA and A-OKVQA) name the file and the record', () => {
    const q = file('dup_q.json', JSON.stringify({ questions: [{ image_id: 1, question_id: 5, question: 'a' }, { image_id: 2, question_id: 5, question: 'b' }] }));
    expect(() => loadOkvqa(q)).toThrow(/dup_q\.json: field "questions\.1\.question_id": duplicate question_id 5/);
    const rec = (id: string) => ({ image_id: 1, question_id: id, question: 'q', choices: ['a', 'b'], correct_choice_idx: 0, direct_answers: ['a'] });
    const a = file('dup_aokvqa.json', JSON.stringify([rec('x1'), rec('x2'), rec('x1')]));
    expect(() => loadAokvqa(a)).toThrow(/dup_aokvqa\.json: field "\[2\]\.question_id": duplicate question_id "x1" \(also record 0\)/);
  });

  it('predictions for unknown or repeated ids name the predictions file', () => {
    const anns = file('anns.json', JSON.stringify({ annotations: [{ image_id: 1, question_id: 1, answers: Array(10).fill({ answer: 'a' }) }] }));
    const extra = file('preds_extra.json', JSON.stringify([{ question_id: 1, answer: 'a' }, { question_id: 99, answer: 'b' }]));
    expect(() => scorePredictionFiles(anns, extra)).toThrow(/preds_extra\.json against .*anns\.json: .*1 predicted question\(s\) are not annotated \(99\)/);
    const dup = file('preds_dup.json', JSON.stringify([{ question_id: 1, answer: 'a' }, { question_id: 1, answer: 'b' }]));
    expect(() => scorePredictionFiles(anns, dup)).toThrow(/preds_dup\.json: field "\[1\]": duplicate prediction for question_id 1 \(also entry 0\)/);
  });
});

describe('cache database', () => {
  it('a file that is not a database is refused with its path and the fix, in every mode', () => {
    const p = file('garbage.sqlite', Buffer.from('this is not sqlite at all, just some bytes '.repeat(200)));
    for (const mode of ['rw', 'ro', 'replay'] as const) {
      expect(() => new Cache(p, mode)).toThrow(/cache .*garbage\.sqlite is damaged or not an SQLite database .*move it away or delete it/);
    }
  });

  it('a cache file cut short is reported with its path when it is read', () => {
    const p = join(dir, 'cut.sqlite');
    const c = new Cache(p, 'rw');
    for (let i = 0; i < 3000; i++) c.put(`key-${i}`, 'l', { text: 'x'.repeat(200), i });
    c.close();
    writeFileSync(p, readFileSync(p).subarray(0, 64 * 1024));
    const read = () => {
      const r = new Cache(p, 'ro');
      try {
        for (let i = 0; i < 3000; i += 7) r.get(`key-${i}`);
      } finally {
        r.close();
      }
    };
    expect(read).toThrow(/cache .*cut\.sqlite is damaged or not an SQLite database .*move it away/);
  });

  it('a cache from another okvqa version (layout version) or of another layout is refused, not overwritten', () => {
    const newer = join(dir, 'newer.sqlite');
    const db = new Database(newer);
    db.exec('CREATE TABLE entries (key TEXT PRIMARY KEY, label TEXT NOT NULL, value TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID');
    db.pragma('user_version = 7');
    db.close();
    expect(() => new Cache(newer, 'rw')).toThrow(/cache .*newer\.sqlite has layout version 7, this okvqa reads version 1/);
    expect(() => new Cache(newer, 'ro')).toThrow(/layout version 7/);
    const other = join(dir, 'other.sqlite');
    const db2 = new Database(other);
    db2.exec('CREATE TABLE entries (k TEXT, v BLOB)');
    db2.close();
    expect(() => new Cache(other, 'rw')).toThrow(/other\.sqlite has an entries table of another layout \(k, v\)/);
    const kb = join(dir, 'not-a-cache.sqlite');
    const db3 = new Database(kb);
    db3.exec('CREATE TABLE entities (id TEXT)');
    db3.close();
    expect(() => new Cache(kb, 'rw')).toThrow(/not-a-cache\.sqlite is an SQLite file but not an okvqa cache/);
    // a good cache gets the current layout version and keeps working
    const good = join(dir, 'good.sqlite');
    const c = new Cache(good, 'rw');
    c.put('k', 'l', { a: 1 });
    c.close();
    const r = new Cache(good, 'ro');
    expect(r.get('k')).toEqual({ a: 1 });
    r.close();
  });
});

/** A PNG that declares width × height but carries a single tiny IDAT: the header is all a size check needs. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('images in a batch: one bad image fails its question only', () => {
  it('missing, truncated and 30,000 × 30,000 images are errors naming the file; the other questions are answered', async () => {
    const truncated = file('truncated.png', readFileSync(COFFEE).subarray(0, 20_000));
    const huge = file('huge.png', pngHeaderOnly(30_000, 30_000));
    const size = defineStage({
      id: 'answer.image-size',
      version: '1',
      description: 'answers the width of the decoded image',
      inputs: { sample: { kind: 'sample' } },
      output: 'answer',
      params: z.strictObject({}),
      cache: false,
      async run({ sample }, _p, ctx) {
        const img = await loadImage(ctx, sampleImagePath(sample));
        return { answer: String(img.width) };
      },
    });
    const pipeline = compilePipeline(
      { name: 'img', file: 'img.yaml', output: 'answer', config: {}, origin: {}, files: [], nodes: { answer: { use: 'answer.image-size' } } },
      new StageRegistry([size]),
    );
    const q = (id: number, imagePath: string): Sample => ({ dataset: 'okvqa', questionId: String(id), imageId: id, question: 'how wide?', imagePath });
    const samples = [q(1, COFFEE), q(2, join(dir, 'nope.jpg')), q(3, truncated), q(4, huge), q(5, COFFEE)];
    const rssBefore = process.memoryUsage().rss;
    const out = join(dir, 'run');
    const s = await runBatch({ pipeline, samples, ctx: testContext(), outDir: out, concurrency: 2 });
    // 30,000² RGB would be 2.7 GB decoded: it was refused from the header.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(500 * 1024 * 1024);
    expect(s.ok).toBe(2);
    expect(s.failed).toBe(3);
    const msg = (id: string) => s.failures.find((f) => f.questionId === id)!.message;
    expect(msg('2')).toMatch(/nope\.jpg: image file not found/);
    expect(msg('3')).toMatch(/truncated\.png: (truncated or corrupt|not an image)/);
    expect(msg('4')).toMatch(/huge\.png: image dimensions 30000x30000 exceed the limits/);
    const trace = readFileSync(join(out, 'trace.jsonl'), 'utf8').trim().split('\n');
    expect(trace).toHaveLength(5);
  });
});
