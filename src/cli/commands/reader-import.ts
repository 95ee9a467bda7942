import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { configFromOptions } from '../options.js';

interface ImportFlags {
  out: string;
  tokenizer?: string;
  config?: string;
  python?: string;
  quantize?: string;
  offline?: boolean;
  json?: boolean;
}

/** Registers `okvqa reader import <checkpoint> --out <dir>`. */
export function register(program: Command): void {
  const reader = program.command('reader').description('FiD reader checkpoints: import PyTorch T5 / KAT weights for reader.fid');
  reader
    .command('import <checkpoint>')
    .description(
      "a T5 / FiD checkpoint (save_pretrained folder, KAT's released folder, or a state-dict file with --config) → the ONNX folder reader.fid loads (cross-attention for attribution, visual projection when trained with one)",
    )
    .requiredOption('--out <dir>', 'output folder (hub layout: tokenizer, config.json, onnx/)')
    .option('--tokenizer <id|folder|tokenizer.json>', "the T5 tokenizer (KAT: t5-base's, e.g. Xenova/t5-base); default: the checkpoint folder's tokenizer.json")
    .option('--config <config.json>', "the checkpoint's config.json, for a bare state-dict file")
    .option('--python <interpreter>', 'Python 3 with torch, onnx and numpy (default: OKVQA_PYTHON, else python3, /usr/bin/python3, …)')
    .option('--quantize <int8>', 'also write int8 graphs (onnx/*_quantized.onnx) with python -m okvqa_py.quantize')
    .option('--offline', 'never touch the network (a hub tokenizer id must already be in the model cache)')
    .option('--json', 'print the import summary as JSON to stdout')
    .action(async (checkpoint: string, flags: ImportFlags) => {
      if (flags.quantize !== undefined && flags.quantize !== 'int8') throw new UsageError(`--quantize: only int8 is supported, got "${flags.quantize}"`);
      const { importReader } = await import('../../reader/import.js');
      const r = await importReader(checkpoint, {
        out: flags.out,
        okvqaConfig: configFromOptions({ ...(flags.offline ? { offline: true } : {}) }),
        ...(flags.tokenizer ? { tokenizer: flags.tokenizer } : {}),
        ...(flags.config ? { config: flags.config } : {}),
        ...(flags.python ? { python: flags.python } : {}),
        ...(flags.quantize ? { quantize: 'int8' as const } : {}),
      });
      const i = r.info;
      const bias = i.cross_attention_bias ? ', cross-attention position bias (transformers 3.0.2)' : '';
      process.stderr.write(
        `reader import: ${String(i.layout) === 'kat-fid' ? "KAT's FiDT5 layout" : 'plain T5 layout'}, T5 ${String(i.variant)}${bias}, ` +
          `${Number(i.parameters).toLocaleString('en-US')} parameters${i.visual_projection ? ', visual projection' : ''} → ${r.out} ` +
          `in ${r.seconds.toFixed(1)} s (python: ${r.python.executable} ${r.python.version}, ${r.python.from === 'candidates' ? 'found among the candidates' : `from ${r.python.from === 'flag' ? '--python' : 'OKVQA_PYTHON'}`}; tokenizer: ${r.tokenizer.from})\n`,
      );
      const warnings = (i.warnings as string[] | undefined) ?? [];
      for (const w of warnings) process.stderr.write(`reader import: warning: ${w}\n`);
      if (flags.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    });
}
