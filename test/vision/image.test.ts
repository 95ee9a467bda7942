import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageError, readImage, sampleImagePath } from '../../src/image/load.js';
import { COFFEE } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-img-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readImage', () => {
  it('decodes an RGB image with its size and a content hash', async () => {
    const img = await readImage(COFFEE);
    expect([img.width, img.height, img.image.channels]).toEqual([600, 400, 3]);
    expect(img.image.data.length).toBe(600 * 400 * 3);
    expect(img.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('drops alpha and expands grey to RGB', async () => {
    const p = join(dir, 'grey-alpha.png');
    await sharp({ create: { width: 5, height: 3, channels: 4, background: { r: 10, g: 10, b: 10, alpha: 0.5 } } }).png().toFile(p);
    const img = await readImage(p);
    expect(img.image.channels).toBe(3);
    expect([img.width, img.height]).toEqual([5, 3]);
  });

  it('reduces 16-bit images to 8-bit RGB and applies EXIF orientation', async () => {
    const deep = join(dir, 'deep.png');
    await sharp(COFFEE).toColourspace('rgb16').png().toFile(deep);
    const [a, b] = await Promise.all([readImage(deep), readImage(COFFEE)]);
    expect(a.image.data.length).toBe(b.image.data.length);
    let diff = 0;
    for (let i = 0; i < a.image.data.length; i++) diff = Math.max(diff, Math.abs(a.image.data[i]! - b.image.data[i]!));
    expect(diff).toBeLessThanOrEqual(1);
    const rotated = join(dir, 'rotated.jpg');
    await sharp(COFFEE).withMetadata({ orientation: 6 }).jpeg().toFile(rotated);
    const r = await readImage(rotated);
    expect([r.width, r.height]).toEqual([400, 600]);
  });

  it('names the image in every error', async () => {
    const missing = join(dir, 'missing.jpg');
    await expect(readImage(missing)).rejects.toThrow(new RegExp(`${missing}: image file not found`));

    const text = join(dir, 'notes.jpg');
    writeFileSync(text, 'not really a jpeg');
    await expect(readImage(text)).rejects.toThrow(new RegExp(`${text}: not an image`));

    const empty = join(dir, 'empty.png');
    writeFileSync(empty, '');
    await expect(readImage(empty)).rejects.toThrow(/empty\.png: empty file/);

    const truncated = join(dir, 'truncated.png');
    writeFileSync(truncated, readFileSync(COFFEE).subarray(0, 30_000));
    await expect(readImage(truncated)).rejects.toThrow(/truncated\.png: truncated or corrupt/);

    await expect(readImage(dir)).rejects.toThrow(/not a file/);

    const big = join(dir, 'big.png');
    await sharp({ create: { width: 3000, height: 10, channels: 3, background: '#000' } }).png().toFile(big);
    await expect(readImage(big, { maxSide: 2000, maxPixels: 1e9 })).rejects.toThrow(/big\.png: image dimensions 3000x10 exceed/);
    await expect(readImage(big, { maxSide: 5000, maxPixels: 10_000 })).rejects.toThrow(ImageError);
  });

  it('asks for an image folder when a sample has no image path, naming the question', () => {
    expect(() => sampleImagePath({ dataset: 'okvqa', questionId: '42', imageId: 7, question: 'q?' })).toThrow(
      /question 42 .*no image path/,
    );
  });
});
