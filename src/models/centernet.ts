/**
 * The COCO-80 CenterNet detector (MobileNetV3 CenterNet, 512×512 input) shipped as a TF.js graph model inside the npm
 * package `@vladmandic/human` (models/centernet.{json,bin}, ~4 MB). Loaded straight from those files with
 * `@tensorflow/tfjs-converter` through an in-memory IOHandler and run on the tfjs wasm backend: no network, no Human.
 *
 * The graph ends in `tower_0/detections` [1, 100, 6] = (x1, y1, x2, y2) in input pixels, score, class index (0-based
 * into COCO-80). We rescale boxes to the original image and apply per-label NMS.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileSha256 } from '../core/file-identity.js';
import { sha256 } from '../core/hash.js';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { RawImage } from '@huggingface/transformers';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { tfConverter } from '../runtime/lazy.js';
import type { Box } from '../core/artifacts.js';
import type { RunContext } from '../core/context.js';
import { clampBox, nms } from '../image/geometry.js';
import { initTfjsWasm } from './tfjs.js';

const require = createRequire(import.meta.url);

export const COCO80 = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant',
  'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard',
  'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot',
  'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop',
  'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock',
  'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
] as const;

export const CENTERNET_ID = 'centernet';
const INPUT = 512;

export interface Detection {
  label: string;
  score: number;
  box: Box;
}

export interface CenterNetOptions {
  /** Minimum score (default 0.2, as in Human). */
  threshold?: number;
  /** IoU above which a lower-scored box of the same label is dropped (default 0.5). */
  iou?: number;
  maxDetections?: number;
}

/** Folder of the model files inside the installed @vladmandic/human. */
export function centernetDir(): string {
  let entry: string;
  try {
    entry = require.resolve('@vladmandic/human');
  } catch {
    throw new Error('the CenterNet detector needs the npm package @vladmandic/human (npm install @vladmandic/human)');
  }
  // the package's exports hide package.json: walk up from its entry point to the folder holding models/
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'models', 'centernet.json'))) return join(dir, 'models');
  }
  throw new Error(`@vladmandic/human is installed (${entry}) but models/centernet.json was not found in it`);
}

/**
 * What identifies the CenterNet model in cache keys: the sha256 of its graph (centernet.json) and of every weight file
 * the graph's manifest names, read from the installed package, so another @vladmandic/human release with other weights
 * does not replay old detections. `dir` defaults to the installed package's models folder.
 */
export function centernetFingerprint(dir: string = centernetDir()): string {
  const graph = join(dir, 'centernet.json');
  const json = JSON.parse(readFileSync(graph, 'utf8')) as { weightsManifest?: { paths: string[] }[] };
  const files = ['centernet.json', ...(json.weightsManifest ?? []).flatMap((g) => g.paths)];
  return `centernet|${sha256(files.map((f) => `${f}:${fileSha256(join(dir, f))}`).join('\n')).slice(0, 32)}`;
}

export function loadCenterNet(ctx: Pick<RunContext, 'resources'>): Promise<GraphModel> {
  return ctx.resources.get(
    'model:centernet',
    async () => {
      await initTfjsWasm(ctx);
      const dir = centernetDir();
      const json = JSON.parse(await readFile(join(dir, 'centernet.json'), 'utf8'));
      const manifest = json.weightsManifest as { paths: string[]; weights: unknown[] }[];
      const buffers = await Promise.all(manifest.flatMap((g) => g.paths).map((p) => readFile(join(dir, p))));
      const all = Buffer.concat(buffers);
      const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
      return tfConverter().loadGraphModel({
        load: async () => ({
          modelTopology: json.modelTopology,
          weightSpecs: manifest.flatMap((g) => g.weights) as never,
          weightData,
          format: json.format,
          generatedBy: json.generatedBy,
          convertedBy: json.convertedBy,
        }),
      });
    },
    (m) => m.dispose(),
  );
}

/** Detect COCO-80 objects in an RGB image; boxes in the image's pixels, best first. */
export async function detectCenterNet(
  image: RawImage,
  ctx: Pick<RunContext, 'resources'>,
  opts: CenterNetOptions = {},
): Promise<Detection[]> {
  const threshold = opts.threshold ?? 0.2;
  const model = await loadCenterNet(ctx);
  const tf = await initTfjsWasm(ctx);
  const rgb = image.channels === 3 ? image : image.rgb();
  const raw = tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(rgb.data), [1, rgb.height, rgb.width, 3]);
    const resized = tf.image.resizeBilinear(x, [INPUT, INPUT]);
    return model.execute(resized, ['tower_0/detections']) as import('@tensorflow/tfjs-core').Tensor;
  });
  const rows = ((await raw.array()) as number[][][])[0] ?? [];
  raw.dispose();
  const sx = rgb.width / INPUT;
  const sy = rgb.height / INPUT;
  const found: Detection[] = [];
  for (const [x1, y1, x2, y2, score, cls] of rows as [number, number, number, number, number, number][]) {
    if (!(score >= threshold) || !Number.isFinite(cls)) continue;
    const label = COCO80[Math.round(cls)];
    if (!label) continue;
    const box = clampBox({ xmin: x1 * sx, ymin: y1 * sy, xmax: x2 * sx, ymax: y2 * sy }, rgb.width, rgb.height);
    if (box.xmax - box.xmin < 1 || box.ymax - box.ymin < 1) continue;
    found.push({ label, score, box });
  }
  const kept = nms(found, opts.iou ?? 0.5).map((i) => found[i]!);
  return opts.maxDetections ? kept.slice(0, opts.maxDetections) : kept;
}
