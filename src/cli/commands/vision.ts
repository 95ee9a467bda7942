import type { Command } from 'commander';
import type { DetectOptions } from '../../models/detector.js';
import { configFromOptions, parseNumberFlag, withConfigOptions, type ConfigOptions } from '../options.js';

interface DetectFlags extends ConfigOptions {
  detector?: string;
  task?: string;
  classes?: string;
  threshold?: string;
  max?: string;
  json?: boolean;
}

interface EmbedFlags extends ConfigOptions {
  image?: string;
  text?: string;
  model?: string;
  json?: boolean;
}


/** Registers `okvqa detect` and `okvqa embed`. */
export function register(program: Command): void {
  withConfigOptions(
    program
      .command('detect <image>')
      .description('detect objects in an image; boxes in image pixels')
      .option('--detector <id>', 'hub id or model directory, or "centernet" (offline COCO-80); default: models.ids.detector')
      .option('--task <task>', 'zero-shot-object-detection (default) or object-detection (closed set)')
      .option('--classes <list>', 'comma-separated class names for zero-shot detectors (default COCO-80)')
      .option('--threshold <score>', 'minimum score')
      .option('--max <n>', 'keep at most n detections')
      .option('--json', 'print [{"label","score","box":{"xmin","ymin","xmax","ymax"}}] to stdout'),
  ).action(async (image: string, flags: DetectFlags) => {
    const config = configFromOptions(flags);
    const opts: DetectOptions = {};
    if (flags.detector) opts.model = flags.detector;
    if (flags.task) {
      if (flags.task !== 'zero-shot-object-detection' && flags.task !== 'object-detection') {
        throw new Error(`--task must be zero-shot-object-detection or object-detection, got "${flags.task}"`);
      }
      opts.task = flags.task;
    }
    if (flags.classes) opts.classes = flags.classes.split(',').map((s) => s.trim()).filter(Boolean);
    const threshold = parseNumberFlag('threshold', flags.threshold, { min: 0 });
    if (threshold !== undefined) opts.threshold = threshold;
    const max = parseNumberFlag('max', flags.max, { integer: true, positive: true });
    if (max !== undefined) opts.maxDetections = max;
    const { detectImageFile } = await import('../../models/detect-embed.js'); // model libraries load only when used
    const found = await detectImageFile(image, config, opts);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(found)}\n`);
      return;
    }
    if (found.length === 0) process.stdout.write('no detections\n');
    for (const d of found) {
      const b = d.box;
      process.stdout.write(`${d.label.padEnd(16)} ${d.score.toFixed(3)}  [${b.xmin}, ${b.ymin}, ${b.xmax}, ${b.ymax}]\n`);
    }
  });

  withConfigOptions(
    program
      .command('embed')
      .description('CLIP embedding of an image or a text: prints its dimension and norm (and the vector with --json)')
      .option('--image <file>', 'image file')
      .option('--text <string>', 'text')
      .option('--model <id>', 'CLIP hub id or model directory (default: models.ids.clip)')
      .option('--json', 'print {"model","dimension","norm","vector"} to stdout'),
  ).action(async (flags: EmbedFlags) => {
    if ((flags.image === undefined) === (flags.text === undefined)) throw new Error('embed: give exactly one of --image or --text');
    const config = configFromOptions(flags);
    const input = flags.image !== undefined ? { image: flags.image } : { text: flags.text! };
    const { embedInput } = await import('../../models/detect-embed.js');
    const r = await embedInput(input, config, flags.model);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    process.stdout.write(`model: ${r.model}\ndimension: ${r.dimension}\nnorm: ${r.norm.toFixed(6)}\n`);
  });
}
