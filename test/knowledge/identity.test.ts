/**
 * Cache identity by content (issue 10): change the thing, the stale result is not served. Knowledge bases (build id +
 * content version), stored IVF indexes (bound to their exact vectors), model folders and hub downloads (every file's
 * sha256), the CenterNet model (its files' sha256).
 */
import Database from 'better-sqlite3';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/config.js';
import { packagePaths } from '../../src/core/paths.js';
import { mulberry32 } from '../../src/core/random.js';
import { KnowledgeBase } from '../../src/knowledge/kb.js';
import { decodeIvfLayout } from '../../src/knowledge/search.js';
import { KnowledgeStore, entityText } from '../../src/knowledge/store.js';
import { centernetDir, centernetFingerprint } from '../../src/models/centernet.js';
import { modelFingerprint, resolveModelSource } from '../../src/models/hub.js';
import { llmFingerprint } from '../../src/llm/service.js';
import { retrieveEntities } from '../../src/stages/retrieve/entities.js';
import { testContext } from '../helpers/context.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-identity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const paths = packagePaths();

function unitVectors(n: number, dim: number, seed: number): number[][] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: dim }, () => rand() - 0.5);
    const s = Math.hypot(...v);
    return v.map((x) => x / s);
  });
}

/** A KB with `n` entities embedded by model "m" (dim 8). */
function makeKb(path: string, n = 40): void {
  const store = KnowledgeStore.open(path);
  store.insertEntities(
    Array.from({ length: n }, (_, i) => ({
      id: `Q${i + 1}`,
      label: `thing ${i}`,
      description: `a thing number ${i}`,
      text: entityText(`thing ${i}`, `a thing number ${i}`),
      source: 'wikidata',
    })),
  );
  store.putVectors('m', Array.from({ length: n }, (_, i) => i + 1), unitVectors(n, 8, 1));
  store.close();
}

function retrievalFingerprint(kb: string): Promise<string> {
  const ctx = testContext({ config: { models: { profile: 'tiny' }, knowledge: { kb } } });
  return Promise.resolve(retrieveEntities.fingerprint!(retrieveEntities.params.parse({}), ctx));
}

describe('knowledge-base identity in retrieval cache keys', () => {
  it('changes on an in-place description edit (same counts) and on re-embedding; a copy keeps it', async () => {
    const kb = join(dir, 'kb1.sqlite');
    makeKb(kb);
    const before = await retrievalFingerprint(kb);
    const copy = join(dir, 'kb1-copy.sqlite');
    copyFileSync(kb, copy);
    expect(await retrievalFingerprint(copy)).toBe(before);

    // Edit one description with a plain SQLite client: entity and vector counts stay the same.
    const db = new Database(kb);
    db.prepare("UPDATE entities SET description = 'edited', text = 'thing 3 is a edited' WHERE id = 'Q4'").run();
    db.close();
    const edited = await retrievalFingerprint(kb);
    expect(edited).not.toBe(before);

    // Re-embed every entity with other vectors (same model name, same count).
    const store = KnowledgeStore.open(kb);
    store.putVectors('m', Array.from({ length: 40 }, (_, i) => i + 1), unitVectors(40, 8, 2));
    store.close();
    expect(await retrievalFingerprint(kb)).not.toBe(edited);
    expect(await retrievalFingerprint(copy)).toBe(before);
  });

  it('a KB written before build ids existed is identified by its content', () => {
    const kb = join(dir, 'legacy.sqlite');
    makeKb(kb);
    const db = new Database(kb);
    db.exec("DELETE FROM meta WHERE key IN ('build_id', 'content_version'); DROP TRIGGER kb_version_entities_au;");
    db.close();
    const s1 = KnowledgeStore.open(kb, { readonly: true });
    const id1 = s1.contentIdentity();
    s1.close();
    expect(id1).toMatch(/^kb-content:/);
    const db2 = new Database(kb);
    db2.prepare("UPDATE entities SET label = 'other' WHERE id = 'Q1'").run();
    db2.close();
    const s2 = KnowledgeStore.open(kb, { readonly: true });
    expect(s2.contentIdentity()).not.toBe(id1);
    s2.close();
  });

  it('a KB without vectors for the pipeline model says which models it has', () => {
    const kb = join(dir, 'kb-model.sqlite');
    makeKb(kb, 5);
    const store = KnowledgeStore.open(kb, { readonly: true });
    expect(() => store.loadMatrix('Xenova/clip-vit-base-patch16')).toThrow(
      /has no vectors for embedding model "Xenova\/clip-vit-base-patch16" \(it has vectors for: m\)/,
    );
    store.close();
  });
});

