/** Object regions from the offline COCO-80 CenterNet detector (TF.js, shipped in @vladmandic/human). */
import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { centernetFingerprint, detectCenterNet } from '../../models/centernet.js';
import { clipFingerprint } from '../../models/clip.js';
import { loadImage, sampleImagePath } from '../../image/load.js';
import { embedRegions, finalizeRegions } from './common.js';
import { checkImages } from '../checks.js';

const params = z.object({
  threshold: z.number().min(0).max(1).default(0.2),
  iou: z.number().min(0).max(1).default(0.5),
  maxRegions: z.number().int().positive().default(20),
  /** Also emit the whole image as region 0 (source "image"). */
  includeWhole: z.boolean().default(false),
  embed: z.boolean().default(false),
  model: z.string().optional(),
});

export const regionsCenternet = defineStage({
  id: 'regions.centernet',
  version: '1',
  description: 'COCO-80 objects from the CenterNet TF.js model in @vladmandic/human (offline), optionally CLIP-embedded',
  inputs: { sample: { kind: 'sample', image: true } },
  output: 'regions',
  params,
  fingerprint: (p, ctx) => `${centernetFingerprint()}|${p.embed ? clipFingerprint(ctx, p.model) : ''}`,
  check: (_p, ctx) => checkImages(ctx),
  async run({ sample }, p, ctx) {
    const img = await loadImage(ctx, sampleImagePath(sample, ctx.data.images));
    const dets = await detectCenterNet(img.image, ctx, { threshold: p.threshold, iou: p.iou, maxDetections: p.maxRegions });
    const whole = p.includeWhole ? [{ box: { xmin: 0, ymin: 0, xmax: img.width, ymax: img.height }, source: 'image' as const }] : [];
    const regions = finalizeRegions([...whole, ...dets.map((d) => ({ ...d, source: 'detector' as const }))], img);
    ctx.note('detections', dets.length);
    return p.embed ? embedRegions(regions, img, ctx, p.model) : regions;
  },
});
