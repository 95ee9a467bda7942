import type { Command } from 'commander';
import { resolveConfig } from '../../core/config.js';
import { toGraphJson, toMermaid } from '../../core/graph.js';
import { collect } from '../options.js';

export function register(program: Command): void {
  program
    .command('graph <pipeline>')
    .description('compile a pipeline and print its DAG')
    .option('--format <format>', 'text, mermaid or json', 'text')
    .option('--set <key=value>', 'node param override, e.g. nodes.examples.params.shots=8 (repeatable)', collect, [])
    .action(async (ref: string, opts: { format: string; set: string[] }) => {
      const { loadPipeline } = await import('../../answerer.js');
      resolveConfig({ sets: opts.set.filter((s) => !s.startsWith('nodes.')) }); // unknown config keys are errors here too
      const p = loadPipeline(ref, { sets: opts.set });
      if (opts.format === 'mermaid') process.stdout.write(toMermaid(p) + '\n');
      else if (opts.format === 'json') process.stdout.write(JSON.stringify(toGraphJson(p), null, 2) + '\n');
      else if (opts.format === 'text') {
        const lines = [`${p.name}${p.description ? ` — ${p.description}` : ''}`, `file: ${p.file}`, `output: ${p.output}`];
        for (const n of p.nodes) {
          const ins = Object.entries(n.bindings).map(([k, v]) => `${k}←${v.join('+')}`).join(', ');
          lines.push(`  ${n.name} = ${n.stage.id}@${n.stage.version}(${ins})  params ${JSON.stringify(n.params)}`);
        }
        process.stdout.write(lines.join('\n') + '\n');
      } else throw new Error(`--format must be text, mermaid or json, got "${opts.format}"`);
    });
}
