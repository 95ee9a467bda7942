import { createHash } from 'node:crypto';
import { RawImage } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { dot } from '../../src/models/clip.js';
import { katCropLayout, katCrops, resizeShorter } from '../../src/stages/regions/kat-crops.js';
import { regionsWindows } from '../../src/stages/regions/windows.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';
import { COFFEE, makeCtx, tiny } from './helpers.js';

// guilk/KAT build_wikidata_entity_db.py MultiCrop, verbatim (torch only), on a patterned image already at its resized size.
const MULTICROP = `
import sys, hashlib, torch
import torch.nn.functional as F
for arg in sys.argv[1:]:
  w, h = map(int, arg.split('x'))
  ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
  image = torch.stack([(xs * 7 + ys * 13 + c * 29) % 251 + 1 for c in range(3)]).to(torch.uint8)
  kernel_size = 256
  stride = int(kernel_size / 2)
  c, h, w = image.size()
  image = F.pad(image, (image.size(2) % kernel_size // 2, image.size(2) % kernel_size // 2,
                        image.size(1) % kernel_size // 2, image.size(1) % kernel_size // 2))
  patches = image.unfold(1, kernel_size, stride).unfold(2, kernel_size, stride).contiguous().view(c, -1, kernel_size, kernel_size)
  patches = patches.permute(1, 0, 2, 3)
  for p in patches:
      print(hashlib.sha256(p.permute(1, 2, 0).contiguous().numpy().tobytes()).hexdigest())
  print('--')
`;

function patterned(w: number, h: number): RawImage {
  const data = new Uint8ClampedArray(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = ((x * 7 + y * 13 + c * 29) % 251) + 1;
  return new RawImage(data, w, h, 3);
}

describe('regions.windows mode kat (KAT multi-crop)', () => {
  it('geometry: torchvision Resize(384) sizes, padding, 9 crops for 640x480, boxes in original pixels', () => {
    expect(resizeShorter(640, 480, 384)).toEqual({ width: 512, height: 384 });
    expect(resizeShorter(427, 640, 384)).toEqual({ width: 384, height: 575 });
    expect(resizeShorter(500, 500, 384)).toEqual({ width: 384, height: 384 });
    const l = katCropLayout(640, 480);
    expect(l).toMatchObject({ resized: { width: 512, height: 384 }, padX: 0, padY: 64 });
    expect(l.windows).toEqual([0, 128, 256].flatMap((y) => [0, 128, 256].map((x) => ({ x, y }))));
    expect(l.boxes[0]).toEqual({ xmin: 0, ymin: 0, xmax: 320, ymax: 240 }); // (0..256)-64 → clamp, ×1.25
    expect(l.boxes[4]).toEqual({ xmin: 160, ymin: 80, xmax: 480, ymax: 400 });
    // 640x427 → 575x384: pad x (575 % 256)//2 = 31 → 637 wide → 3 columns; y pad 64 → 512 → 3 rows
    const o = katCropLayout(640, 427);
    expect(o).toMatchObject({ resized: { width: 575, height: 384 }, padX: 31, padY: 64 });
    expect(o.windows).toHaveLength(9);
    expect(katCropLayout(600, 400).windows).toHaveLength(12); // 576x384 → pad x 32 → 640 → 4 columns × 3 rows
  });

  const missing = pythonMissing(['torch']);
  itNeeds(missing)(`crop pixels equal KAT's MultiCrop (F.pad + unfold) ${missing ? `(skipped: ${missing})` : ''}`, async () => {
    const sizes = [[512, 384], [575, 384], [384, 700]] as const;
    const all = runPython(MULTICROP, sizes.map(([w, h]) => `${w}x${h}`)).trim().split('--').map((b) => b.trim().split('\n'));
    for (const [i, [w, h]] of sizes.entries()) {
      const want = all[i]!;
      const layout = katCropLayout(w, h);
      expect(layout.resized).toEqual({ width: w, height: h }); // already at the resized size: no resampling
      const crops = await katCrops(patterned(w, h), layout);
      expect(crops.map((c) => createHash('sha256').update(c.data).digest('hex'))).toEqual(want);
    }
  }, 60_000);

  it('stage: 12 embedded crops for the 600x400 fixture, no whole image; embeddings from the padded crops', async () => {
    const { ctx, notes } = makeCtx(tiny);
    const sample = { dataset: 'okvqa' as const, questionId: 'q', imageId: 1, question: 'q?', imagePath: COFFEE };
    const regions = await regionsWindows.run({ sample }, regionsWindows.params.parse({ mode: 'kat', embed: true }), ctx);
    expect(regions).toHaveLength(12);
    expect(regions.every((r) => r.source === 'window')).toBe(true);
    expect(notes.katLayout).toEqual({ resized: { width: 576, height: 384 }, padX: 32, padY: 64 });
    for (const r of regions) expect(dot(r.embedding!, r.embedding!)).toBeCloseTo(1, 5);
    expect(dot(regions[0]!.embedding!, regions[11]!.embedding!)).toBeLessThan(0.9999);
    // the same crops through the CLIP processor (sharp) instead of KAT's PIL/torch arithmetic: close, not identical
    const viaProcessor = await regionsWindows.run({ sample }, regionsWindows.params.parse({ mode: 'kat', embed: true, katPixels: 'processor' }), ctx);
    expect(viaProcessor.map((r) => r.box)).toEqual(regions.map((r) => r.box));
    for (const [i, r] of viaProcessor.entries()) expect(dot(r.embedding!, regions[i]!.embedding!)).toBeGreaterThan(0.9);
  });
});
