import type { Command } from 'commander';
import { collect, readConfigFile, withConfigOptions, type ConfigOptions } from '../options.js';

interface ServeOptions extends ConfigOptions {
  pipeline: string;
  data?: string;
  port: string;
  host: string;
  allow: string[];
  maxUploadMb: string;
  maxPixels: string;
  timeoutS: string;
  concurrency?: string;
  maxQueue: string;
}

function num(v: string, flag: string, integer = false): number {
  const n = Number(v);
  if (!(n > 0) || (integer && !Number.isInteger(n))) throw new Error(`${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${v}"`);
  return n;
}

/** Registers `okvqa serve`: the QA web page and JSON API over createAnswerer. */
export function register(program: Command): void {
  withConfigOptions(
    program
      .command('serve')
      .description('HTTP server: a page to ask about an image, and POST /api/answer (multipart image + question, or JSON with an allowed image path)')
      .requiredOption('--pipeline <name>', 'pipeline name or YAML path')
      .option('--data <data.json>', 'what the pipeline needs besides the image: knowledge base, example pool, captions…')
      .option('--port <n>', 'port (0 picks a free one)', '8080')
      .option('--host <addr>', 'address to listen on (loopback by default; 0.0.0.0 exposes it to the network)', '127.0.0.1')
      .option('--allow <dir>', 'folder whose images JSON requests may name by path (repeatable; the data\'s images folder is allowed)', collect, [])
      .option('--max-upload-mb <n>', 'largest upload', '10')
      .option('--max-pixels <n>', 'largest image, width × height', '40000000')
      .option('--timeout-s <n>', 'time a request may take, waiting included', '120')
      .option('--concurrency <n>', 'questions answered at once (default 1)')
      .option('--max-queue <n>', 'requests allowed to wait before the server answers 503', '16'),
  ).action(async (opts: ServeOptions) => {
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0–65535, got "${opts.port}"`);
    const limits = {
      maxUploadBytes: Math.round(num(opts.maxUploadMb, '--max-upload-mb') * 1e6),
      maxPixels: num(opts.maxPixels, '--max-pixels', true),
      timeoutMs: Math.round(num(opts.timeoutS, '--timeout-s') * 1000),
      concurrency: opts.concurrency ? num(opts.concurrency, '--concurrency', true) : 1,
      maxQueue: num(opts.maxQueue, '--max-queue', true),
    };
    const { createAnswerer } = await import('../../answerer.js');
    const { createQaServer } = await import('../../serve/server.js');
    const sets = [...(opts.set ?? [])];
    if (opts.profile) sets.push(`models.profile=${opts.profile}`);
    if (opts.offline) sets.push('models.offline=true');
    const log = (m: string) => process.stderr.write(`${m}\n`);
    const answerer = createAnswerer({
      pipeline: opts.pipeline,
      sets,
      configFile: readConfigFile(opts.config).value,
      ...(opts.data !== undefined ? { data: opts.data } : {}),
      log: { debug: () => {}, info: log, warn: (m) => log(`warning: ${m}`) },
    });
    const allow = [...opts.allow];
    if (answerer.context.data.images) allow.push(answerer.context.data.images);
    const qa = createQaServer({ answerer, allow, limits, log });
    const { url } = await qa.listen(port, opts.host);
    if (answerer.defaultData) log(`note: profile tiny without --data: knowledge base and example pool from ${answerer.defaultData}`);
    for (const a of answerer.adaptations) log(`note: node "${a.node}" uses ${a.to} instead of ${a.from} (${a.why})`);
    if (!['127.0.0.1', '::1', 'localhost'].includes(opts.host)) log(`warning: listening on ${opts.host}: reachable from other machines, with no authentication`);
    log(`okvqa serve: ${answerer.pipeline.name} at ${url} (Ctrl-C stops)`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await qa.close();
    await answerer.close();
  });
}
