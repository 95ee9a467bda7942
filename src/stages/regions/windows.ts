/** KAT-style sliding-window regions: square windows of configurable sizes and strides, plus the whole image. */
import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { clipFingerprint } from '../../models/clip.js';
import { loadImage, sampleImagePath } from '../image/load.js';
import { embedRegions, finalizeRegions } from './common.js';
import { slidingWindows } from './geometry.js';

const params = z.object({
  /** Window side (fraction of the shorter image side when ≤ 1, else pixels) and stride (same units; default side/2). */
  windows: z
    .array(z.object({ size: z.number().positive(), stride: z.number().positive().optional() }))
    .default([{ size: 0.5, stride: 0.25 }]),
  includeWhole: z.boolean().default(true),
  /** Compute each window's CLIP embedding (KAT retrieves knowledge with them). */
  embed: z.boolean().default(false),
  /** CLIP model override (hub id or directory); default: the `clip` role. */
  model: z.string().optional(),
});

export const regionsWindows = defineStage({
  id: 'regions.windows',
  version: '1',
  description: 'Sliding-window crops over the image (KAT), plus the whole image; optionally CLIP-embedded',
  inputs: { sample: { kind: 'sample' } },
  output: 'regions',
  params,
  fingerprint: (p, ctx) => (p.embed ? clipFingerprint(ctx, p.model) : ''),
  async run({ sample }, p, ctx) {
    const img = await loadImage(ctx, sampleImagePath(sample));
    const boxes = slidingWindows(img.width, img.height, p.windows, p.includeWhole);
    const regions = finalizeRegions(
      boxes.map((box, i) => ({ box, source: i === 0 && p.includeWhole ? ('image' as const) : ('window' as const) })),
      img,
    );
    ctx.note('windows', regions.length);
    return p.embed ? embedRegions(regions, img, ctx, p.model) : regions;
  },
});
