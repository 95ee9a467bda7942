import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { katCropLayout, KAT_CROPS } from '../../src/stages/regions/kat-crops.js';
import { katCropPixels, pilResizeBicubic, torchBicubicResize } from '../../src/stages/regions/kat-pixels.js';
import { readImage } from '../../src/image/load.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';
import { COFFEE } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-kat-pixels-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
const STD = [0.26862954, 0.26130258, 0.27577711] as const;

// KAT's _multicrop_transform with the calls torchvision makes (PIL resize; ToTensor; MultiCrop verbatim;
// F.interpolate bicubic for Resize(224) on a tensor; Normalize), on raw RGB bytes given by the test.
const KAT_TRANSFORM = `
import sys, numpy as np, torch
import torch.nn.functional as F
from PIL import Image
tmp, w, h, rw, rh = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
img = Image.frombytes('RGB', (w, h), open(tmp + '/in.rgb', 'rb').read())
img = img.resize((rw, rh), Image.BICUBIC)
open(tmp + '/resized.rgb', 'wb').write(img.tobytes())
image = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1).float().div(255)
kernel_size = 256
stride = int(kernel_size / 2)
c, h, w = image.size()
image = F.pad(image, (image.size(2) % kernel_size // 2, image.size(2) % kernel_size // 2,
                      image.size(1) % kernel_size // 2, image.size(1) % kernel_size // 2))
patches = image.unfold(1, kernel_size, stride).unfold(2, kernel_size, stride).contiguous().view(c, -1, kernel_size, kernel_size)
patches = patches.permute(1, 0, 2, 3)
patches = F.interpolate(patches, size=[224, 224], mode='bicubic', align_corners=False)
mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
patches = (patches - mean) / std
open(tmp + '/crops.f32', 'wb').write(patches.contiguous().numpy().astype('<f4').tobytes())
# Pillow on odd sizes: up in one axis, down in the other, and a pure horizontal / vertical pass
rng = np.random.RandomState(0)
small = rng.randint(0, 256, size=(23, 37, 3), dtype=np.uint8)
open(tmp + '/small.rgb', 'wb').write(small.tobytes())
for (ow, oh) in [(17, 50), (37, 9), (80, 23)]:
    open(tmp + '/small_%dx%d.rgb' % (ow, oh), 'wb').write(Image.fromarray(small).resize((ow, oh), Image.BICUBIC).tobytes())
`;

const missing = pythonMissing(['torch', 'numpy', 'PIL']);
describe("KAT crop pixels: Pillow's bicubic resize, torch's bicubic interpolate", () => {
  itNeeds(missing)(`equal KAT's transform run by Python on the same RGB bytes ${missing ? `(skipped: ${missing})` : ''}`, async () => {
    const img = await readImage(COFFEE);
    const layout = katCropLayout(img.width, img.height);
    writeFileSync(join(tmp, 'in.rgb'), img.image.data);
    runPython(KAT_TRANSFORM, [tmp, String(img.width), String(img.height), String(layout.resized.width), String(layout.resized.height)]);

    // step 1 exactly (bytes)
    const resized = pilResizeBicubic(img.image.data, img.width, img.height, 3, layout.resized.width, layout.resized.height);
    expect(Buffer.from(resized).equals(readFileSync(join(tmp, 'resized.rgb')))).toBe(true);
    const small = readFileSync(join(tmp, 'small.rgb'));
    for (const [ow, oh] of [[17, 50], [37, 9], [80, 23]] as const) {
      expect(Buffer.from(pilResizeBicubic(small, 37, 23, 3, ow, oh)).equals(readFileSync(join(tmp, `small_${ow}x${oh}.rgb`))), `${ow}x${oh}`).toBe(true);
    }

    // the whole transform: float32, equal up to the rounding of the summation order
    const want = new Float32Array(new Uint8Array(readFileSync(join(tmp, 'crops.f32'))).buffer);
    const ours = katCropPixels(img.image.data, img.width, img.height, layout, KAT_CROPS, { size: 224, mean: MEAN, std: STD });
    expect(ours).toHaveLength(12);
    const n = 3 * 224 * 224;
    expect(want.length).toBe(12 * n);
    let maxDiff = 0;
    ours.forEach((crop, i) => {
      for (let j = 0; j < n; j++) maxDiff = Math.max(maxDiff, Math.abs(crop[j]! - want[i * n + j]!));
    });
    expect(maxDiff).toBeLessThan(5e-5); // observed 2.4e-5 (normalised units; ~1/600 of a grey level): float32 summation order
  }, 60_000);

  it('torch bicubic: identity at the same size, border clamping, A = -0.75 overshoot', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => (i % 4 === 1 ? 1 : 0));
    expect(Array.from(torchBicubicResize(src, 1, 4, 4, 4, 4))).toEqual(Array.from(src));
    const down = torchBicubicResize(src, 1, 4, 4, 2, 2);
    expect(down.length).toBe(4);
    expect(Math.min(...torchBicubicResize(Float32Array.from([0, 0, 1, 1]), 1, 1, 4, 1, 8))).toBeLessThan(0); // overshoot kept, not clamped
  });
});
