// Any network request made by transformers.js goes through fetch; it captures `globalThis.fetch` when it is imported,
// so the spy is installed before any import (vi.hoisted runs first).
const net = vi.hoisted(() => {
  const calls: string[] = [];
  globalThis.fetch = (async (input: unknown) => {
    calls.push(String(input));
    throw new Error(`test: network request attempted to ${String(input)}`);
  }) as typeof fetch;
  return { calls };
});

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/core/config.js';
import { dot, embedImages, embedTexts } from '../../src/models/clip.js';
import { DEFAULT_MODEL_IDS, resolveModelSource } from '../../src/models/hub.js';
import { readImage } from '../../src/image/load.js';
import { COFFEE, makeCtx, paths, tiny } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-hub-'));
const localDir = join(tmp, 'models');
cpSync(join(paths.tinyModels, 'okvqa-tiny', 'clip'), join(localDir, 'acme', 'clip-local'), { recursive: true });
const emptyCache = join(tmp, 'cache');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeEach(() => {
  net.calls.length = 0;
});

describe('resolveModelSource', () => {
  it('maps roles to default hub ids, config ids, the tiny profile, local dirs and paths', () => {
    const hub = resolveModelSource('clip', resolveConfig({ overrides: { models: { cacheDir: emptyCache } } }), paths);
    expect(hub).toMatchObject({ from: 'hub', location: DEFAULT_MODEL_IDS.clip, offline: false, cacheDir: emptyCache });

    const ids = resolveModelSource('clip', resolveConfig({ overrides: { models: { ids: { clip: 'Xenova/clip-vit-base-patch16' } } } }), paths);
    expect(ids.location).toBe('Xenova/clip-vit-base-patch16');

    const t = resolveModelSource('clip', resolveConfig({ overrides: tiny }), paths);
    expect(t.from).toBe('tiny');
    expect(t.location).toBe(join(paths.tinyModels, 'okvqa-tiny', 'clip'));
    expect(t.offline).toBe(true);

    const local = resolveModelSource('clip', resolveConfig({ overrides: { models: { localDir, ids: { clip: 'acme/clip-local' } } } }), paths);
    expect(local).toMatchObject({ from: 'local', location: join(localDir, 'acme', 'clip-local') });
    // an id the local dir lacks falls through to the hub
    expect(resolveModelSource('clip', resolveConfig({ overrides: { models: { localDir } } }), paths).from).toBe('hub');

    const p = resolveModelSource('clip', resolveConfig(), paths, join(localDir, 'acme', 'clip-local'));
    expect(p.from).toBe('path');
    expect(() => resolveModelSource('clip', resolveConfig(), paths, join(tmp, 'nope'))).toThrow(/not a model directory/);
    expect(() => resolveModelSource('no-such-role', resolveConfig(), paths)).toThrow(/models\.ids\.no-such-role/);
    // profile tiny: a real hub id maps to the role's generated model, an explicit directory stays itself
    const tinyCfg = resolveConfig({ overrides: { models: { profile: 'tiny', ids: { clip: 'Xenova/clip-vit-large-patch14' } } } });
    expect(resolveModelSource('clip', tinyCfg, paths).id).toBe('okvqa-tiny/clip');
    expect(resolveModelSource('clip', tinyCfg, paths, join(localDir, 'acme', 'clip-local'))).toMatchObject({ from: 'path', offline: true });
    expect(() => resolveModelSource('clip', resolveConfig(), paths, 'not a valid id')).toThrow(/neither a hub id/);
  });

  it('keeps the model cache out of node_modules by default', () => {
    const s = resolveModelSource('clip', resolveConfig(), paths);
    expect(s.cacheDir).not.toContain('node_modules');
    expect(s.cacheDir).toMatch(/[\\/]okvqa[\\/]models$/);
  });
});

describe('loading', () => {
  it('loads a model from models.localDir in hub layout, without the network', async () => {
    const { ctx } = makeCtx({ models: { localDir, ids: { clip: 'acme/clip-local' }, offline: true, cacheDir: emptyCache } });
    const [v] = await embedTexts(['a cup of coffee'], ctx);
    expect(v).toHaveLength(16);
    const { ctx: tinyCtx } = makeCtx(tiny);
    const [w] = await embedTexts(['a cup of coffee'], tinyCtx);
    expect(dot(v!, w!)).toBeCloseTo(1, 5); // same files, same vector
    expect(net.calls).toEqual([]);
  });

  it('offline: a hub model missing from the cache fails clearly and never touches the network', async () => {
    const { ctx } = makeCtx({ models: { offline: true, cacheDir: emptyCache } });
    await expect(embedTexts(['x'], ctx)).rejects.toThrow(/offline.*Xenova\/clip-vit-base-patch32.*role "clip".*model cache/s);
    expect(net.calls).toEqual([]);
  });

  it('offline: a partly cached hub model goes through transformers.js with local_files_only and still never fetches', async () => {
    const cacheDir = join(tmp, 'partial-cache');
    const dir = join(cacheDir, 'Xenova', 'clip-vit-base-patch32');
    cpSync(join(paths.tinyModels, 'okvqa-tiny', 'clip', 'config.json'), join(dir, 'config.json'));
    const { ctx } = makeCtx({ models: { offline: true, cacheDir } });
    await expect(embedTexts(['x'], ctx)).rejects.toThrow(/loading .* for role "clip"/);
    await expect(embedImages([(await readImage(COFFEE)).image], ctx)).rejects.toThrow(/role "clip"/);
    expect(net.calls).toEqual([]);
  });

  it('online: the same load does try the hub (proves the network spy above can catch requests)', async () => {
    const { ctx } = makeCtx({ models: { offline: false, cacheDir: emptyCache } });
    await expect(embedTexts(['x'], ctx)).rejects.toThrow();
    expect(net.calls.some((u) => u.startsWith('https://huggingface.co/Xenova/clip-vit-base-patch32/'))).toBe(true);
  });

  it('dtype selects the weights file: q8 loads the int8 *_quantized.onnx (close to, not equal to, fp32)', async () => {
    const img = (await readImage(COFFEE)).image;
    const { ctx: fp32 } = makeCtx(tiny);
    const { ctx: q8 } = makeCtx({ models: { profile: 'tiny', dtype: 'q8' } });
    const [a] = await embedImages([img], fp32);
    const [b] = await embedImages([img], q8);
    const [ta] = await embedTexts(['a cup'], fp32);
    const [tb] = await embedTexts(['a cup'], q8);
    expect(a).not.toEqual(b);
    expect(dot(a!, b!)).toBeGreaterThan(0.95);
    expect(dot(ta!, tb!)).toBeGreaterThan(0.95);
    expect(ta).not.toEqual(tb);
    const { ctx: bad } = makeCtx({ models: { profile: 'tiny', dtype: 'fp16' } });
    await expect(embedTexts(['a cup'], bad)).rejects.toThrow(/text_model_fp16\.onnx|fp16/);
    expect(net.calls).toEqual([]);
  });
});
