import { createHash } from 'node:crypto';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { katCropLayout, KAT_CROPS } from '../../src/stages/regions/kat-crops.js';
import { katCropPixels, pilResizeBicubic, torchBicubicResize } from '../../src/stages/regions/kat-pixels.js';
import { readImage } from '../../src/image/load.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { COFFEE, paths } from './helpers.js';
import { itNeeds } from '../helpers/requires.js';

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-kat-pixels-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
const STD = [0.26862954, 0.26130258, 0.27577711] as const;

// Pillow's bicubic resize on odd sizes: up in one axis, down in the other, and a pure horizontal / vertical pass.
const PILLOW_RESIZE = `
import sys, numpy as np
from PIL import Image
tmp = sys.argv[1]
small = np.random.RandomState(0).randint(0, 256, size=(23, 37, 3), dtype=np.uint8)
open(tmp + '/small.rgb', 'wb').write(small.tobytes())
for (ow, oh) in [(17, 50), (37, 9), (80, 23)]:
    open(tmp + '/small_%dx%d.rgb' % (ow, oh), 'wb').write(Image.fromarray(small).resize((ow, oh), Image.BICUBIC).tobytes())
`;

interface TransformRef {
  source: { commit: string };
  resized: { width: number; height: number; sha256: string };
  shape: number[];
  sampleIndices: number[];
  crops: { sum: number; samples: number[] }[];
}

const missing = pythonMissing(['numpy', 'PIL']);
describe("KAT crop pixels: Pillow's bicubic resize, torch's bicubic interpolate", () => {
  // Recorded from KAT's own _multicrop_transform (guilk/KAT, run by test/fixtures/kat/reference/run_kat.py on the
  // fixture photo opened with Image.open as KAT opens it; commit, command and torchvision stand-in described there).
  it("equal what KAT's transform gave on the fixture photo, decoded as Pillow decodes it", async () => {
    const ref = JSON.parse(readFileSync(join(paths.root, 'test', 'fixtures', 'kat', 'reference', 'multicrop_transform.json'), 'utf8')) as TransformRef;
    const img = await readImage(COFFEE, undefined, 'pil');
    const layout = katCropLayout(img.width, img.height);
    expect(layout.resized).toEqual({ width: ref.resized.width, height: ref.resized.height });
    // step 1 exactly (bytes)
    const resized = pilResizeBicubic(img.image.data, img.width, img.height, 3, layout.resized.width, layout.resized.height);
    expect(createHash('sha256').update(resized).digest('hex')).toBe(ref.resized.sha256);

    // the whole transform: float32, equal up to the rounding of the summation order
    const ours = katCropPixels(img.image.data, img.width, img.height, layout, KAT_CROPS, { size: 224, mean: MEAN, std: STD });
    expect([ours.length, 3, 224, 224]).toEqual(ref.shape);
    let maxDiff = 0;
    ours.forEach((crop, i) => {
      const want = ref.crops[i]!;
      ref.sampleIndices.forEach((j, k) => (maxDiff = Math.max(maxDiff, Math.abs(crop[j]! - want.samples[k]!))));
      let sum = 0;
      for (const v of crop) sum += v;
      expect(Math.abs(sum - want.sum), `crop ${i} sum`).toBeLessThan(0.05); // 150,528 values, each within ~5e-5
    });
    expect(maxDiff).toBeLessThan(5e-5); // observed 2.4e-5 (normalised units; ~1/600 of a grey level): float32 summation order
  }, 60_000);

  itNeeds(missing)(`Pillow's bicubic resize on odd sizes, byte for byte ${missing ? `(skipped: ${missing})` : ''}`, () => {
    runPython(PILLOW_RESIZE, [tmp]);
    const small = readFileSync(join(tmp, 'small.rgb'));
    for (const [ow, oh] of [[17, 50], [37, 9], [80, 23]] as const) {
      expect(Buffer.from(pilResizeBicubic(small, 37, 23, 3, ow, oh)).equals(readFileSync(join(tmp, `small_${ow}x${oh}.rgb`))), `${ow}x${oh}`).toBe(true);
    }
  });

  it('torch bicubic: identity at the same size, border clamping, A = -0.75 overshoot', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => (i % 4 === 1 ? 1 : 0));
    expect(Array.from(torchBicubicResize(src, 1, 4, 4, 4, 4))).toEqual(Array.from(src));
    const down = torchBicubicResize(src, 1, 4, 4, 2, 2);
    expect(down.length).toBe(4);
    expect(Math.min(...torchBicubicResize(Float32Array.from([0, 0, 1, 1]), 1, 1, 4, 1, 8))).toBeLessThan(0); // overshoot kept, not clamped
  });
});
