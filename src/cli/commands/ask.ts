import type { Command } from 'commander';
import type { AnswerResult } from '../../answer/result.js';
import { checkDevice } from '../../stages/checks.js';
import { PreflightError } from '../exit-codes.js';
import { readConfigFile, withConfigOptions, type ConfigOptions } from '../options.js';

interface AskOptions extends ConfigOptions {
  pipeline: string;
  data?: string;
  imageId?: string;
  json?: boolean;
  passages?: string;
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** The answer and the knowledge used, for a person at a terminal (the --json form carries everything). */
export function formatAnswer(r: AnswerResult, pipeline: string, maxPassages: number): string {
  const lines: string[] = [];
  if (!r.ok) {
    lines.push(`no answer: ${r.error ? `${r.error.node} (${r.error.stage}): ${r.error.message}` : 'unknown error'}`);
  } else {
    lines.push(`answer: ${r.answer}${r.score !== undefined ? `  (score ${r.score.toFixed(3)})` : ''}`);
  }
  lines.push(`pipeline: ${pipeline}  image: ${r.image.id !== undefined ? `COCO ${r.image.id}` : r.image.hash ? `sha256 ${r.image.hash.slice(0, 12)}…` : 'none'}`);
  if (r.captions.length) lines.push(`caption: ${r.captions.map((c) => c.text).join(' | ')}`);
  if (r.regions.length) {
    lines.push(`regions (${r.regions.length}):`);
    for (const [i, reg] of r.regions.entries()) {
      const tags = r.tags.filter((t) => t.region === i).map((t) => t.label);
      const b = reg.box;
      lines.push(`  ${String(i).padStart(2)} ${reg.label ?? reg.source}${reg.score !== undefined ? ` ${reg.score.toFixed(2)}` : ''} [${b.xmin}, ${b.ymin}, ${b.xmax}, ${b.ymax}]${tags.length ? `  tags: ${tags.join(', ')}` : ''}`);
    }
  } else if (r.tags.length) lines.push(`tags: ${r.tags.map((t) => t.label).join(', ')}`);
  const withRationale = r.candidates.filter((c) => c.evidence);
  if (withRationale.length) {
    lines.push('candidates (implicit knowledge):');
    for (const c of withRationale) lines.push(`  ${c.answer} — ${clip(c.evidence ?? '', 100)}`);
  } else if (r.candidates.length) lines.push(`candidates: ${r.candidates.slice(0, 10).map((c) => c.answer).join(', ')}`);
  if (r.passages.length) {
    const ranked = r.passages.some((p) => p.attribution !== undefined)
      ? [...r.passages].sort((a, b) => (b.attribution ?? -Infinity) - (a.attribution ?? -Infinity))
      : r.passages;
    lines.push(`passages read (${r.passages.length}${ranked !== r.passages ? ', by attribution' : ''}; first ${Math.min(maxPassages, ranked.length)}):`);
    for (const p of ranked.slice(0, maxPassages)) {
      const attr = p.attribution !== undefined ? `${p.attribution.toFixed(4)} ` : '';
      const region = p.region !== undefined ? ` (region ${p.region})` : '';
      lines.push(`  ${attr}${clip(p.text, 110)}${region}`);
    }
  }
  for (const [node, notes] of Object.entries(r.notes)) {
    for (const [k, v] of Object.entries(notes)) {
      if (k.startsWith('rationale:')) continue; // shown with the candidates
      lines.push(`note ${node}.${k}: ${clip(typeof v === 'string' ? v : JSON.stringify(v), 160)}`);
    }
  }
  lines.push(`time: ${r.ms.toFixed(0)} ms — ${r.timings.map((t) => `${t.node} ${t.ms.toFixed(0)}${t.cached ? ' (cached)' : ''}`).join(', ')}`);
  return lines.join('\n');
}

/** Registers `okvqa ask <image> <question>`. */
export function register(program: Command): void {
  withConfigOptions(
    program
      .command('ask <image> <question>')
      .description('answer one question about any image file, or - for stdin (no dataset or COCO id needed); prints the answer and the knowledge used')
      .option('--pipeline <name>', 'pipeline name or YAML path (kat, revive, pica-base, …)', 'revive')
      .option('--data <data.json>', 'knowledge base, example pool, captions… (default with --profile tiny: the bundled tiny KB and pool)')
      .option('--image-id <id>', 'COCO image id of the image (then it identifies the image and file captions/tags apply)')
      .option('--passages <n>', 'passages to print', '10')
      .option('--json', 'print the whole result as JSON'),
  ).action(async (image: string, question: string, opts: AskOptions) => {
    const { createAnswerer } = await import('../../answerer.js'); // stages and model libraries load only when used
    const input: { image: string | Buffer; question: string; imageId?: number } = { image, question };
    if (image === '-') {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      input.image = Buffer.concat(chunks);
    }
    if (opts.imageId !== undefined) {
      const id = Number(opts.imageId);
      if (!Number.isInteger(id) || id < 0) throw new Error(`--image-id must be a non-negative integer, got "${opts.imageId}"`);
      input.imageId = id;
    }
    const maxPassages = Number(opts.passages);
    if (!Number.isInteger(maxPassages) || maxPassages < 0) throw new Error(`--passages must be a non-negative integer, got "${opts.passages}"`);
    const sets = [...(opts.set ?? [])];
    if (opts.profile) sets.push(`models.profile=${opts.profile}`);
    if (opts.offline) sets.push('models.offline=true');
    if (opts.device) sets.push(`models.device=${opts.device}`);
    const answerer = createAnswerer({
      pipeline: opts.pipeline,
      sets,
      configFile: readConfigFile(opts.config).value,
      ...(opts.data !== undefined ? { data: opts.data } : {}),
      log: { debug: () => {}, info: (m) => process.stderr.write(`${m}\n`), warn: (m) => process.stderr.write(`warning: ${m}\n`) },
    });
    try {
      // models.device before anything loads: cuda that cannot start here is refused (exit 2), auto warns and uses the CPU
      for (const f of await checkDevice(answerer.context)) {
        if (f.severity === 'error') throw new PreflightError(`${f.key}: ${f.message}${f.fix ? `\n  fix: ${f.fix}` : ''}`);
        process.stderr.write(`warning: ${f.key}: ${f.message}\n`);
      }
      if (answerer.defaultData) process.stderr.write(`note: profile tiny without --data: knowledge base and example pool from ${answerer.defaultData}\n`);
      for (const a of answerer.adaptations) process.stderr.write(`note: node "${a.node}" uses ${a.to} instead of ${a.from} (${a.why})\n`);
      const r = await answerer.answer(input);
      if (opts.json) process.stdout.write(`${JSON.stringify({ pipeline: answerer.pipeline.name, adaptations: answerer.adaptations, ...r })}\n`);
      else process.stdout.write(`${formatAnswer(r, answerer.pipeline.name, maxPassages)}\n`);
      if (!r.ok) process.exitCode = 1;
    } finally {
      await answerer.close();
    }
  });
}
