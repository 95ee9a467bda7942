import type { Command } from 'commander';
import type { batchCollect } from '../../llm/prompt-and-batch.js';

/** The LLM layer (openai, transformers.js) loads only when a command runs. */
const llmApi = () => import('../../llm/prompt-and-batch.js');
import { collect, configFromOptions, withConfigOptions, type ConfigOptions } from '../options.js';

interface CompleteFlags extends ConfigOptions {
  maxTokens?: string;
  temperature?: string;
  stop?: string[];
  logprobs?: boolean;
  json?: boolean;
}

interface BatchFlags extends ConfigOptions {
  wait?: boolean;
  interval?: string;
  timeout?: string;
  json?: boolean;
}

function num(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag} expects a non-negative number, got "${v}"`);
  return n;
}

const out = (json: boolean | undefined, value: unknown, text: string) => process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);

/** Registers `okvqa llm complete` and `okvqa llm batch submit|status|collect`. */
export function register(program: Command): void {
  const llm = program.command('llm').description('the LLM layer: one cached completion, OpenAI Batch API runs');

  withConfigOptions(
    llm
      .command('complete <prompt>')
      .description('complete a prompt with the configured backend (cached like pipeline calls); PICa request defaults')
      .option('--max-tokens <n>', 'max completion tokens (default 5)')
      .option('--temperature <t>', 'sampling temperature (default 0)')
      .option('--stop <s>', 'stop sequence (repeatable; default "\\n" and "<|endoftext|>")', collect)
      .option('--no-logprobs', 'do not ask for token log-probabilities')
      .option('--json', 'print {request, response, cached, logprob, usage} as JSON'),
  ).action(async (prompt: string, f: CompleteFlags) => {
    const config = configFromOptions(f);
    const r = await (await llmApi()).completePrompt(config, {
      prompt: prompt.replace(/\\n/g, '\n'),
      maxTokens: num('max-tokens', f.maxTokens, 5),
      temperature: num('temperature', f.temperature, 0),
      logprobs: f.logprobs !== false,
      stop: f.stop ?? ['\n', '<|endoftext|>'],
    });
    out(f.json, r, `${JSON.stringify(r.response.text)}  logprob=${r.logprob ?? 'n/a'}  model=${r.response.model}${r.cached ? '  (cached)' : ''}`);
  });

  const batch = llm.command('batch').description('OpenAI Batch API: runs with llm.backend=batch queue requests; submit, then collect, then rerun');
  withConfigOptions(batch.command('submit').description('upload the queued requests and create batches').option('--json', 'JSON output')).action(
    async (f: BatchFlags) => {
      const r = await (await llmApi()).batchSubmit(configFromOptions(f));
      out(f.json, r, r.created.length ? r.created.map((b) => `${b.id}: ${b.requests} requests to ${b.endpoint} (${b.status})`).join('\n') : `nothing queued in ${r.dir}`);
    },
  );
  withConfigOptions(batch.command('status').description('refresh and show the state of submitted batches').option('--json', 'JSON output')).action(
    async (f: BatchFlags) => {
      const r = await (await llmApi()).batchStatus(configFromOptions(f));
      out(f.json, r, r.batches.map((b) => `${b.id}: ${b.status}${b.ingested ? ' (collected)' : ''}, ${b.requests} requests`).join('\n') || `no batches in ${r.dir}`);
    },
  );
  withConfigOptions(
    batch
      .command('collect')
      .description('download finished batches into the cache (then rerun the pipeline)')
      .option('--wait', 'poll until every batch is finished')
      .option('--interval <s>', 'seconds between polls with --wait (default 30)')
      .option('--timeout <s>', 'give up waiting after this many seconds')
      .option('--json', 'JSON output'),
  ).action(async (f: BatchFlags) => {
    const opts: Parameters<typeof batchCollect>[1] = { wait: !!f.wait, intervalMs: num('interval', f.interval, 30) * 1000 };
    if (f.timeout !== undefined) opts.timeoutMs = num('timeout', f.timeout, 0) * 1000;
    const r = await (await llmApi()).batchCollect(configFromOptions(f), opts);
    out(f.json, r, `stored ${r.stored} responses from ${r.batches} batches${r.failed.length ? `; ${r.failed.length} failed (they are queued again on rerun)` : ''}`);
    if (r.failed.length) process.exitCode = 1;
  });
}
