import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTar, writeTar } from '../../src/bundle/tar.js';
import { cleanEnv, repoRoot } from '../helpers/cli.js';
import { FIXTURES } from '../llm/helpers.js';
import { completionReply, TestLlmServer } from '../llm/server.js';
import { inCI, requirementError } from '../helpers/requires.js';

/** The built CLI, asynchronously (the loopback LLM server lives in this process). */
function okvqa(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(repoRoot, 'bin', 'okvqa.js'), ...args], { cwd: repoRoot, env: { ...cleanEnv(), ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-bundle-'));
const data = join(FIXTURES, 'data.json');
let server: TestLlmServer;

beforeAll(async () => {
  server = await new TestLlmServer().start();
  // Answers that depend on the prompt, so predictions differ per question and a wrong replay would show.
  server.handler = (body) => {
    const p: string = body.prompt;
    const q = p.slice(p.lastIndexOf('Q: ') + 3);
    return completionReply(body, { text: q.length % 2 ? ' fern' : ' Moss', tokens: [{ token: 'x', logprob: -(q.length % 7) / 10 }] });
  };
});
afterAll(async () => {
  await server.stop();
});

describe('replay bundles', () => {
  it('tar round trip', () => {
    const files = [{ name: 'a.json', data: Buffer.from('{"x":1}') }, { name: 'big.bin', data: Buffer.alloc(1500, 7) }, { name: 'empty', data: Buffer.alloc(0) }];
    const back = readTar(writeTar(files));
    expect([...back.keys()]).toEqual(['a.json', 'big.bin', 'empty']);
    for (const f of files) expect(back.get(f.name)!.equals(f.data)).toBe(true);
    const bad = writeTar(files);
    bad[10] = bad[10]! ^ 0xff;
    expect(() => readTar(bad)).toThrow(/checksum/);
  });

  it('export, import into an empty cache, replay with no server, key or models: identical predictions', async () => {
    const env = { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test', OKVQA_LLM_MODEL: 'test-davinci', OKVQA_CACHE_PATH: join(tmp, 'original.sqlite') };
    const run = await okvqa(['run', 'pica-base', '--data', data, '--out', join(tmp, 'run'), '--no-progress'], env);
    expect(run.stderr).toContain('pica-base: 3 answered, 0 failed');
    const calls = server.completionCalls.length;
    expect(calls).toBe(3);
    const trace = readFileSync(join(tmp, 'run', 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const t of trace) {
      expect(t.cacheKeys.length).toBeGreaterThanOrEqual(3); // examples, prompts (+ its LLM call)
      expect(t.nodes.prompts.usage).toEqual({ calls: 1, cachedCalls: 0, promptTokens: 100, completionTokens: 1 }); // per node
    }

    for (const name of ['bundle.tgz', 'bundle.tar.zst']) {
      if (name.endsWith('.zst') && !existsSync('/usr/bin/zstd') && !process.versions.node.match(/^(2[3-9]|22\.(1[5-9]|[2-9]\d))/)) {
        const why = 'the zstd program is missing and Node is older than 22.15 (apt-get install zstd)';
        if (inCI) throw requirementError(why);
        console.warn(`replay bundle test: .tar.zst case skipped (${why})`);
        continue;
      }
      const bundle = join(tmp, name);
      const ex = await okvqa(['cache', 'export', join(tmp, 'run'), '--out', bundle], {});
      expect(ex.code, ex.stderr).toBe(0);
      expect(ex.stderr).toMatch(/wrote .*: \d+ cache entries for 3 questions/);
      expect(ex.stderr).not.toContain('warning');

      // "Another machine": an empty cache, no server, no key, no model settings in the environment.
      const cache = join(tmp, `replay-${name}.sqlite`);
      const im = await okvqa(['cache', 'import', bundle], { OKVQA_CACHE_PATH: cache });
      expect(im.code, im.stderr).toBe(0);
      expect(im.stderr).toMatch(/imported \d+ cache entries \(3 questions of pica-base\)/);
      const sets = [...im.stderr.matchAll(/--set (\S+)/g)].map((m) => m[1]!);
      expect(sets).toEqual(['llm.backend=openai', 'llm.model=test-davinci']);
      const out = join(tmp, `replayed-${name}`);
      const replay = await okvqa(['run', 'pica-base', '--data', data, '--out', out, '--cache', 'replay', '--no-progress', ...sets.flatMap((s) => ['--set', s])], { OKVQA_CACHE_PATH: cache });
      expect(replay.code, replay.stderr).toBe(0);
      expect(replay.stderr).toContain('pica-base: 3 answered, 0 failed');
      expect(readFileSync(join(out, 'predictions.json'), 'utf8')).toBe(readFileSync(join(tmp, 'run', 'predictions.json'), 'utf8'));
      expect(readFileSync(join(out, 'metrics.json'), 'utf8')).toBe(readFileSync(join(tmp, 'run', 'metrics.json'), 'utf8'));
    }
    expect(server.completionCalls.length).toBe(calls); // the replays asked the server nothing
  });

  it('a replay without the bundle fails on the first miss; a damaged bundle is refused', async () => {
    const empty = join(tmp, 'empty.sqlite');
    const im = await okvqa(['cache', 'import', join(tmp, 'bundle.tgz')], { OKVQA_CACHE_PATH: empty });
    expect(im.code).toBe(0);
    const bytes = readFileSync(join(tmp, 'bundle.tgz'));
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const tar = gunzipSync(bytes);
    const i = tar.indexOf('{"key":"'); // the first line of entries.jsonl
    expect(i).toBeGreaterThan(0);
    tar[i + 10] = tar[i + 10] === 0x61 ? 0x62 : 0x61; // change a byte of the entry's key
    writeFileSync(join(tmp, 'damaged.tgz'), gzipSync(tar));
    const bad = await okvqa(['cache', 'import', join(tmp, 'damaged.tgz')], { OKVQA_CACHE_PATH: join(tmp, 'other.sqlite') });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/does not match its checksum/);
    const none = await okvqa(['run', 'pica-base', '--data', data, '--out', join(tmp, 'nope'), '--cache', 'replay', '--no-progress', '--set', 'llm.backend=openai', '--set', 'llm.model=other-model'], { OKVQA_CACHE_PATH: empty });
    expect(none.stderr).toMatch(/3 failed/);
    expect(none.stderr).toMatch(/cache miss|replay/i);
  });
});