describe('a stored IVF index is bound to its exact vectors', () => {
  const storedParams = (kb: string) => {
    const db = new Database(kb, { readonly: true });
    const r = db.prepare("SELECT params, data FROM indexes WHERE model = 'm' AND kind = 'ivf'").get() as { params: string; data: Buffer };
    db.close();
    return r;
  };

  it('is rebuilt when the vectors change but their number does not', async () => {
    const kb = join(dir, 'ivf.sqlite');
    makeKb(kb, 300);
    const k1 = KnowledgeBase.open(kb);
    await k1.index('m', 'approximate');
    await k1.close();
    const first = storedParams(kb);

    const store = KnowledgeStore.open(kb);
    store.putVectors('m', Array.from({ length: 300 }, (_, i) => i + 1), unitVectors(300, 8, 7));
    store.close();
    const k2 = KnowledgeBase.open(kb);
    // The query equal to the re-embedded entity 17's vector finds it first, probing a single list.
    const q = unitVectors(300, 8, 7)[16]!;
    const hits = await k2.searchVectors([q], { model: 'm', k: 1, mode: 'approximate', nprobe: 1 });
    await k2.close();
    expect(hits[0]![0]!.entity.id).toBe('Q17');
    const second = storedParams(kb);
    expect(second.params).not.toBe(first.params);
    expect(Buffer.compare(second.data, first.data)).not.toBe(0);
  });

  it('a truncated blob is reported and rebuilt, never decoded as garbage', async () => {
    const kb = join(dir, 'ivf-trunc.sqlite');
    makeKb(kb, 200);
    const k1 = KnowledgeBase.open(kb);
    await k1.index('m', 'approximate');
    await k1.close();
    const { data } = storedParams(kb);
    expect(() => decodeIvfLayout(data.subarray(0, data.length - 100), 'the test index')).toThrow(
      /the test index is truncated or damaged: \d+ bytes, expected \d+/,
    );
    const db = new Database(kb);
    db.prepare("UPDATE indexes SET data = substr(data, 1, length(data) - 100) WHERE model = 'm'").run();
    db.close();
    const warnings: string[] = [];
    const k2 = KnowledgeBase.open(kb, { warn: (m) => warnings.push(m) });
    const hits = await k2.searchVectors([unitVectors(200, 8, 1)[5]!], { model: 'm', k: 1, mode: 'approximate', nprobe: 64 });
    await k2.close();
    expect(hits[0]![0]!.entity.id).toBe('Q6');
    expect(warnings.join('\n')).toMatch(/ivf index of "m" in .*ivf-trunc\.sqlite is truncated or damaged.*rebuilding/);
    expect(() => decodeIvfLayout(storedParams(kb).data)).not.toThrow();
  });
});

describe('model identity by file content', () => {
  const tinyClip = join(paths.tinyModels, 'okvqa-tiny', 'clip');

  it('a local model folder: any file (tokenizer included) and any byte of a large ONNX file', () => {
    const model = join(dir, 'models', 'org', 'clip');
    cpSync(tinyClip, model, { recursive: true });
    const config = resolveConfig({ overrides: { models: { ids: { clip: model } } } });
    const fp = () => modelFingerprint(resolveModelSource('clip', config, paths));
    const a = fp();
    writeFileSync(join(model, 'tokenizer_config.json'), '{"model_max_length": 77, "edited": true}');
    const b = fp();
    expect(b).not.toBe(a);
    // A 70 MiB ONNX file changed in its middle (beyond the first and last MiB).
    const big = join(model, 'onnx', 'big.onnx');
    writeFileSync(big, Buffer.alloc(70 * 1024 * 1024));
    const c = fp();
    const fd = openSync(big, 'r+');
    writeSync(fd, Buffer.from([1]), 0, 1, 35 * 1024 * 1024);
    closeSync(fd);
    expect(fp()).not.toBe(c);
  });

  it('the same content in another place has the same identity (caches stay portable)', () => {
    const a = join(dir, 'place-a', 'clip');
    const b = join(dir, 'place-b', 'clip');
    cpSync(tinyClip, a, { recursive: true });
    cpSync(tinyClip, b, { recursive: true });
    const fp = (m: string) => modelFingerprint(resolveModelSource('clip', resolveConfig({ overrides: { models: { ids: { clip: m } } } }), paths, m));
    expect(fp(a).split('|').pop()).toBe(fp(b).split('|').pop());
  });

  it('a hub model: by the files downloaded into the model cache, which change with its revision', () => {
    const cacheDir = join(dir, 'hub-cache');
    const config = resolveConfig({ overrides: { models: { cacheDir } } });
    const fp = () => modelFingerprint(resolveModelSource('clip', config, paths, 'Xenova/some-clip'));
    expect(fp()).toMatch(/not-downloaded/);
    const downloaded = join(cacheDir, 'Xenova', 'some-clip');
    mkdirSync(downloaded, { recursive: true });
    cpSync(tinyClip, downloaded, { recursive: true });
    const rev1 = fp();
    expect(rev1).not.toMatch(/not-downloaded/);
    // A new revision on the hub replaced the weights in the cache.
    const fd = openSync(join(downloaded, 'onnx', 'vision_model.onnx'), 'r+');
    writeSync(fd, Buffer.from([0x55]), 0, 1, 200);
    closeSync(fd);
    expect(fp()).not.toBe(rev1);
  });

  it('the embedded LLM: its fingerprint follows its files', () => {
    const model = join(dir, 'llm', 'gpt2');
    cpSync(join(paths.tinyModels, 'okvqa-tiny-llm', 'gpt2'), model, { recursive: true });
    const ctx = testContext({ config: { llm: { backend: 'local', model } } });
    const a = llmFingerprint(ctx);
    writeFileSync(join(model, 'generation_config.json'), '{"edited": true}');
    expect(llmFingerprint(ctx)).not.toBe(a);
  });

  it('CenterNet: the sha256 of its graph and weight files, not a fixed name', () => {
    const copy = join(dir, 'centernet');
    cpSync(centernetDir(), copy, { recursive: true, filter: (src) => !/\/models\/(?!centernet)[^/]+$/.test(src) });
    const a = centernetFingerprint(copy);
    expect(a).toBe(centernetFingerprint(centernetDir()));
    const fd = openSync(join(copy, 'centernet.bin'), 'r+');
    writeSync(fd, Buffer.from([0x42]), 0, 1, 1000);
    closeSync(fd);
    expect(centernetFingerprint(copy)).not.toBe(a);
  });
});
