// models.device: cuda where onnxruntime's CUDA provider cannot start is refused before any question runs (exit 2, what
// is missing, how to install it); auto falls back to the CPU with a warning. On a machine where CUDA works, the
// "without CUDA" cases are skipped and the run on cuda is checked instead.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/config.js';
import { cudaAvailable, resolveDevice, sessionOptions } from '../../src/models/device.js';
import { checkDevice } from '../../src/stages/checks.js';
import { okvqa, repoRoot } from '../helpers/cli.js';

const probe = await cudaAvailable();
const dir = mkdtempSync(join(tmpdir(), 'okvqa-device-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { OKVQA_CACHE_PATH: join(dir, 'cache.sqlite') };
const photo = join(repoRoot, 'test', 'fixtures', 'images', 'coffee.png');

describe('models.device', () => {
  it('accepts cpu, cuda, auto (config, OKVQA_DEVICE) and refuses anything else', () => {
    expect(resolveConfig({}).models.device).toBe('cpu');
    expect(resolveConfig({ overrides: { models: { device: 'cuda' } } }).models.device).toBe('cuda');
    expect(resolveConfig({ env: { OKVQA_DEVICE: 'auto' } }).models.device).toBe('auto');
    expect(() => resolveConfig({ overrides: { models: { device: 'gpu' as 'cpu' } } })).toThrow(/device/); // a bad value a config file could hold
    expect(sessionOptions('cuda').executionProviders).toEqual(['cuda', 'cpu']);
    expect(sessionOptions('cpu').executionProviders).toEqual(['cpu']);
  });

  it.skipIf(probe.ok)('without CUDA here: cuda is a pre-flight error naming what is missing, auto a warning and the CPU', async () => {
    expect(probe.ok).toBe(false);
    await expect(resolveDevice('cuda')).rejects.toThrow(/models\.device is cuda, but .*onnxruntime-node-install=cuda12/);
    expect(await resolveDevice('auto')).toMatchObject({ device: 'cpu', warning: expect.stringMatching(/auto .*CPU/) });
    const [e] = await checkDevice({ config: resolveConfig({ overrides: { models: { device: 'cuda' } } }) });
    expect(e).toMatchObject({ severity: 'error', key: 'models.device', fix: expect.stringMatching(/onnxruntime-node-install=cuda12.*--device cpu/) });
    const [w] = await checkDevice({ config: resolveConfig({ overrides: { models: { device: 'auto' } } }) });
    expect(w).toMatchObject({ severity: 'warning', key: 'models.device' });
    expect(await checkDevice({ config: resolveConfig({}) })).toEqual([]);
  });

  it.skipIf(probe.ok)('okvqa ask --device cuda stops before the run (exit 2); --device auto answers on the CPU with a warning', () => {
    const r = okvqa(['ask', photo, 'What is in the cup?', '--pipeline', 'revive', '--profile', 'tiny', '--device', 'cuda'], env, 300_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/models\.device/);
    expect(r.stderr).toMatch(/onnxruntime-node-install=cuda12/);
    expect(r.stdout).not.toMatch(/^answer: /m);
    // okvqa check / run: one pre-flight error naming the nodes whose models would run on the device
    const c = okvqa(['check', 'revive', '--data', 'assets/demo/data.json', '--profile', 'tiny', '--device', 'cuda'], env);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/node "regions" \(regions\.detector\).*node "answer" \(reader\.fid\): models\.device: models\.device is cuda, but/);
    // (a pipeline without models keeps this quick: the device is resolved before anything loads all the same)
    const mini = join(repoRoot, 'test', 'fixtures', 'okvqa-mini', 'data.json');
    const a = okvqa(['ask', photo, 'What is in the cup?', '--pipeline', 'prior', '--data', mini, '--device', 'auto', '--set', 'cache.mode=off'], env, 300_000);
    expect(a.code).toBe(0);
    expect(a.stderr).toMatch(/models\.device is auto and .*CPU/);
    expect(a.stdout).toMatch(/^answer: /m);
  }, 300_000);

  it.runIf(probe.ok)('with CUDA here: ask --device cuda answers', () => {
    const r = okvqa(['ask', photo, 'What is in the cup?', '--pipeline', 'revive', '--profile', 'tiny', '--device', 'cuda'], env, 300_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^answer: /m);
  }, 300_000);
});
