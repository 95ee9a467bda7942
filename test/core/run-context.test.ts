import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cache } from '../../src/core/cache.js';
import { resolveConfig } from '../../src/core/config.js';
import { closeRunContext, createRunContext } from '../../src/run-context.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-runctx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run context: whoever opens the cache closes it', () => {
  it('a cache passed in stays open after close()', async () => {
    const cache = new Cache(join(dir, 'mine.sqlite'), 'rw');
    const ctx = createRunContext({ config: resolveConfig({}), cache });
    cache.put('k', 'label', { v: 1 });
    await closeRunContext(ctx);
    expect(cache.get('k')).toEqual({ v: 1 });
    cache.close();
  });

  it('a cache the context opened is closed with it, and resources are disposed', async () => {
    const config = resolveConfig({ overrides: { cache: { path: join(dir, 'own.sqlite'), mode: 'rw' } } });
    const ctx = createRunContext({ config });
    let disposed = false;
    await ctx.resources.get('thing', () => 1, () => { disposed = true; });
    ctx.cache.put('k', 'label', 1);
    await ctx.close();
    expect(disposed).toBe(true);
    expect(() => ctx.cache.get('k')).toThrow();
  });
});
