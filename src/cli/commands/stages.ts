import type { Command } from 'commander';
import { z } from 'zod';

export function register(program: Command): void {
  program
    .command('stages')
    .description('list the registered stages with their inputs, output and params')
    .option('--json', 'print JSON (params as JSON Schema)')
    .action(async (opts: { json?: boolean }) => {
      const { createRegistry } = await import('../../stages/index.js');
      const stages = createRegistry().list();
      const describe = (s: (typeof stages)[number]) => ({
        id: s.id,
        version: s.version,
        description: s.description,
        inputs: s.inputs,
        output: s.output,
        params: z.toJSONSchema(s.params, { io: 'input', unrepresentable: 'any' }),
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify(stages.map(describe), null, 2) + '\n');
        return;
      }
      for (const s of stages) {
        const d = describe(s);
        const ins = Object.entries(s.inputs).map(([k, v]) => `${k}:${v.kind}${v.optional ? '?' : ''}`).join(', ');
        const props = (d.params as { properties?: Record<string, { default?: unknown; type?: unknown }> }).properties ?? {};
        const params = Object.entries(props).map(([k, v]) => `${k}${v.default !== undefined ? `=${JSON.stringify(v.default)}` : ''}`).join(', ');
        process.stdout.write(`${s.id}@${s.version}  (${ins}) -> ${s.output}\n    ${s.description}\n    params: ${params || '(none)'}\n`);
      }
    });
}
