import { cleanEnv } from '../helpers/cli.js';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionReply, TestLlmServer } from './server.js';
import { FIXTURES, ROOT } from './helpers.js';
import { Cache } from '../../src/core/cache.js';
import { resolveConfig } from '../../src/core/config.js';
import { batchCollect, batchSubmit } from '../../src/llm/prompt-and-batch.js';

/** The built CLI, run asynchronously (the loopback server lives in this process). */
function okvqa(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin', 'okvqa.js'), ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const trace = (dir: string) => readFileSync(join(dir, 'trace.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

let server: TestLlmServer;
const tmp = mkdtempSync(join(tmpdir(), 'okvqa-pica-cli-'));
const dataPath = join(tmp, 'data.json');

beforeAll(async () => {
  server = await new TestLlmServer().start();
  // Images: the two fixture photos stand in for every COCO image (COCO file names, symlinked).
  const pics = [join(ROOT, 'test/fixtures/images/coffee.png'), join(ROOT, 'test/fixtures/images/astronaut.png')];
  const link = (dir: string, split: string, ids: number[]) => {
    mkdirSync(dir, { recursive: true });
    ids.forEach((id, i) => symlinkSync(pics[i % 2]!, join(dir, `COCO_${split}_${String(id).padStart(12, '0')}.png`)));
  };
  const ids = (f: string) => [...new Set((JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')).questions as { image_id: number }[]).map((q) => q.image_id))];
  link(join(tmp, 'train2014'), 'train2014', ids('train_questions.json'));
  link(join(tmp, 'val2014'), 'val2014', ids('val_questions.json'));
  const f = (n: string) => join(FIXTURES, n);
  writeFileSync(
    dataPath,
    JSON.stringify({
      dataset: 'okvqa',
      questions: f('val_questions.json'),
      annotations: f('val_annotations.json'),
      captions: f('val_captions.tsv'),
      tags: f('val_tags.tsv'),
      images: join(tmp, 'val2014'),
      examples: { questions: f('train_questions.json'), annotations: f('train_annotations.json'), captions: f('train_captions.json'), images: join(tmp, 'train2014') },
    }),
  );
});
afterAll(async () => {
  await server.stop();
});

describe('okvqa run pica-full against an OpenAI-compatible server', () => {
  const env = () => ({ OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'test', OKVQA_LLM_MODEL: 'test-davinci', OKVQA_CACHE_PATH: join(tmp, 'cache.sqlite') });

  it('sends the PICa protocol, records every prompt and completion in the trace; a rerun makes no call', async () => {
    server.handler = (body) => completionReply(body, { text: ' Toilet.', tokens: [{ token: ' Toilet', logprob: -0.3 }, { token: '.', logprob: -0.1 }] });
    const out = join(tmp, 'run1');
    const r = await okvqa(['run', 'pica-full', '--data', dataPath, '--out', out, '--profile', 'tiny', '--no-progress'], env());
    expect(r.stderr).toContain('pica-full: 3 answered, 0 failed');
    expect(r.code).toBe(0);
    expect(server.completionCalls).toHaveLength(15);
    for (const c of server.completionCalls) {
      expect(c.body).toMatchObject({ model: 'test-davinci', max_tokens: 5, temperature: 0, logprobs: 1, stop: ['\n', '<|endoftext|>'] });
      expect(c.body.prompt.startsWith('Please answer the question according to the above context.\n===\nContext: ')).toBe(true);
      expect(c.body.prompt.split('\n===\nQ: ')).toHaveLength(18); // 16 examples + the question (+ the head part)
    }
    const t = trace(out);
    expect(t).toHaveLength(3);
    for (const q of t) {
      const prompts = q.nodes.prompts.output;
      expect(prompts).toHaveLength(5);
      for (const p of prompts) {
        expect(server.completionCalls.map((c) => c.body.prompt)).toContain(p.prompt);
        expect(p.completion).toBe(' Toilet.');
        expect(p.logprob).toBeCloseTo(-0.4);
      }
      expect(new Set(prompts.flatMap((p: { exampleIds: string[] }) => p.exampleIds)).size).toBe(80);
      expect(q.prediction).toEqual({ answer: 'toilet', score: -0.4, method: 'logprob' });
      expect(q.usage).toMatchObject({ calls: 5, cachedCalls: 0 });
    }
    const preds = JSON.parse(readFileSync(join(out, 'predictions.json'), 'utf8'));
    expect(preds.map((p: { answer: string }) => p.answer)).toEqual(['toilet', 'toilet', 'toilet']);

    server.requests.length = 0;
    const again = await okvqa(['run', 'pica-full', '--data', dataPath, '--out', join(tmp, 'run2'), '--profile', 'tiny', '--no-progress'], env());
    expect(again.code).toBe(0);
    expect(server.completionCalls).toHaveLength(0);
    expect(trace(join(tmp, 'run2')).every((q) => q.nodes.prompts.cached === true)).toBe(true);
  }, 120_000);

  it('Ctrl-C after some questions finished: exit 130; --resume asks the server nothing for finished questions and reuses the interrupted one\'s finished nodes', async () => {
    server.requests.length = 0;
    server.handler = async (body) => {
      await new Promise((r) => setTimeout(r, 1500));
      return completionReply(body, { text: ' yes' });
    };
    const out = join(tmp, 'interrupted');
    const e = { ...env(), OKVQA_CACHE_PATH: join(tmp, 'cache-interrupt.sqlite') };
    const args = ['run', 'pica-base-caption', '--data', dataPath, '--out', out, '--no-progress', '--concurrency', '1'];
    const running = spawn(process.execPath, [join(ROOT, 'bin', 'okvqa.js'), ...args], { cwd: ROOT, env: { ...cleanEnv(), ...e } });
    let stderr = '';
    running.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => {
      running.on('close', (c) => resolve(c));
      // the second question's LLM request has arrived: the first question is finished, the second is in flight
      const poll = setInterval(() => {
        if (server.completionCalls.length >= 2) {
          clearInterval(poll);
          running.kill('SIGINT');
        }
      }, 20);
    });
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted: rerun with --resume/);
    const finished = trace(out).filter((q) => q.ok);
    expect(finished.length).toBeGreaterThanOrEqual(1);
    expect(finished.length).toBeLessThan(3);
    const prompt = (b: { prompt: string }) => b.prompt; // the whole prompt: its in-context examples differ per question
    const askedBefore = server.completionCalls.map((c) => prompt(c.body));
    const finishedPrompts = new Set(finished.map((q) => prompt({ prompt: q.nodes.prompts.output[0].prompt })));

    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: ' yes' });
    const again = await okvqa([...args, '--resume'], e);
    expect(again.code).toBe(0);
    const all = trace(out);
    expect(all).toHaveLength(3);
    expect(new Set(all.map((q) => q.questionId)).size).toBe(3);
    // requests counted at the server: one per unfinished question, none for a finished one
    const askedAfter = server.completionCalls.map((c) => prompt(c.body));
    expect(askedAfter).toHaveLength(3 - finished.length);
    for (const p of askedAfter) expect(finishedPrompts.has(p)).toBe(false);
    // the interrupted question (its request was in flight) finds its finished nodes in the cache
    const interrupted = all.find((q) => !finished.some((f) => f.questionId === q.questionId) && askedBefore.includes(prompt({ prompt: q.nodes.prompts.output[0].prompt })));
    expect(interrupted, 'the question in flight at Ctrl-C').toBeDefined();
    expect(interrupted.nodes.examples.cached).toBe(true);
    expect(interrupted.nodes.prompts.cached).toBe(false);
  }, 60_000);

  it('a malformed response fails its question with a clear error; the batch goes on', async () => {
    server.requests.length = 0;
    server.handler = (body) =>
      body.prompt.includes('Q: Who leaves a toilet like this?\nA:') ? { json: { object: 'text_completion', choices: [{ index: 0 }] } } : completionReply(body, { text: ' yes' });
    const out = join(tmp, 'malformed');
    const r = await okvqa(
      ['run', 'pica-base-caption', '--data', dataPath, '--out', out, '--no-progress'],
      { ...env(), OKVQA_CACHE_PATH: join(tmp, 'cache-malformed.sqlite') },
    );
    expect(r.code).toBe(3); // some questions failed (README, "Exit codes")
    expect(r.stderr).toContain('pica-base-caption: 2 answered, 1 failed');
    expect(r.stderr).toMatch(/failed ×1: prompts \(prompt\.pica\): .*malformed LLM response: choices\[.\]\.text is not a string/);
    const failed = trace(out).find((q) => !q.ok);
    expect(failed.questionId).toBe('5723996');
    expect(failed.error).toMatchObject({ node: 'prompts', stage: 'prompt.pica' });
    expect(failed.error.message).toContain('question 5723996: node "prompts" (prompt.pica): LLM openai request to model test-davinci failed: malformed LLM response: choices[0].text is not a string');
  }, 60_000);

  it('Batch API workflow: queue (backend batch), submit, collect --wait, rerun without live calls', async () => {
    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: ' batch answer' });
    const e = { ...env(), OKVQA_CACHE_PATH: join(tmp, 'batch', 'cache.sqlite') };
    const first = await okvqa(['run', 'pica-base-caption', '--data', dataPath, '--out', join(tmp, 'b1'), '--no-progress'], { ...e, OKVQA_LLM_BACKEND: 'batch' });
    expect(first.stderr).toContain('0 answered, 3 failed');
    expect(first.stderr).toMatch(/queued for the OpenAI Batch API/);
    const sub = await okvqa(['llm', 'batch', 'submit', '--json'], e);
    expect(sub.code).toBe(0);
    expect(JSON.parse(sub.stdout).created[0]).toMatchObject({ requests: 3, endpoint: '/v1/completions' });
    const col = await okvqa(['llm', 'batch', 'collect', '--wait', '--interval', '0.01', '--json'], e);
    expect(col.code).toBe(0);
    expect(JSON.parse(col.stdout)).toMatchObject({ stored: 3, failed: [], done: true });
    expect(server.completionCalls).toHaveLength(0);
    const rerun = await okvqa(['run', 'pica-base-caption', '--data', dataPath, '--out', join(tmp, 'b2'), '--no-progress'], e);
    expect(rerun.stderr).toContain('3 answered, 0 failed');
    expect(server.completionCalls).toHaveLength(0);
    expect(trace(join(tmp, 'b2')).map((q) => q.prediction.answer)).toEqual(['batch answer', 'batch answer', 'batch answer']);
  }, 60_000);

  it('Batch API: failed and expired batches are reported with their error, shown by status, queued again by the next submit', async () => {
    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: ' batch answer' });
    const fates = [
      { status: 'failed' as const, errors: [{ code: 'token_limit_exceeded', message: 'Enqueued token limit reached for test-davinci', line: null }] },
      { status: 'expired' as const, completedLines: 2 },
    ];
    server.batchFate = () => fates.shift();
    const e = { ...env(), OKVQA_CACHE_PATH: join(tmp, 'batch-fail', 'cache.sqlite') };
    await okvqa(['run', 'pica-base-caption', '--data', dataPath, '--out', join(tmp, 'bf1'), '--no-progress'], { ...e, OKVQA_LLM_BACKEND: 'batch' });
    const sub1 = await okvqa(['llm', 'batch', 'submit', '--json'], e);
    const failedId = JSON.parse(sub1.stdout).created[0].id;
    const col1 = await okvqa(['llm', 'batch', 'collect', '--wait', '--interval', '0.01'], e);
    expect(col1.code).toBe(1);
    expect(col1.stdout).toContain(`${failedId} ended failed: token_limit_exceeded: Enqueued token limit reached for test-davinci — 3 of 3 requests unanswered`);
    const status = await okvqa(['llm', 'batch', 'status'], e);
    expect(status.stdout).toContain(`${failedId}: failed (collected), 3 requests — token_limit_exceeded: Enqueued token limit reached for test-davinci; its requests are queued again by the next`);
    expect(status.code).toBe(1);

    // The next submit queues the failed batch's 3 requests again; that batch expires after answering 2 of them.
    // (In process from here: the same library calls the CLI makes, without a process start each.)
    const config = resolveConfig({
      overrides: { cache: { path: e.OKVQA_CACHE_PATH }, llm: { baseURL: server.baseURL, apiKey: 'test', model: 'test-davinci' } },
      env: {},
    });
    const sub2 = await batchSubmit(config);
    expect(sub2.requeued).toEqual([expect.objectContaining({ id: failedId, requeued: 3 })]);
    expect(sub2.created[0]).toMatchObject({ requests: 3 });
    const col2 = await batchCollect(config, { wait: true, intervalMs: 10 });
    expect(col2.stored).toBe(2);
    expect(col2.unsuccessful).toEqual([expect.objectContaining({ status: 'expired', answered: 2, requests: 3, error: expect.stringMatching(/expired/) })]);

    // Only the one unanswered request goes out again; then every request has its answer in the cache.
    const sub3 = await batchSubmit(config);
    expect(sub3.requeued[0]).toMatchObject({ status: 'expired', requeued: 1 });
    expect(sub3.created[0]).toMatchObject({ requests: 1 });
    const col3 = await batchCollect(config, { wait: true, intervalMs: 10 });
    expect(col3).toMatchObject({ stored: 1, failed: [], unsuccessful: [] });
    const cache = new Cache(e.OKVQA_CACHE_PATH, 'ro');
    const input = readFileSync(join(tmp, 'batch-fail', 'llm-batches', `${failedId}.input.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l).custom_id as string);
    expect(input.every((k) => cache.get(k) !== undefined)).toBe(true);
    cache.close();
    expect(server.completionCalls).toHaveLength(0);
    server.batchFate = () => undefined;
  }, 150_000);

  it('okvqa llm complete: one cached completion', async () => {
    server.requests.length = 0;
    server.handler = (body) => completionReply(body, { text: ' Paris', tokens: [{ token: ' Paris', logprob: -0.25 }] });
    const e = { ...env(), OKVQA_CACHE_PATH: join(tmp, 'complete.sqlite') };
    const a = await okvqa(['llm', 'complete', 'Q: capital of France?\\nA:', '--json'], e);
    expect(a.code).toBe(0);
    const r = JSON.parse(a.stdout);
    expect(r).toMatchObject({ cached: false, logprob: -0.25, response: { text: ' Paris' } });
    expect(server.completionCalls[0]!.body).toMatchObject({ prompt: 'Q: capital of France?\nA:', max_tokens: 5, logprobs: 1 });
    const b = await okvqa(['llm', 'complete', 'Q: capital of France?\\nA:', '--json'], e);
    expect(JSON.parse(b.stdout).cached).toBe(true);
    expect(server.completionCalls).toHaveLength(1);
  }, 30_000);

  it('--profile tiny without a server: the embedded backend (generated GPT-2) answers with logprobs', async () => {
    const out = join(tmp, 'tiny-local');
    const r = await okvqa(['run', 'pica-base', '--data', dataPath, '--out', out, '--profile', 'tiny', '--no-progress'], {
      OPENAI_BASE_URL: '',
      OPENAI_API_KEY: '',
      OKVQA_CACHE_PATH: join(tmp, 'tiny.sqlite'),
    });
    expect(r.stderr).toContain('pica-base: 3 answered, 0 failed');
    expect(r.stderr).toMatch(/LLM: 3 calls \(0 cached\)/);
    for (const q of trace(out)) {
      const [p] = q.nodes.prompts.output;
      expect(p.model).toBe('okvqa-tiny-llm/gpt2');
      expect(p.logprob).toBeLessThanOrEqual(0);
      expect(p.tokens.length).toBeGreaterThan(0);
      expect(q.prediction.method).toBe('logprob');
    }
  }, 60_000);
});
