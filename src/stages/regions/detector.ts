/**
 * Object regions from a detector by hub id: open-vocabulary OWL-ViT prompted with a class list (REVIVE prompts GLIP
 * with "Detect: person, bicycle, car, …"), a closed-set `object-detection` model, or `model: centernet`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { COCO80 } from '../../models/centernet.js';
import { clipFingerprint } from '../../models/clip.js';
import { detect, detectorFingerprint } from '../../models/detector.js';
import { loadImage, sampleImagePath } from '../../image/load.js';
import { embedRegions, finalizeRegions } from './common.js';
import { checkDevice, checkFile, checkImages, checkModel } from '../checks.js';

const params = z.object({
  /** Hub id, model directory or `centernet`; default: the configured `detector` / `object-detector` model. */
  model: z.string().optional(),
  task: z.enum(['zero-shot-object-detection', 'object-detection']).default('zero-shot-object-detection'),
  /** Class names for zero-shot prompting (default COCO-80), or `classesFile` (one per line). */
  classes: z.array(z.string().min(1)).optional(),
  classesFile: z.string().optional(),
  threshold: z.number().min(0).max(1).optional(),
  iou: z.number().min(0).max(1).default(0.5),
  maxRegions: z.number().int().positive().default(20),
  includeWhole: z.boolean().default(false),
  embed: z.boolean().default(false),
  /** CLIP model for embeddings. */
  clipModel: z.string().optional(),
});

type Params = z.infer<typeof params>;

function classesOf(p: Params): string[] {
  if (p.classes) return p.classes;
  if (p.classesFile) {
    return readFileSync(p.classesFile, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  }
  return [...COCO80];
}

export const regionsDetector = defineStage({
  id: 'regions.detector',
  version: '1',
  description: 'Detected object regions (OWL-ViT zero-shot by default, closed-set object-detection, or centernet)',
  inputs: { sample: { kind: 'sample', image: true } },
  output: 'regions',
  params,
  fingerprint: (p, ctx) =>
    JSON.stringify([detectorFingerprint(ctx, p), classesOf(p), p.embed ? clipFingerprint(ctx, p.clipModel) : '']),
  check: async (p, ctx) => [
    ...checkImages(ctx),
    ...(await checkDevice(ctx)),
    ...(p.model === 'centernet' ? [] : checkModel(ctx, p.task === 'object-detection' ? 'object-detector' : 'detector', p.model)),
    ...(p.classesFile ? checkFile('params.classesFile', p.classesFile, '') : []),
    ...(p.embed ? checkModel(ctx, 'clip', p.clipModel) : []),
  ],
  async run({ sample }, p, ctx) {
    const img = await loadImage(ctx, sampleImagePath(sample, ctx.data.images));
    const opts: Parameters<typeof detect>[2] = { task: p.task, classes: classesOf(p), iou: p.iou, maxDetections: p.maxRegions };
    if (p.model) opts.model = p.model;
    if (p.threshold !== undefined) opts.threshold = p.threshold;
    const dets = await detect(img.image, ctx, opts);
    const whole = p.includeWhole ? [{ box: { xmin: 0, ymin: 0, xmax: img.width, ymax: img.height }, source: 'image' as const }] : [];
    const regions = finalizeRegions([...whole, ...dets.map((d) => ({ ...d, source: 'detector' as const }))], img);
    ctx.note('detections', dets.length);
    return p.embed ? embedRegions(regions, img, ctx, p.clipModel) : regions;
  },
});
