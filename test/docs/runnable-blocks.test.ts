/**
 * Every shell block a page marks as runnable (fence info string `sh runnable`, see docs/README.md) is run here, so the
 * docs cannot rot: README.md and docs/*.md, each page's blocks in order in one fresh working folder that looks like a
 * clone (the repository's top-level entries linked in; what the blocks write stays there). `npx okvqa` runs this
 * checkout's bin/okvqa.js (npm run build first). Offline: the OK-VQA archives come from a loopback server through
 * OKVQA_DATA_BASE_URL (small stand-ins with the official names and layout, made from test/fixtures/okvqa-mini), the
 * models are the tiny ones (`--profile tiny` in the blocks), the cache and HOME are in the working folder.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileServer, makeZip } from '../data/file-server.js';
import { cleanEnv, repoRoot } from '../helpers/cli.js';

/** The marker: a fenced block whose info string is exactly `sh runnable`. */
export const RUNNABLE_FENCE = /^```sh runnable\n([\s\S]*?)^```$/gm;

export function runnableBlocks(markdown: string): string[] {
  return [...markdown.matchAll(RUNNABLE_FENCE)].map((m) => m[1]!);
}

const pages = ['README.md', ...(existsSync(join(repoRoot, 'docs')) ? readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`) : [])];
const server = new FileServer();
const work = mkdtempSync(join(tmpdir(), 'okvqa-docs-'));
const mini = (f: string) => readFileSync(join(repoRoot, 'test/fixtures/okvqa-mini', f));

beforeAll(async () => {
  await server.start();
  const zips: Record<string, [string, Buffer]> = {
    'OpenEnded_mscoco_val2014_questions.json.zip': ['OpenEnded_mscoco_val2014_questions.json', mini('val_questions.json')],
    'mscoco_val2014_annotations.json.zip': ['mscoco_val2014_annotations.json', mini('val_annotations.json')],
    'OpenEnded_mscoco_train2014_questions.json.zip': ['OpenEnded_mscoco_train2014_questions.json', mini('train_questions.json')],
    'mscoco_train2014_annotations.json.zip': ['mscoco_train2014_annotations.json', mini('train_annotations.json')],
  };
  for (const [zip, [member, body]] of Object.entries(zips)) server.files.set(zip, makeZip({ [member]: body }));
});
afterAll(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A folder that looks like a fresh clone with dependencies installed: the repository's entries, linked. */
function cloneLike(name: string): string {
  const dir = join(work, name.replace(/[^\w.-]+/g, '_'));
  mkdirSync(join(dir, 'home'), { recursive: true });
  for (const e of readdirSync(repoRoot)) if (!['.git', 'data', 'runs', '.okvqa'].includes(e)) symlinkSync(join(repoRoot, e), join(dir, e));
  return dir;
}

/** Run one block with bash (asynchronously: the archive server lives in this process). */
function runBlock(dir: string, block: string): Promise<{ code: number | null; out: string }> {
  const preamble = [
    'set -euo pipefail',
    // `npx okvqa` is this checkout's CLI (what npx finds in an installed project); nothing else may be fetched by npx
    `npx() { if [ "$1" = okvqa ]; then shift; node ${JSON.stringify(join(repoRoot, 'bin', 'okvqa.js'))} "$@"; else echo "a runnable block may only run npx okvqa" >&2; return 1; fi; }`,
  ].join('\n');
  return new Promise((resolve) => {
    const p = spawn('bash', ['-c', `${preamble}\n${block}`], {
      cwd: dir,
      timeout: 170_000,
      env: { ...cleanEnv(), HOME: join(dir, 'home'), XDG_CACHE_HOME: join(dir, 'home', '.cache'), OKVQA_DATA_BASE_URL: server.baseURL, OKVQA_CACHE_PATH: join(dir, 'cache.sqlite') },
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code, out }));
  });
}

/** Pages other branches add (issue 17's docs split happened in parallel); empty this list once they are merged. */
const PAGES_WRITTEN_ELSEWHERE: string[] = [];

describe('runnable shell blocks in the docs', () => {
  it('the README quick start is marked runnable; the README stays short', () => {
    expect(runnableBlocks(readFileSync(join(repoRoot, 'README.md'), 'utf8')).length).toBeGreaterThan(0);
    expect(statSync(join(repoRoot, 'README.md')).size).toBeLessThanOrEqual(12 * 1024);
  });

  it('every relative link of the README and docs/ names a file that exists', () => {
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(repoRoot, page), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        if (PAGES_WRITTEN_ELSEWHERE.some((p) => target.endsWith(p))) continue;
        if (!existsSync(join(repoRoot, dirname(page), target))) broken.push(`${page}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  for (const page of pages) {
    const blocks = runnableBlocks(readFileSync(join(repoRoot, page), 'utf8'));
    if (!blocks.length) continue;
    describe(page, () => {
      let dir = '';
      beforeAll(() => void (dir = cloneLike(page)));
      blocks.forEach((block, i) => {
        it(`block ${i + 1}: ${block.split('\n')[0]}`, async () => {
          const r = await runBlock(dir, block);
          expect(r.code, `${page} block ${i + 1} failed:\n${block}\n--- output ---\n${r.out}`).toBe(0);
          // a block that runs a batch shows the run's accuracy
          if (/okvqa run /.test(block) && !/--limit 0/.test(block)) expect(r.out).toMatch(/accuracy: \d+\.\d+/);
        }, 180_000);
      });
    });
  }
});
