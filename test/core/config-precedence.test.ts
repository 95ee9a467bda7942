import { describe, expect, it } from 'vitest';
import { knownConfigKeys, resolveConfig } from '../../src/core/config.js';

describe('config precedence: defaults < file < pipeline < environment < flags', () => {
  it('a flag (--cache, --set) beats the environment', () => {
    const c = resolveConfig({ sets: ['cache.mode=replay'], env: { OKVQA_CACHE_MODE: 'rw' } });
    expect(c.cache.mode).toBe('replay');
  });

  it('--profile beats OKVQA_PROFILE, and library options count as flags', () => {
    expect(resolveConfig({ sets: ['models.profile=default'], env: { OKVQA_PROFILE: 'tiny' } }).models.profile).toBe('default');
    expect(resolveConfig({ overrides: { models: { profile: 'default' } }, env: { OKVQA_PROFILE: 'tiny' } }).models.profile).toBe('default');
  });

  it('the environment beats the pipeline, which beats the config file', () => {
    const c = resolveConfig({ file: { seed: 1, llm: { model: 'a' } }, pipeline: { seed: 2 }, env: { OKVQA_LLM_MODEL: 'b' } });
    expect(c.seed).toBe(2);
    expect(c.llm.model).toBe('b');
    expect(resolveConfig({ file: { seed: 1 } }).seed).toBe(1);
  });

  it('OKVQA_OFFLINE wins over HF_HUB_OFFLINE', () => {
    expect(resolveConfig({ env: { OKVQA_OFFLINE: '0', HF_HUB_OFFLINE: '1' } }).models.offline).toBe(false);
    expect(resolveConfig({ env: { HF_HUB_OFFLINE: '1' } }).models.offline).toBe(true);
  });
});

describe('unknown config keys are errors naming the nearest known key', () => {
  it('--set', () => {
    expect(() => resolveConfig({ sets: ['llm.modle=gpt-4o'] })).toThrow(/--set: unknown config key "llm.modle" \(did you mean llm.model\?\)/);
    expect(() => resolveConfig({ sets: ['foo=1'] })).toThrow(/--set: unknown config key "foo"/);
    expect(() => resolveConfig({ sets: ['concurency=3'] })).toThrow(/did you mean concurrency\?/);
    expect(resolveConfig({ sets: ['models.ids.reader=org/name'] }).models.ids.reader).toBe('org/name');
  });

  it('config file and pipeline config', () => {
    expect(() => resolveConfig({ file: { cache: { mdoe: 'rw' } }, fileName: '/x/okvqa.config.yaml' })).toThrow(
      /config file \/x\/okvqa.config.yaml: unknown config key "cache.mdoe" \(did you mean cache.mode\?\)/,
    );
    expect(() => resolveConfig({ pipeline: { llm: { temprature: 0 } }, pipelineName: 'p.yaml' })).toThrow(/pipeline p.yaml config: unknown config key "llm.temprature"/);
    expect(() => resolveConfig({ file: { llm: 'gpt-4o' } })).toThrow(/"llm" is a section, not a value/);
  });

  it('environment OKVQA_* variables', () => {
    expect(() => resolveConfig({ env: { OKVQA_PROFLE: 'tiny' } })).toThrow(/unknown variable OKVQA_PROFLE \(did you mean OKVQA_PROFILE\?\)/);
    expect(() => resolveConfig({ env: { OKVQA_DEBUG: '1', OTHER_VAR: 'x' } })).not.toThrow();
    // documented for `okvqa data fetch`: exported once, it must not stop every other command (issue 17)
    expect(() => resolveConfig({ env: { OKVQA_DATA_BASE_URL: 'http://127.0.0.1:1/' } })).not.toThrow();
  });

  it('a bad value names where it came from', () => {
    expect(() => resolveConfig({ env: { OKVQA_CACHE_MODE: 'sometimes' } })).toThrow(/cache.mode: .*\(set by OKVQA_CACHE_MODE\)/);
    expect(() => resolveConfig({ sets: ['concurrency=0'] })).toThrow(/concurrency: .*\(set by --set\/flags\)/);
  });

  it('knows every key of the schema', () => {
    const keys = knownConfigKeys();
    expect(keys).toContain('llm.model');
    expect(keys).toContain('models.ids.*');
    expect(keys).toContain('knowledge.kb');
  });
});
