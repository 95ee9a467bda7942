/**
 * `okvqa export fid` on a hand-made run folder: the reader node's params decide the token ids (template, textMaxLength,
 * appendEos, maxPassages), passages keep the text the reader read, `--target majority` only when asked, region rows are
 * what reader.fid projects (CLIP embedding ‖ normalised box).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Passage, Region } from '../../src/core/artifacts.js';
import { resolveConfig } from '../../src/core/config.js';
import { packagePaths } from '../../src/core/paths.js';
import { loadDataFile } from '../../src/data/data-file.js';
import { exportFid } from '../../src/export/fid.js';
import { loadExportTokenizer } from '../../src/export/fid-tokenizer.js';

const root = packagePaths().root;
const data = loadDataFile(join(root, 'assets', 'demo', 'data.json'));
const dir = mkdtempSync(join(tmpdir(), 'okvqa-export-fid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const explicit: Passage = { text: 'title: cup context: cup is a container', title: 'cup', body: 'cup is a container', score: 0.5, source: 'kb' };
const implicit: Passage = { text: 'candidate: coffee evidence: it is brown', title: 'coffee', body: 'it is brown', score: 0.9, source: 'implicit' };
const region = (id: number, emb: number[] | undefined): Region => ({
  id, source: 'detector', label: 'cup', box: { xmin: 10, ymin: 20, xmax: 110, ymax: 220 }, image: { width: 200, height: 400 }, ...(emb ? { embedding: emb } : {}),
});

function runFolder(name: string, params: Record<string, unknown>, regions: Region[]): string {
  const d = join(dir, name);
  const manifest = {
    pipeline: { output: 'answer' },
    nodes: [{ name: 'answer', stage: 'reader.fid', params, inputs: { passages: ['ents', 'imp'], regions: ['regs'] } }],
  };
  const rec = (qid: string) => ({ questionId: qid, ok: true, nodes: { ents: { output: [explicit, explicit] }, imp: { output: [implicit] }, regs: { output: regions } } });
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(d, 'trace.jsonl'), ['20', '10'].map((q) => JSON.stringify(rec(q))).join('\n') + '\n' + JSON.stringify({ questionId: '11', ok: false, nodes: {} }) + '\n');
  return d;
}
describe('export fid', () => {
  it('passages as the reader read them, no target unless asked, token ids by the run reader params, region rows', async () => {
    const emb = Array.from({ length: 16 }, (_, i) => i / 16);
    const kat = runFolder('kat', { template: 'question: {question} {passage}', textMaxLength: 64, appendEos: false }, [region(0, emb), region(1, emb)]);
    const tok = await loadExportTokenizer(resolveConfig({ overrides: { models: { profile: 'tiny', offline: true }, cache: { mode: 'off' } }, env: {} }));
    try {
      const r = exportFid(kat, { data, tokenizer: { tokenizer: tok.tokenizer }, regions: true });
      expect(r.skipped).toBe(1);
      expect(r.examples.map((e) => e.id)).toEqual(['10', '20']); // the data file's order, not the trace's
      const e = r.examples[0]!;
      expect(e.target).toBeUndefined();
      expect(e.ctxs).toEqual([
        { title: 'cup', text: 'cup is a container', score: 0.5 },
        { title: 'cup', text: 'cup is a container', score: 0.5 },
        { text: 'candidate: coffee evidence: it is brown', score: 0.9 },
      ]);
      const enc = (t: string) => tok.tokenizer.tokenizer.encode(t, { add_special_tokens: false }) as number[];
      expect(e.passage_ids).toEqual([explicit, explicit, implicit].map((p) => enc(`question: What is in the cup? ${p.text}`)));
      expect(e.answer_ids![0]).toEqual([...enc('coffee'), 1]);
      expect(e.regions).toEqual([[...emb, 0.05, 0.05, 0.55, 0.55], [...emb, 0.05, 0.05, 0.55, 0.55]]);
      expect(exportFid(kat, { data, target: 'majority' }).examples[0]!.target).toBe('coffee');

      // another reader configuration: its own template, 8 tokens with EOS, the first 2 passages
      const other = runFolder('other', { template: '{passage} || {question}', textMaxLength: 8, appendEos: true, maxPassages: 2 }, []);
      const o = exportFid(other, { data, tokenizer: { tokenizer: tok.tokenizer }, regions: true }).examples[0]!;
      expect(o.ctxs).toHaveLength(2);
      expect(o.passage_ids).toEqual([explicit, explicit].map((p) => [...enc(`${p.text} || What is in the cup?`).slice(0, 7), 1]));
      expect(o.regions).toEqual([]);

      const noEmb = runFolder('no-emb', {}, [region(0, undefined)]);
      expect(() => exportFid(noEmb, { data, regions: true })).toThrow(/question 20: some regions have no CLIP embedding/) // the first in the trace;
    } finally {
      await tok.close();
    }
  });
});
