/**
 * The CLI's commands, loaded lazily: `okvqa <command>` imports only the module that defines <command>, and the
 * top-level help lists every command from this table without importing any (so `okvqa --help` starts in about the time
 * of a bare `node`). A new command module gets one entry here; test/cli/command-table.test.ts checks the table's terms and
 * descriptions against what the modules register.
 */
import type { Command } from 'commander';

export interface CommandModule {
  register(program: Command): void;
}

export interface CommandHelp {
  name: string;
  /** The command's term in the top-level help, as commander prints it (`run [options] <pipeline>`). */
  term: string;
  description: string;
}

export interface CommandEntry {
  /** The commands the module registers. */
  commands: CommandHelp[];
  load(): Promise<CommandModule>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    commands: [{ name: 'run', term: 'run [options] [pipeline]', description: 'run a pipeline over a dataset; writes predictions.json, metrics.json, trace.jsonl, manifest.json' }],
    load: () => import('./commands/run.js'),
  },
  {
    commands: [{ name: 'worker', term: 'worker [options] [pipeline]', description: 'answer the questions of distributed runs (okvqa run … --queue) from a PostgreSQL queue, with the shared cache' }],
    load: () => import('./commands/worker.js'),
  },
  {
    commands: [{ name: 'check', term: 'check [options] [pipeline]', description: 'check, without running anything, that every node of a pipeline has the inputs it needs (exit 2 on errors)' }],
    load: () => import('./commands/check.js'),
  },
  {
    commands: [{ name: 'eval', term: 'eval [options]', description: 'score predictions exactly as the official evaluators (VQA vqaEval.py for OK-VQA, eval_predictions.py for A-OKVQA) and place them among published results' }],
    load: () => import('./commands/eval.js'),
  },
  {
    commands: [{ name: 'graph', term: 'graph [options] <pipeline>', description: 'compile a pipeline and print its DAG' }],
    load: () => import('./commands/graph.js'),
  },
  {
    commands: [{ name: 'stages', term: 'stages [options]', description: 'list the registered stages with their inputs, output and params' }],
    load: () => import('./commands/stages.js'),
  },
  {
    commands: [
      { name: 'detect', term: 'detect [options] <image>', description: 'detect objects in an image; boxes in image pixels' },
      { name: 'embed', term: 'embed [options]', description: 'CLIP embedding of an image or a text: prints its dimension and norm (and the vector with --json)' },
    ],
    load: () => import('./commands/vision.js'),
  },
  {
    commands: [{ name: 'llm', term: 'llm', description: 'the LLM layer: one cached completion, OpenAI Batch API runs' }],
    load: () => import('./commands/llm.js'),
  },
  {
    commands: [{ name: 'kb', term: 'kb', description: 'knowledge bases: Wikidata subsets and WordNet in SQLite, with CLIP vectors' }],
    load: () => import('./commands/kb.js'),
  },
  {
    commands: [{ name: 'data', term: 'data', description: 'datasets: download the official files' }],
    load: () => import('./commands/data.js'),
  },
  {
    commands: [{ name: 'export', term: 'export', description: 'export a finished run for other tools' }],
    load: () => import('./commands/export.js'),
  },
  {
    commands: [{ name: 'reader', term: 'reader', description: 'FiD reader checkpoints: import PyTorch T5 / KAT weights for reader.fid' }],
    load: () => import('./commands/reader-import.js'),
  },
  {
    commands: [{ name: 'ask', term: 'ask [options] <image> <question>', description: 'answer one question about any image file, or - for stdin (no dataset or COCO id needed); prints the answer and the knowledge used' }],
    load: () => import('./commands/ask.js'),
  },
  {
    commands: [{ name: 'report', term: 'report [options] <run>', description: 'write one self-contained HTML report of a run folder (accuracy by category, stage costs, every question)' }],
    load: () => import('./commands/report.js'),
  },
  {
    commands: [{ name: 'serve', term: 'serve [options]', description: 'HTTP server: a page to ask about an image, and POST /api/answer (multipart image + question, or JSON with an allowed image path)' }],
    load: () => import('./commands/serve.js'),
  },
  {
    commands: [{ name: 'cache', term: 'cache', description: 'replay bundles: export the cache entries a run used; import them elsewhere' }],
    load: () => import('./commands/cache.js'),
  },
];

/** The command an argument list asks for (`okvqa [--debug] <command> …`, `okvqa help <command>`), if any. */
export function requestedCommand(args: readonly string[]): string | undefined {
  const positional = args.filter((a) => !a.startsWith('-'));
  return positional[0] === 'help' ? positional[1] : positional[0];
}

export function findCommand(name: string | undefined): CommandEntry | undefined {
  return name === undefined ? undefined : COMMANDS.find((e) => e.commands.some((c) => c.name === name));
}
