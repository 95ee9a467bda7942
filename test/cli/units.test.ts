import { describe, expect, it } from 'vitest';
import type { Sample } from '../../src/core/artifacts.js';
import { InputError, PipelineError } from '../../src/core/errors.js';
import { resolveConfig } from '../../src/core/config.js';
import { Resources } from '../../src/core/resources.js';
import { packagePaths } from '../../src/core/paths.js';
import { errorExitCode, runExitCode, PreflightError } from '../../src/cli/exit-codes.js';
import { failureKind, summarizeFailures } from '../../src/cli/failure-summary.js';
import { parseNumberFlag } from '../../src/cli/options.js';
import { DEFAULT_LOCAL_MODEL, loadOnce, resolveModelSource } from '../../src/models/hub.js';
import { sampleImagePath } from '../../src/image/load.js';

const sample = (id: string, imageId: number, imagePath?: string): Sample => ({ dataset: 'okvqa', questionId: id, imageId, question: 'q?', ...(imagePath ? { imagePath } : {}) });

describe('failure summary', () => {
  it('groups by kind without destroying model names, commands or numbers', () => {
    const samples = [sample('2971475', 297147, '/data/val2014/COCO_val2014_000000297147.jpg'), sample('3397615', 339761, '/data/val2014/COCO_val2014_000000339761.jpg')];
    const failures = samples.map((s) => ({
      questionId: s.questionId,
      node: 'tags',
      stage: 'tags.clip',
      message: `question ${s.questionId}: node "tags" (tags.clip): loading Xenova/clip-vit-base-patch32 for image ${s.imagePath} failed: run okvqa kb embed --batch 64 first (image ${s.imageId})`,
    }));
    const lines = summarizeFailures(failures, samples);
    expect(lines).toEqual([
      '  failed ×2: tags (tags.clip): loading Xenova/clip-vit-base-patch32 for image <image file> failed: run okvqa kb embed --batch 64 first (image <image id>) (questions 2971475, 3397615)',
    ]);
    const long = 'x'.repeat(300) + ' Qwen2.5-0.5B';
    expect(failureKind({ questionId: '1', node: 'n', stage: 's.t', message: long }, undefined)).toContain('Qwen2.5-0.5B');
  });
});

describe('one numeric flag parser', () => {
  it('checks integer, positive and minimum, naming the flag', () => {
    expect(parseNumberFlag('--limit', undefined, { integer: true, positive: true })).toBeUndefined();
    expect(parseNumberFlag('--limit', '5', { integer: true, positive: true })).toBe(5);
    expect(parseNumberFlag('threshold', '0.25', { min: 0 })).toBe(0.25);
    expect(() => parseNumberFlag('--limit', '0', { integer: true, positive: true })).toThrow('--limit expects a positive integer, got "0"');
    expect(() => parseNumberFlag('k', '2.5', { integer: true, min: 0 })).toThrow('--k expects a non-negative integer, got "2.5"');
    expect(() => parseNumberFlag('--temperature', 'hot', { min: 0 })).toThrow('--temperature expects a non-negative number, got "hot"');
    expect(() => parseNumberFlag('--x', '', {})).toThrow(/expects a number/);
  });
});

describe('exit codes', () => {
  it('0 all answered, 3 some failed, 130 interrupted, 2 usage/input errors, 1 other failures', () => {
    expect(runExitCode({ failed: 0, interrupted: false })).toBe(0);
    expect(runExitCode({ failed: 2, interrupted: false })).toBe(3);
    expect(runExitCode({ failed: 2, interrupted: true })).toBe(130);
    expect(errorExitCode(new InputError('x'))).toBe(2);
    expect(errorExitCode(new PipelineError('x', 'f'))).toBe(2);
    expect(errorExitCode(new PreflightError('x'))).toBe(2);
    expect(errorExitCode(new Error('x'))).toBe(1);
  });
});

describe('the hub unreachable', () => {
  const fetchFailed = () => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND huggingface.co'), { code: 'ENOTFOUND' }) });
  const config = resolveConfig({ overrides: { models: { cacheDir: '/nonexistent-cache' } } });

  it('says so and what to do, instead of a bare "fetch failed"', async () => {
    const source = resolveModelSource('clip', config, packagePaths());
    const err = await loadOnce({ resources: new Resources() }, source, 'tokenizer', async () => { throw fetchFailed(); }).catch((e: Error) => e);
    expect(err.message).toMatch(/the Hugging Face hub is unreachable \(fetch failed: ENOTFOUND\)/);
    expect(err.message).toContain('Xenova/clip-vit-base-patch32');
    expect(err.message).toContain('--profile tiny');
    expect(err.message).toContain('--offline with models.localDir');
  });

  it('names the default local LLM for the embedded backend', async () => {
    const source = resolveModelSource('text-generation', config, packagePaths(), DEFAULT_LOCAL_MODEL);
    const err = await loadOnce({ resources: new Resources() }, source, 'model', async () => { throw fetchFailed(); }).catch((e: Error) => e);
    expect(err.message).toContain(`The embedded LLM's default model is ${DEFAULT_LOCAL_MODEL}`);
  });
});

describe('image path errors', () => {
  it('a folder is given but the file is missing: says so, with the path', () => {
    expect(() => sampleImagePath(sample('7', 42), '/data/val2014')).toThrow(
      /^\/data\/val2014\/COCO_val2014_000000000042.jpg: image file missing: question 7 needs COCO image 42, which is not in the images folder \/data\/val2014/,
    );
    expect(() => sampleImagePath(sample('7', 42))).toThrow(/has no image path: give an images folder in data.json/);
  });
});
