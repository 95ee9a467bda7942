import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../src/image/load.js';
import { pilCmykToRgb } from '../../src/image/pil-convert.js';
import { resizeShorter } from '../../src/stages/regions/kat-crops.js';
import { katResize } from '../../src/stages/regions/kat-pixels.js';
import { pythonMissing, runPython } from '../helpers/python.js';
import { itNeeds } from '../helpers/requires.js';

// Pillow writes the files (an RGB JPEG with EXIF orientation 6 and a Display P3 ICC profile, a CMYK JPEG with the same
// profile, grey JPEG/PNG, palette, RGBA and LA PNGs) and the pixels `Image.open(f).convert('RGB')` gives for each.
const WRITE = `
import sys, json, numpy as np
from PIL import Image
out, icc = sys.argv[1], open(sys.argv[2], 'rb').read()
rng = np.random.RandomState(1)
h, w = 37, 53
ys, xs = np.mgrid[0:h, 0:w]
base = np.stack([(xs * 5) % 256, (ys * 7) % 256, ((xs + ys) * 3) % 256], -1) + rng.randint(0, 40, (h, w, 3))
rgb = Image.fromarray(base.clip(0, 255).astype(np.uint8))
exif = Image.Exif(); exif[0x0112] = 6
rgb.save(out + '/orient6_icc.jpg', quality=90, exif=exif.tobytes(), icc_profile=icc)
rgb.convert('CMYK').save(out + '/cmyk_icc.jpg', quality=90, icc_profile=icc)
rgb.convert('L').save(out + '/grey.jpg', quality=90)
rgb.convert('L').save(out + '/grey.png')
rgb.convert('P', palette=Image.ADAPTIVE, colors=50).save(out + '/palette.png')
rgba = rgb.copy(); rgba.putalpha(Image.fromarray(((xs * 4) % 256).astype(np.uint8))); rgba.save(out + '/rgba.png')
rgba.convert('LA').save(out + '/la.png')
Image.fromarray(((xs * 997 + ys * 131) % 65536).astype(np.uint16)).save(out + '/grey16.png')
info = {}
for f in ['orient6_icc.jpg', 'cmyk_icc.jpg', 'grey.jpg', 'grey.png', 'palette.png', 'rgba.png', 'la.png', 'grey16.png']:
    im = Image.open(out + '/' + f)
    info[f] = {'mode': im.mode, 'size': im.size}
    open(out + '/' + f + '.rgb', 'wb').write(im.convert('RGB').tobytes())
# Pillow resizing the CMYK image as opened, then converting (the order of KAT's Resize(384) and convert('RGB'))
Image.open(out + '/cmyk_icc.jpg').resize((int(384 * 53 / 37), 384), Image.BICUBIC).convert('RGB').save(out + '/cmyk_resized.png')
open(out + '/cmyk_resized.rgb', 'wb').write(Image.open(out + '/cmyk_resized.png').tobytes())
print(json.dumps(info))
`;

