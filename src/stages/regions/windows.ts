/**
 * Sliding-window regions. `mode: grid`: square windows of configurable sizes and strides over the original image, plus
 * the whole image. `mode: kat`: KAT's crops exactly as guilk/KAT cuts them (./kat-crops.ts): resize the shorter side to
 * 384, pad, 256-px windows at stride 128, no whole image; their embeddings come from those padded crops.
 */
import { z } from 'zod';
import { defineStage } from '../../core/stage.js';
import { clipFingerprint, clipPixelConfig, clipSource, embedImages, embedPixelValues } from '../../models/clip.js';
import { DECODE_MODES, loadImage, sampleImagePath } from '../../image/load.js';
import { embedRegions, finalizeRegions, imageContentKey } from './common.js';
import { slidingWindows } from '../../image/geometry.js';
import { checkDevice, checkImages, checkModel } from '../checks.js';
import { KAT_CROPS, katCropLayout, katCrops } from './kat-crops.js';
import { katCropPixels } from './kat-pixels.js';

const params = z.object({
  /** `grid`: the `windows` specs (+ whole image); `kat`: KAT's multi-crop (short side 384, 256 windows, stride 128). */
  mode: z.enum(['grid', 'kat']).default('grid'),
  /** Window side (fraction of the shorter image side when ≤ 1, else pixels) and stride (same units; default side/2). */
  windows: z
    .array(z.object({ size: z.number().positive(), stride: z.number().positive().optional() }))
    .default([{ size: 0.5, stride: 0.25 }]),
  includeWhole: z.boolean().default(true),
  /** KAT mode geometry (KAT: 384, 256, 128). */
  kat: z
    .object({ short: z.number().int().positive(), kernel: z.number().int().positive(), stride: z.number().int().positive() })
    .default(KAT_CROPS),
  /**
   * KAT mode pixels: `kat` = KAT's own arithmetic (Pillow bicubic resize, zero pad, torch bicubic resize to the model's
   * side, normalise; ./kat-pixels.ts) fed straight to the vision tower; `processor` = the padded 256² crops through the
   * CLIP image processor (sharp bicubic), as the other region stages embed.
   */
  katPixels: z.enum(['kat', 'processor']).default('kat'),
  /**
   * How the image file becomes pixels: `sharp` (EXIF orientation applied, ICC profile to sRGB) or `pil`, Pillow's
   * `Image.open(path).convert('RGB')` as KAT reads its images (no rotation, no colour management; src/image/load.ts).
   */
  decode: z.enum(DECODE_MODES).default('sharp'),
  /** Compute each window's CLIP embedding (KAT retrieves knowledge with them). */
  embed: z.boolean().default(false),
  /** CLIP model override (hub id or directory); default: the `clip` role. */
  model: z.string().optional(),
});

export const regionsWindows = defineStage({
  id: 'regions.windows',
  version: '2',
  description: 'Sliding-window crops over the image: a grid plus the whole image, or KAT\'s multi-crop; optionally CLIP-embedded',
  inputs: { sample: { kind: 'sample', image: true } },
  output: 'regions',
  params,
  fingerprint: (p, ctx) => (p.embed ? clipFingerprint(ctx, p.model) : ''),
  check: async (p, ctx) => [...checkImages(ctx), ...(p.embed ? [...checkModel(ctx, 'clip', p.model), ...(await checkDevice(ctx))] : [])],
  async run({ sample }, p, ctx) {
    const img = await loadImage(ctx, sampleImagePath(sample, ctx.data.images), p.decode);
    if (p.mode === 'kat') {
      const layout = katCropLayout(img.width, img.height, p.kat);
      if (layout.windows.length === 0) throw new Error(`regions.windows (kat): no ${p.kat.kernel}-px window fits ${img.width}x${img.height}`);
      const regions = finalizeRegions(layout.boxes.map((box) => ({ box, source: 'window' as const })), img);
      ctx.note('windows', regions.length);
      ctx.note('katLayout', { resized: layout.resized, padX: layout.padX, padY: layout.padY });
      if (!p.embed) return regions;
      const geo = `kat${p.kat.short}/${p.kat.kernel}/${p.kat.stride}/${p.katPixels}`;
      const keys = layout.windows.map(({ x, y }) => `${imageContentKey(img)}:${geo}:${x},${y}`);
      const opts = p.model ? { model: p.model, keys } : { keys };
      let vecs: number[][];
      if (p.katPixels === 'kat') {
        const cfg = await clipPixelConfig(ctx, p.model);
        const rgb = img.image.channels === 3 ? img.image : img.image.rgb();
        vecs = await embedPixelValues(katCropPixels(rgb.data, rgb.width, rgb.height, layout, p.kat, cfg, img.cmyk), cfg.size, ctx, opts);
      } else {
        vecs = await embedImages(await katCrops(img.image, layout, p.kat), ctx, opts);
      }
      const id = clipSource(ctx, p.model).id;
      return regions.map((r, i) => ({ ...r, embedding: vecs[i]!, embeddingModel: id }));
    }
    const boxes = slidingWindows(img.width, img.height, p.windows, p.includeWhole);
    const regions = finalizeRegions(
      boxes.map((box, i) => ({ box, source: i === 0 && p.includeWhole ? ('image' as const) : ('window' as const) })),
      img,
    );
    ctx.note('windows', regions.length);
    return p.embed ? embedRegions(regions, img, ctx, p.model) : regions;
  },
});
