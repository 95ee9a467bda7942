/**
 * A reference test whose Debian package or browser is missing skips, saying which, on a developer's machine; with
 * CI=true it fails, saying which (test/helpers/requires.ts). Runs vitest on a two-test file in a child process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-requires-'));
writeFileSync(
  join(dir, 'needs.spec.ts'),
  `import { expect, it } from 'vitest';
import { describeNeeds, itNeeds } from ${JSON.stringify(join(repoRoot, 'test/helpers/requires.ts'))};
itNeeds('python3-fake is missing')('a numpy reference', () => expect(1).toBe(1));
describeNeeds('/usr/bin/fake-browser is missing')('a browser suite', () => { it('inner', () => { throw new Error('the body must not run'); }); });
itNeeds(undefined)('a test with everything it needs', () => expect(1).toBe(1));
`,
);
writeFileSync(join(dir, 'vitest.config.mjs'), `export default { test: { root: ${JSON.stringify(dir)}, include: ['*.spec.ts'] } };\n`);

function vitest(ci: boolean) {
  const env = { ...cleanEnv(), CI: ci ? 'true' : '' };
  return spawnSync(process.execPath, [join(repoRoot, 'node_modules/vitest/vitest.mjs'), 'run', '--config', join(dir, 'vitest.config.mjs'), '--reporter', 'verbose'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
}

describe('tests that need a Debian package or a browser', () => {
  it('skip outside CI, naming what is missing', () => {
    const r = vitest(false);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/a numpy reference \(skipped: python3-fake is missing\)/);
    expect(r.stdout).toMatch(/1 passed/);
  });

  it('fail with CI=true, naming what is missing', () => {
    const r = vitest(true);
    expect(r.status).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/CI=true: this test must run, but python3-fake is missing/);
    expect(out).toMatch(/CI=true: this test must run, but \/usr\/bin\/fake-browser is missing/);
    expect(out).not.toMatch(/the body must not run/);
  });
});
