import type { Command } from 'commander';
import type { batchCollect } from '../../llm/prompt-and-batch.js';
import type { BatchRecord } from '../../llm/batch.js';

/** The LLM layer (openai, transformers.js) loads only when a command runs. */
const llmApi = () => import('../../llm/prompt-and-batch.js');
import { collect, configFromOptions, parseNumberFlag, withConfigOptions, type ConfigOptions } from '../options.js';

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


const UNSUCCESSFUL_STATES = new Set(['failed', 'expired', 'cancelled']);

/** One line per batch for `llm batch status`: state, error of an unsuccessful batch, and whether it was queued again. */
function describeBatch(b: BatchRecord): string {
  const head = `${b.id}: ${b.status}${b.ingested ? ' (collected)' : ''}, ${b.requests} requests`;
  if (!UNSUCCESSFUL_STATES.has(b.status)) return head;
  const next = b.requeuedAt ? `${b.requeued ?? 0} requests queued again` : 'its requests are queued again by the next `okvqa llm batch submit`';
  return `${head} — ${b.error ?? 'no reason given'}; ${next}`;
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
      maxTokens: parseNumberFlag('max-tokens', f.maxTokens, { integer: true, positive: true }) ?? 5,
      temperature: parseNumberFlag('temperature', f.temperature, { min: 0 }) ?? 0,
      logprobs: f.logprobs !== false,
      stop: f.stop ?? ['\n', '<|endoftext|>'],
    });
    out(f.json, r, `${JSON.stringify(r.response.text)}  logprob=${r.logprob ?? 'n/a'}  model=${r.response.model}${r.cached ? '  (cached)' : ''}`);
  });

  const batch = llm.command('batch').description('OpenAI Batch API: runs with llm.backend=batch queue requests; submit, then collect, then rerun');
  withConfigOptions(batch.command('submit').description('upload the queued requests and create batches').option('--json', 'JSON output')).action(
    async (f: BatchFlags) => {
      const r = await (await llmApi()).batchSubmit(configFromOptions(f));
      const lines = [
        ...r.requeued.map((b) => `${b.id} ended ${b.status}: ${b.error ?? 'no reason given'} — ${b.requeued} of its ${b.requests} requests queued again`),
        ...(r.created.length ? r.created.map((b) => `${b.id}: ${b.requests} requests to ${b.endpoint} (${b.status})`) : [`nothing queued in ${r.dir} (a run with llm.backend=batch queues requests)`]),
      ];
      out(f.json, r, lines.join('\n'));
    },
  );
  withConfigOptions(batch.command('status').description('refresh and show the state of submitted batches').option('--json', 'JSON output')).action(
    async (f: BatchFlags) => {
      const r = await (await llmApi()).batchStatus(configFromOptions(f));
      out(f.json, r, r.batches.map(describeBatch).join('\n') || `nothing queued and no batches in ${r.dir} (a run with llm.backend=batch queues requests; then okvqa llm batch submit)`);
      if (r.batches.some((b) => UNSUCCESSFUL_STATES.has(b.status) && !b.requeuedAt)) process.exitCode = 1;
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
    const opts: Parameters<typeof batchCollect>[1] = { wait: !!f.wait, intervalMs: (parseNumberFlag('interval', f.interval, { min: 0 }) ?? 30) * 1000 };
    if (f.timeout !== undefined) opts.timeoutMs = (parseNumberFlag('timeout', f.timeout, { min: 0 }) ?? 0) * 1000;
    const r = await (await llmApi()).batchCollect(configFromOptions(f), opts);
    const lines = [
      `stored ${r.stored} responses from ${r.batches} batches${r.failed.length ? `; ${r.failed.length} failed (they are queued again on rerun)` : ''}`,
      ...r.unsuccessful.map(
        (b) => `${b.id} ended ${b.status}: ${b.error} — ${b.requests - b.answered} of ${b.requests} requests unanswered; \`okvqa llm batch submit\` queues them again`,
      ),
    ];
    out(f.json, r, lines.join('\n'));
    if (r.failed.length || r.unsuccessful.length) process.exitCode = 1;
  });
}
