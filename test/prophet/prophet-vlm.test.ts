/**
 * prophet-vlm: Prophet's prompt with a VLM's candidates (pipeline prophet, candidates node swapped for candidates.vlm),
 * at the loopback server: the VLM sees the photo and lists answers with confidences; Prophet's prompt shows them in its
 * `Candidates:` line for the question, while the in-context examples keep the released candidates.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { okvqaIn } from '../helpers/cli-inprocess.js';
import { completionReply, imagesOf, TestLlmServer } from '../llm/server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'test', 'fixtures', 'prophet');

describe('pipeline prophet-vlm', () => {
  let server: TestLlmServer;
  const prompts: string[] = [];
  let vlmCalls = 0;
  let run: { code: number; stdout: string; stderr: string };
  let out: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okvqa-prophet-vlm-'));
    const images = join(dir, 'val2014');
    mkdirSync(images);
    const qs = (JSON.parse(readFileSync(join(FIX, 'val_questions.json'), 'utf8')) as { questions: { image_id: number }[] }).questions.slice(0, 2);
    for (const q of qs) copyFileSync(join(ROOT, 'test', 'fixtures', 'images', 'coffee.png'), join(images, `COCO_val2014_${String(q.image_id).padStart(12, '0')}.png`));
    const data = JSON.parse(readFileSync(join(FIX, 'data.json'), 'utf8')) as Record<string, unknown>;
    const abs = (v: unknown): unknown => (typeof v === 'string' ? join(FIX, v) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, abs(x)])) : v);
    const moved = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, k === 'dataset' ? v : abs(v)]));
    writeFileSync(join(dir, 'data.json'), JSON.stringify({ ...moved, images }));
    server = await new TestLlmServer().start();
    server.handler = (body) => {
      if (Array.isArray(body.messages)) {
        vlmCalls++;
        if (!imagesOf(body).length) throw new Error('the VLM request carries no image');
        return completionReply(body, { text: '1. latte (0.62)\n2. espresso (0.25)\n3. tea (0.05)' });
      }
      prompts.push(body.prompt as string);
      return completionReply(body, { text: ' latte\n', tokens: [{ token: ' latte', logprob: -0.1 }, { token: '\n', logprob: -0.01 }] });
    };
    out = join(dir, 'run');
    run = await okvqaIn(
      ['run', 'prophet-vlm', '--data', join(dir, 'data.json'), '--out', out, '--cache', 'off', '--limit', '2', '--set', 'llm.backend=openai', '--set', 'llm.model=text-davinci-002', '--set', 'vlm.model=test-vlm'],
      { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test' },
    );
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("puts the VLM's candidates in the question's Candidates line and votes over the completions", () => {
    expect(run.code, run.stderr).toBe(0);
    expect(vlmCalls).toBeGreaterThanOrEqual(2); // one per question (+ the pre-flight probe)
    expect(prompts).toHaveLength(10); // 2 questions × 5 prompts
    for (const p of prompts) {
      const lines = p.split('\n');
      const last = lines.filter((l) => l.startsWith('Candidates:')).pop();
      expect(last).toBe('Candidates: latte(0.62), espresso(0.25), tea(0.05)');
      // The in-context examples keep the released candidates (Prophet's MCAN heuristics), not the VLM's.
      expect(lines.filter((l) => l.startsWith('Candidates:')).length).toBe(21);
    }
    const preds = JSON.parse(readFileSync(join(out, 'predictions.json'), 'utf8')) as { answer: string }[];
    expect(preds.map((p) => p.answer)).toEqual(['latte', 'latte']);
  });
});
