/**
 * Any-image answering with data that names captions/tags files (issue 17): a node that reads captions or tags from a
 * file falls back per image to the model stage when the file does not cover the image, and the result's notes say so —
 * for answer(), `okvqa ask` and `okvqa serve` alike. Tiny random models, offline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAnswerer } from '../../src/answerer.js';
import { cleanEnv, okvqa, repoRoot } from '../helpers/cli.js';

const REVIVE = join(repoRoot, 'assets/demo');
const COFFEE = join(repoRoot, 'test/fixtures/images/coffee.png');
const ASTRONAUT = join(repoRoot, 'test/fixtures/images/astronaut.png');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-fallback-'));

// The REVIVE fixture's data (its captions file covers COCO ids 1 and 2) plus a tags file covering image 2 only.
const data = join(tmp, 'data.json');
writeFileSync(join(tmp, 'tags.tsv'), `2\t${JSON.stringify([{ class: 'helmet', conf: 0.9 }, { class: 'suit', conf: 0.8 }])}\n`);
const d = JSON.parse(readFileSync(join(REVIVE, 'data.json'), 'utf8'));
for (const k of ['questions', 'annotations', 'images', 'captions', 'knowledge']) d[k] = join(REVIVE, d[k]);
for (const k of Object.keys(d.examples)) d.examples[k] = join(REVIVE, d.examples[k]);
d.tags = join(tmp, 'tags.tsv');
writeFileSync(data, JSON.stringify(d));

let child: ChildProcess | undefined;
afterAll(() => void child?.kill('SIGTERM'));

describe('per-image fallback from caption/tag files to the model stages', () => {
  it('answer(): an upload falls back to caption.model and tags.clip; an image the files cover reads them', async () => {
    const qa = createAnswerer({ pipeline: 'pica-base', data, profile: 'tiny', config: { models: { offline: true }, cache: { mode: 'off' } } });
    try {
      expect(qa.adaptations.map((a) => `${a.node}:${a.from}->${a.to}`)).toEqual(['captions:caption.file->caption.auto', 'tags:tags.file->tags.auto']);
      const up = await qa.answer({ image: COFFEE, question: 'What is in the cup?' });
      expect(up.error).toBeUndefined();
      expect(up.ok).toBe(true);
      expect(up.captions[0]!.source).toBe('model:okvqa-tiny/captioner');
      expect(up.notes.captions).toMatchObject({ captionSource: 'model', fallback: expect.stringMatching(/does not cover this image: captioned by caption\.model/) });
      expect(up.notes.tags).toMatchObject({ tagSource: 'model', fallback: expect.stringMatching(/does not cover this image: whole-image tags from tags\.clip/) });
      expect(up.tags.length).toBeGreaterThan(0);
      // COCO id 2: both files cover it, so nothing falls back
      const known = await qa.answer({ image: ASTRONAUT, imageId: 2, question: 'What is she holding?' });
      expect(known.ok).toBe(true);
      expect(known.captions.map((c) => c.text)).toEqual(['a woman in an orange space suit holding a helmet.']);
      expect(known.tags.map((t) => t.label)).toEqual(['helmet', 'suit']);
      expect(known.notes.captions).toEqual({ captionSource: 'file' });
      expect(known.notes.tags).toEqual({ tagSource: 'file' });
      // COCO id 1: captioned from the file, but the tags file lacks it → CLIP tags for that image alone
      const partial = await qa.answer({ image: COFFEE, imageId: 1, question: 'What is in the cup?' });
      expect(partial.notes.captions).toEqual({ captionSource: 'file' });
      expect(partial.notes.tags).toMatchObject({ tagSource: 'model' });
    } finally {
      await qa.close();
    }
  }, 120_000);

  it('okvqa ask --pipeline pica-base-caption --data D (D names a captions file) answers a photo the file lacks', () => {
    const r = okvqa(['ask', COFFEE, 'What is in the cup?', '--pipeline', 'pica-base-caption', '--data', data, '--profile', 'tiny', '--json', '--set', 'cache.mode=off']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/node "captions" uses caption\.auto instead of caption\.file/);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(true);
    expect(out.notes.captions.fallback).toMatch(/captioned by caption\.model/);
  }, 120_000);

  it('okvqa serve: an uploaded photo is captioned by the model, and the notes say so', async () => {
    const url = await new Promise<string>((resolve, reject) => {
      let log = '';
      child = spawn(process.execPath, [join(repoRoot, 'bin', 'okvqa.js'), 'serve', '--port', '0', '--pipeline', 'pica-base-caption', '--data', data, '--profile', 'tiny'], {
        cwd: repoRoot,
        env: { ...cleanEnv(), OKVQA_CACHE_PATH: ':memory:' },
      });
      const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${log}`)), 60_000);
      child.stderr!.on('data', (b) => {
        log += b;
        const m = /at (http:\/\/\S+\/)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${log}`)));
    });
    const form = new FormData();
    form.set('image', new Blob([readFileSync(COFFEE)], { type: 'image/png' }), 'coffee.png');
    form.set('question', 'What is in the cup?');
    const res = await fetch(new URL('/api/answer', url), { method: 'POST', body: form });
    const body = (await res.json()) as { answer: string | null; error?: unknown; captions: { source: string }[]; notes: Record<string, Record<string, unknown>> };
    expect(res.status).toBe(200);
    expect(body.error).toBeUndefined();
    expect(body.captions[0]!.source).toBe('model:okvqa-tiny/captioner');
    expect(body.notes.captions!.fallback).toMatch(/captioned by caption\.model/);
  }, 120_000);
});