const tmp = mkdtempSync(join(tmpdir(), 'okvqa-decode-pil-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const missing = pythonMissing(['numpy', 'PIL']);

describe("decode: pil — Pillow's Image.open(path).convert('RGB')", () => {
  let info: Record<string, { mode: string; size: [number, number] }> = {};
  beforeAll(async () => {
    if (missing) return;
    // an ICC profile that is not sRGB (sharp's bundled Display P3), for Pillow to embed
    const tagged = await sharp({ create: { width: 2, height: 2, channels: 3, background: '#808080' } }).withIccProfile('p3').jpeg().toBuffer();
    const icc = (await sharp(tagged).metadata()).icc!;
    const iccPath = join(tmp, 'p3.icc');
    (await import('node:fs')).writeFileSync(iccPath, icc);
    info = JSON.parse(runPython(WRITE, [tmp, iccPath]));
  }, 60_000);

  itNeeds(missing)(`equals Pillow's pixels and size for every mode ${missing ? `(skipped: ${missing})` : ''}`, async () => {
    expect(Object.fromEntries(Object.entries(info).map(([f, i]) => [f, i.mode]))).toEqual({
      'orient6_icc.jpg': 'RGB', 'cmyk_icc.jpg': 'CMYK', 'grey.jpg': 'L', 'grey.png': 'L', 'palette.png': 'P', 'rgba.png': 'RGBA', 'la.png': 'LA', 'grey16.png': 'I',
    });
    for (const [f, { size }] of Object.entries(info)) {
      const img = await readImage(join(tmp, f), undefined, 'pil');
      expect([img.width, img.height], f).toEqual(size);
      expect(img.decode).toBe('pil');
      expect(img.image.channels, f).toBe(3);
      expect(Buffer.from(img.image.data).equals(readFileSync(join(tmp, `${f}.rgb`))), f).toBe(true);
    }
  });

  itNeeds(missing)('decode: sharp (the default) rotates by EXIF and converts the ICC profile: not Pillow\'s', async () => {
    const f = join(tmp, 'orient6_icc.jpg');
    const img = await readImage(f);
    expect(img.decode).toBe('sharp');
    expect([img.width, img.height]).toEqual([37, 53]); // orientation 6: rotated a quarter turn
    const pil = await readImage(f, undefined, 'pil');
    expect(pil.hash).toBe(img.hash); // same bytes, same content hash; the decode mode tells them apart in cache keys
    // unrotated, the colours still differ: P3 → sRGB
    const { data } = await sharp(readFileSync(f)).raw().toBuffer({ resolveWithObject: true });
    const pilBytes = readFileSync(join(tmp, 'orient6_icc.jpg.rgb'));
    let diff = 0;
    for (let i = 0; i < data.length; i++) diff = Math.max(diff, Math.abs(data[i]! - pilBytes[i]!));
    expect(diff).toBeGreaterThan(10);
    // CMYK through sharp's ICC conversion is not Pillow's formula either
    const cmyk = await readImage(join(tmp, 'cmyk_icc.jpg'));
    expect(Buffer.from(cmyk.image.data).equals(readFileSync(join(tmp, 'cmyk_icc.jpg.rgb')))).toBe(false);
  });
});

describe("KAT's resize before convert('RGB') on a CMYK photo", () => {
  itNeeds(missing)(`katResize resizes the CMYK bands, then converts, as Pillow does ${missing ? `(skipped: ${missing})` : ''}`, async () => {
    const img = await readImage(join(tmp, 'cmyk_icc.jpg'), undefined, 'pil');
    expect(img.cmyk).toBeDefined();
    expect(resizeShorter(img.width, img.height, 384)).toEqual({ width: 550, height: 384 });
    const ours = katResize(img.image.data, img.width, img.height, 550, 384, img.cmyk);
    expect(Buffer.from(ours).equals(readFileSync(join(tmp, 'cmyk_resized.rgb')))).toBe(true);
    // converting first gives other pixels: the order matters for CMYK
    expect(Buffer.from(katResize(img.image.data, img.width, img.height, 550, 384)).equals(readFileSync(join(tmp, 'cmyk_resized.rgb')))).toBe(false);
    expect((await readImage(join(tmp, 'orient6_icc.jpg'), undefined, 'pil')).cmyk).toBeUndefined();
  });
});

describe("pilCmykToRgb: Pillow's cmyk2rgb arithmetic", () => {
  it('white, black, pure inks, and the rounding of a·b/255', () => {
    const px = (c: number, m: number, y: number, k: number) => Array.from(pilCmykToRgb(Uint8Array.from([c, m, y, k]), 1));
    expect(px(0, 0, 0, 0)).toEqual([255, 255, 255]);
    expect(px(0, 0, 0, 255)).toEqual([0, 0, 0]);
    expect(px(255, 0, 0, 0)).toEqual([0, 255, 255]);
    // nk = 155; 100·155/255 = 60.78 → 61; 155 − 61 = 94
    expect(px(100, 0, 255, 100)).toEqual([94, 155, 0]);
  });
});
