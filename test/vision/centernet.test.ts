import { describe, expect, it } from 'vitest';
import { detectCenterNet } from '../../src/models/centernet.js';
import { detect } from '../../src/models/detector.js';
import { readImage } from '../../src/image/load.js';
import { ASTRONAUT, COFFEE, makeCtx } from './helpers.js';

describe('CenterNet (real COCO-80 weights from @vladmandic/human, tfjs wasm, offline)', () => {
  const { ctx } = makeCtx({ models: { offline: true } });

  it('finds the cup in coffee.png', async () => {
    const img = await readImage(COFFEE);
    const dets = await detectCenterNet(img.image, ctx);
    const cup = dets.find((d) => d.label === 'cup');
    expect(cup, JSON.stringify(dets)).toBeDefined();
    expect(cup!.score).toBeGreaterThan(0.3);
    // the cup sits in the middle of the 600x400 photo
    const cx = (cup!.box.xmin + cup!.box.xmax) / 2;
    expect(cx).toBeGreaterThan(150);
    expect(cx).toBeLessThan(450);
    expect(cup!.box.xmin).toBeGreaterThanOrEqual(0);
    expect(cup!.box.xmax).toBeLessThanOrEqual(img.width);
    expect(cup!.box.ymax).toBeLessThanOrEqual(img.height);
  });

  it('finds the person in astronaut.png, best first', async () => {
    const img = await readImage(ASTRONAUT);
    const dets = await detect(img.image, ctx, { model: 'centernet' });
    expect(dets[0]?.label).toBe('person');
    for (let i = 1; i < dets.length; i++) expect(dets[i - 1]!.score).toBeGreaterThanOrEqual(dets[i]!.score);
    const person = dets[0]!;
    expect(person.box.xmax - person.box.xmin).toBeGreaterThan(img.width / 3);
  });

  it('threshold filters detections', async () => {
    const img = await readImage(COFFEE);
    const all = await detectCenterNet(img.image, ctx, { threshold: 0.05 });
    const strict = await detectCenterNet(img.image, ctx, { threshold: 0.9 });
    expect(all.length).toBeGreaterThan(strict.length);
    for (const d of strict) expect(d.score).toBeGreaterThanOrEqual(0.9);
  });
});
