import { describe, expect, it } from 'vitest';
import type { Region, Sample } from '../../src/core/artifacts.js';
import { dot } from '../../src/models/clip.js';
import { embedClip } from '../../src/stages/embed/clip.js';
import { regionsCenternet } from '../../src/stages/regions/centernet.js';
import { regionsDetector } from '../../src/stages/regions/detector.js';
import { regionsWindows } from '../../src/stages/regions/windows.js';
import { tagsClip } from '../../src/stages/tags/clip.js';
import { parseVocabulary } from '../../src/stages/tags/vocabulary.js';
import { visionStages } from '../../src/stages/vision.js';
import { ASTRONAUT, COFFEE, makeCtx, tiny } from './helpers.js';

const sample = (imagePath?: string): Sample => ({
  dataset: 'okvqa',
  questionId: 'q7',
  imageId: 1,
  question: 'What is in the cup?',
  ...(imagePath ? { imagePath } : {}),
});

describe('vision stages on the tiny models', () => {
  it('registers every vision stage with a unique id', () => {
    const ids = visionStages.map((s) => s.id);
    expect(ids).toEqual(
      expect.arrayContaining(['embed.clip', 'tags.clip', 'regions.windows', 'regions.detector', 'regions.centernet', 'caption.model']),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('regions.windows: whole image + windows, each CLIP-embedded when asked', async () => {
    const { ctx, notes } = makeCtx(tiny);
    const p = regionsWindows.params.parse({ windows: [{ size: 0.5, stride: 0.5 }], embed: true });
    const regions = await regionsWindows.run({ sample: sample(COFFEE) }, p, ctx);
    // 600x400, side 200, stride 200: x 0,200,400 × y 0,200 = 6 windows, plus the whole image
    expect(regions).toHaveLength(7);
    expect(regions[0]).toMatchObject({ id: 0, source: 'image', box: { xmin: 0, ymin: 0, xmax: 600, ymax: 400 } });
    expect(regions.slice(1).every((r) => r.source === 'window')).toBe(true);
    expect(regions.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    for (const r of regions) {
      expect(r.embedding).toHaveLength(16);
      expect(dot(r.embedding!, r.embedding!)).toBeCloseTo(1, 5);
      expect(r.embeddingModel).toBe('okvqa-tiny/clip');
    }
    expect(dot(regions[1]!.embedding!, regions[6]!.embedding!)).toBeLessThan(0.9999);
    expect(notes.windows).toBe(7);
  });

  it('embed.clip: image and question embeddings; the whole-image embedding equals window region 0', async () => {
    const { ctx } = makeCtx(tiny);
    const img = await embedClip.run({ sample: sample(COFFEE) }, embedClip.params.parse({}), ctx);
    const q = await embedClip.run({ sample: sample(COFFEE) }, embedClip.params.parse({ of: 'question' }), ctx);
    expect(img).toHaveLength(16);
    expect(q).toHaveLength(16);
    const [whole] = await regionsWindows.run({ sample: sample(COFFEE) }, regionsWindows.params.parse({ windows: [], embed: true }), ctx);
    expect(dot(img, whole!.embedding!)).toBeCloseTo(1, 5);
    expect(await embedClip.fingerprint!(embedClip.params.parse({}), ctx)).toContain('okvqa-tiny/clip');
  });

  it('tags.clip: top-P vocabulary tags per region, or for the whole image', async () => {
    const { ctx } = makeCtx(tiny);
    const p = tagsClip.params.parse({ topP: 3 });
    const whole = await tagsClip.run({ sample: sample(COFFEE), regions: undefined }, p, ctx);
    expect(whole).toHaveLength(3);
    expect(whole.every((t) => t.region === undefined && t.conf > 0 && t.conf <= 1)).toBe(true);
    expect(whole[0]!.conf).toBeGreaterThanOrEqual(whole[2]!.conf);
    const regions: Region[] = [
      { id: 0, box: { xmin: 0, ymin: 0, xmax: 300, ymax: 400 }, source: 'window' },
      { id: 1, box: { xmin: 300, ymin: 0, xmax: 600, ymax: 400 }, source: 'window' },
    ];
    const tags = await tagsClip.run({ sample: sample(COFFEE), regions }, p, ctx);
    expect(tags.filter((t) => t.region === 0)).toHaveLength(3);
    expect(tags.filter((t) => t.region === 1)).toHaveLength(3);
    const vocab = new Set(parseVocabulary(await import('node:fs').then((f) => f.readFileSync(`${ctx.paths.knowledge}/tag-vocabulary.txt`, 'utf8'))));
    expect(vocab.size).toBeGreaterThan(300);
    expect(tags.every((t) => vocab.has(t.label))).toBe(true);
  });

  it('tags.clip with a custom vocabulary file', async () => {
    const { ctx } = makeCtx(tiny);
    const fs = await import('node:fs');
    const os = await import('node:os');
    const file = `${fs.mkdtempSync(`${os.tmpdir()}/okvqa-voc-`)}/v.txt`;
    fs.writeFileSync(file, '# comment\ncup\ndog\n\ncup\n');
    const tags = await tagsClip.run({ sample: sample(COFFEE), regions: undefined }, tagsClip.params.parse({ vocabulary: file, topP: 5 }), ctx);
    expect(tags.map((t) => t.label).sort()).toEqual(['cup', 'dog']);
    expect(tags.reduce((s, t) => s + t.conf, 0)).toBeCloseTo(1, 5);
  });

  it('regions.centernet and regions.detector (model: centernet) find the cup and the person', async () => {
    const { ctx } = makeCtx(tiny);
    const cups = await regionsCenternet.run({ sample: sample(COFFEE) }, regionsCenternet.params.parse({ includeWhole: true }), ctx);
    expect(cups[0]!.source).toBe('image');
    expect(cups.some((r) => r.source === 'detector' && r.label === 'cup')).toBe(true);
    const people = await regionsDetector.run(
      { sample: sample(ASTRONAUT) },
      regionsDetector.params.parse({ model: 'centernet', embed: true }),
      ctx,
    );
    expect(people[0]).toMatchObject({ id: 0, label: 'person', source: 'detector' });
    expect(people[0]!.embedding).toHaveLength(16);
  });

  it('stages that need the image name the question when it has none', async () => {
    const { ctx } = makeCtx(tiny);
    await expect(regionsWindows.run({ sample: sample() }, regionsWindows.params.parse({}), ctx)).rejects.toThrow(/question q7/);
    await expect(embedClip.run({ sample: sample('/nope/x.jpg') }, embedClip.params.parse({}), ctx)).rejects.toThrow(
      /\/nope\/x\.jpg: image file not found/,
    );
  });
});
