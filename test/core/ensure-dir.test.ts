import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cache } from '../../src/core/cache.js';
import { ensureDir } from '../../src/core/ensure-dir.js';
import { KnowledgeStore } from '../../src/knowledge/store.js';

const hasProc = existsSync('/proc/self');
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-ensure-dir-'));

describe('ensureDir: every folder creation fails fast with a clear error', () => {
  it('creates missing levels', () => {
    const d = join(tmp, 'a', 'b', 'c');
    expect(ensureDir(d)).toBe(d);
    expect(existsSync(d)).toBe(true);
    expect(ensureDir(d)).toBe(d);
  });

  it('a path under a file is refused, naming both', () => {
    const f = join(tmp, 'file');
    writeFileSync(f, 'x');
    expect(() => ensureDir(join(f, 'sub'), 'output folder')).toThrow(`${join(f, 'sub')}: cannot create output folder: ${f} exists and is not a folder`);
  });

  it.skipIf(process.getuid?.() === 0)('an unwritable parent is refused (not checkable as root)', () => {
    const ro = join(tmp, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    expect(() => ensureDir(join(ro, 'out'), 'output folder')).toThrow(`cannot create output folder: ${ro} is not writable`);
  });

  it.skipIf(!hasProc)('/proc/x does not hang (Node recursive mkdir loops there)', () => {
    const t0 = Date.now();
    expect(() => ensureDir('/proc/x/y', 'output folder')).toThrow(/\/proc\/x\/y: cannot create output folder/);
    expect(() => new Cache('/proc/x/c.sqlite', 'rw')).toThrow(/cannot create cache folder/);
    expect(() => KnowledgeStore.open('/proc/x/kb.sqlite')).toThrow(/cannot create knowledge-base folder/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
