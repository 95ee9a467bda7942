import { describe, expect, it } from 'vitest';
import type { Sample } from '../../src/core/artifacts.js';
import { captionModel } from '../../src/stages/caption/model.js';
import { regionsDetector } from '../../src/stages/regions/detector.js';
import { COFFEE, makeCtx, tiny } from './helpers.js';

const sample: Sample = { dataset: 'okvqa', questionId: 'q1', imageId: 1, question: 'What is this?', imagePath: COFFEE };

describe('transformers.js detector and captioner pipelines on the tiny generated models', () => {
  it('regions.detector (zero-shot, OWL-ViT layout): labels come from the prompted classes, boxes inside the image', async () => {
    const { ctx, notes } = makeCtx(tiny);
    const p = regionsDetector.params.parse({ classes: ['cup', 'saucer', 'spoon'], threshold: 0.05, maxRegions: 5, embed: true });
    const regions = await regionsDetector.run({ sample }, p, ctx);
    expect(regions.length).toBeGreaterThan(0);
    expect(regions.length).toBeLessThanOrEqual(5);
    for (const r of regions) {
      expect(['cup', 'saucer', 'spoon']).toContain(r.label);
      expect(r.source).toBe('detector');
      expect(r.box.xmin).toBeGreaterThanOrEqual(0);
      expect(r.box.ymin).toBeGreaterThanOrEqual(0);
      expect(r.box.xmax).toBeLessThanOrEqual(600);
      expect(r.box.ymax).toBeLessThanOrEqual(400);
      expect(r.box.xmax).toBeGreaterThan(r.box.xmin);
      expect(r.embedding).toHaveLength(16);
    }
    for (let i = 1; i < regions.length; i++) expect(regions[i - 1]!.score!).toBeGreaterThanOrEqual(regions[i]!.score!);
    expect(notes.detections).toBe(regions.length);
    // a stricter threshold keeps fewer
    const strict = await regionsDetector.run({ sample }, regionsDetector.params.parse({ classes: ['cup', 'saucer', 'spoon'], threshold: 0.99 }), ctx);
    expect(strict.length).toBeLessThan(regions.length);
    const fp = await regionsDetector.fingerprint!(p, ctx);
    expect(fp).toContain('okvqa-tiny/owlvit');
  });

  it('regions.detector (closed-set object-detection, DETR layout): labels from the model config', async () => {
    const { ctx } = makeCtx(tiny);
    const p = regionsDetector.params.parse({ task: 'object-detection', threshold: 0.3 });
    const regions = await regionsDetector.run({ sample }, p, ctx);
    expect(regions.length).toBeGreaterThan(0);
    for (const r of regions) expect(['person', 'cup', 'dog', 'cat', 'car']).toContain(r.label);
  });

  it('caption.model: a caption from the tiny ViT+GPT-2 captioner, generated with its KV cache', async () => {
    const { ctx } = makeCtx(tiny);
    const caps = await captionModel.run({ sample }, captionModel.params.parse({ maxNewTokens: 8 }), ctx);
    expect(caps).toHaveLength(1);
    expect(caps[0]!.source).toBe('model:okvqa-tiny/captioner');
    expect(caps[0]!.text.length).toBeGreaterThan(0);
    const again = await captionModel.run({ sample }, captionModel.params.parse({ maxNewTokens: 8 }), ctx);
    expect(again).toEqual(caps); // greedy decoding is deterministic
  });
});
