/**
 * Golden test: the `prophet` pipeline against a loopback server that answers with the very completions Prophet's own
 * code (MILVLG/prophet prompt.py Runner.run) was given, on the same released-format inputs (test/fixtures/prophet:
 * README.md says how golden.json was made). Prompts must be byte-identical, requests the same, votes the same.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { okvqaIn } from '../helpers/cli-inprocess.js';
import { completionReply, TestLlmServer } from '../llm/server.js';
import { prepAns, pyFormat2 } from '../../src/llm/prophet.js';
import { loadDataFile, loadSamples } from '../../src/data/data-file.js';
import { examplesProphet } from '../../src/stages/examples/prophet.js';
import { makeCtx } from '../llm/helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
interface Golden {
  calls: { question_id: string; t: number; request: Record<string, unknown> }[];
  results: Record<string, { question_id: string; answer: string; prompt_info: { prompt: string; answer: string; confidence: number }[] }>;
  prep_ans: Record<string, string>;
  format2: [number, string][];
}
function goldenSuite(name: string, FIX: string): void {
  const golden = JSON.parse(readFileSync(join(FIX, 'golden.json'), 'utf8')) as Golden;
  const responses = JSON.parse(readFileSync(join(FIX, 'responses.json'), 'utf8')) as {
    question_id: string;
    t: number;
    text: string;
    tokens: { token: string; logprob: number }[];
  }[];

  // Prophet's prompt → the completion Prophet's run got for it
  const byPrompt = new Map<string, (typeof responses)[number]>();
  for (const r of responses) byPrompt.set(golden.results[r.question_id]!.prompt_info[r.t]!.prompt, r);

  let server: TestLlmServer;
  let out: string;
  let run: { code: number; stdout: string; stderr: string };
  const unknownPrompts: string[] = [];

  beforeAll(async () => {
    server = await new TestLlmServer().start();
    server.handler = (body) => {
      const r = byPrompt.get(body.prompt);
      if (!r) {
        unknownPrompts.push(body.prompt);
        return completionReply(body, { text: ' not a prompt prophet made', tokens: [{ token: ' x', logprob: -9 }] });
      }
      return completionReply(body, { text: r.text, tokens: r.tokens });
    };
    out = join(mkdtempSync(join(tmpdir(), 'okvqa-prophet-')), 'run');
    run = await okvqaIn(
      ['run', 'prophet', '--data', join(FIX, 'data.json'), '--out', out, '--cache', 'off', '--set', 'llm.backend=openai', '--set', 'llm.model=text-davinci-002'],
      { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test' },
    );
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  const trace = () =>
    readFileSync(join(out, 'trace.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  describe(`prophet pipeline = Prophet stage 2 (golden, ${name})`, () => {
    it('runs every question', () => {
      expect(run.stderr + run.stdout).not.toMatch(/error/i);
      expect(run.code).toBe(0);
    });

    it('sends exactly the prompts Prophet made, byte for byte, with its request', () => {
      expect(unknownPrompts.map((p) => p.slice(-400))).toEqual([]);
      const sent = server.completionCalls.map((c) => c.body.prompt as string).sort();
      const want = Object.values(golden.results).flatMap((r) => r.prompt_info.map((p) => p.prompt)).sort();
      expect(sent).toEqual(want);
      for (const c of server.completionCalls) {
        const { prompt: _p, model, ...rest } = c.body;
        expect(model).toBe(golden.calls[0]!.request.engine);
        expect(rest).toEqual({ max_tokens: 8, temperature: 0, logprobs: 1, stop: ['\n', '<|endoftext|>'] });
      }
      expect(golden.calls[0]!.request).toMatchObject({ max_tokens: 8, temperature: 0, logprobs: 1, stop: ['\n', '<|endoftext|>'] });
    });

    it('gives each prompt its place (prompt t of question q), its answer and confidence as Prophet', () => {
      for (const line of trace()) {
        const prompts = line.nodes.prompts.output as { index: number; prompt: string; logprob: number }[];
        const want = golden.results[line.questionId]!.prompt_info;
        expect(prompts.map((p) => p.prompt)).toEqual(want.map((w) => w.prompt));
        prompts.forEach((p, t) => {
          // math.exp and Math.exp may differ in the last bit
          expect(Math.exp(p.logprob)).toBeCloseTo(want[t]!.confidence, 14);
        });
      }
    });

    it("votes Prophet's answers", () => {
      const ours = Object.fromEntries(trace().map((l) => [l.questionId, l.nodes.answer.output.answer]));
      const theirs = Object.fromEntries(Object.values(golden.results).map((r) => [r.question_id, r.answer]));
      expect(Object.keys(theirs).length).toBeGreaterThan(0);
      expect(ours).toEqual(theirs);
      const methods = trace().map((l) => l.nodes.answer.output.method);
      expect(methods).toContain('top-candidate'); // the question whose completions are all empty
      expect(methods).toContain('vote');
    });

    it('a question answered alone (a --limit run, the library) gets the order it has in the full run', async () => {
      const data = loadDataFile(join(FIX, 'data.json'));
      const samples = loadSamples(data);
      const full = new Map(trace().map((l) => [l.questionId, (l.nodes.examples.output as { questionId: string }[]).map((e) => e.questionId)]));
      for (const s of [samples[samples.length - 1]!, samples[3]!]) {
        const alone = await examplesProphet.run({ sample: s, fallback: undefined }, examplesProphet.params.parse({}), makeCtx({ data, questionId: s.questionId }));
        expect(alone.map((e) => e.questionId)).toEqual(full.get(s.questionId));
      }
    });

    it('prep_ans and the 2-decimal confidence format match Prophet / Python', () => {
      for (const [input, want] of Object.entries(golden.prep_ans)) expect([input, prepAns(input)]).toEqual([input, want]);
      for (const [x, want] of golden.format2) expect([x, pyFormat2(x)]).toEqual([x, want]);
    });
  });
}

goldenSuite('OK-VQA, task ok', join(ROOT, 'test/fixtures/prophet'));
goldenSuite('A-OKVQA, task aok_val', join(ROOT, 'test/fixtures/prophet/aokvqa'));
