import { AutoProcessor, RawImage } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { fastPathApplies, fastPixelValues } from '../../src/models/clip-pixels.js';
import { readImage } from '../../src/image/load.js';
import { ASTRONAUT, COFFEE, paths } from './helpers.js';

const CLIP_DIR = `${paths.tinyModels}/okvqa-tiny/clip`;

describe('fast CLIP pre-processing', () => {
  it('gives exactly the pixel values of the transformers.js processor, for several sizes and crops', async () => {
    const processor = await AutoProcessor.from_pretrained(CLIP_DIR, { local_files_only: true });
    const ip = (processor as any).image_processor;
    expect(fastPathApplies(ip)).toBe(true);
    const coffee = (await readImage(COFFEE)).image;
    const astronaut = (await readImage(ASTRONAUT)).image;
    const odd = await coffee.crop([13, 7, 13 + 101, 7 + 57]); // 102 x 58, odd offsets
    for (const sizes of [{ shortest_edge: 32 }, { shortest_edge: 224 }]) {
      ip.size = sizes;
      const crop = sizes.shortest_edge;
      ip.crop_size = { height: crop, width: crop };
      const images = [coffee, astronaut, odd];
      const ref = (await processor(images)).pixel_values;
      const fast = await fastPixelValues(images, ip);
      expect(fast!.dims).toEqual(ref.dims);
      const a = fast!.data as Float32Array;
      const b = ref.data as Float32Array;
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      expect(diff).toBe(0);
    }
  });

  it('declines what it does not reproduce', async () => {
    const processor = await AutoProcessor.from_pretrained(CLIP_DIR, { local_files_only: true });
    const ip = (processor as any).image_processor;
    expect(fastPathApplies({ ...ip, resize: ip.resize.bind(ip), do_pad: true })).toBe(false);
    expect(fastPathApplies({ ...ip, resize: ip.resize.bind(ip), do_center_crop: false })).toBe(false);
    // crop larger than the resized image: the processor pads, the fast path steps aside
    ip.size = { shortest_edge: 16 };
    ip.crop_size = { height: 32, width: 32 };
    const tiny = new RawImage(new Uint8ClampedArray(20 * 10 * 3).fill(100), 20, 10, 3);
    expect(await fastPixelValues([tiny], ip)).toBeUndefined();
  });
});
