/**
 * Detectors run through transformers.js pipelines, by hub id:
 *  - open vocabulary (`zero-shot-object-detection`, role `detector`, OWL-ViT by default), prompted with a class list
 *    the way REVIVE prompts GLIP ("Detect: person, bicycle, car, …");
 *  - closed set (`object-detection`, role `object-detector`, DETR by default).
 * `detect()` also accepts the id `centernet` for the offline TF.js CenterNet (see centernet.ts).
 */
import type { RawImage } from '@huggingface/transformers';
import { transformers } from '../runtime/lazy.js';
import type { RunContext } from '../core/context.js';
import { clampBox, nms } from '../image/geometry.js';
import { CENTERNET_ID, COCO80, centernetFingerprint, detectCenterNet, type Detection } from './centernet.js';
import { loadOnce, modelFingerprint, sourceFor, type ModelSource } from './hub.js';

export type DetectorTask = 'zero-shot-object-detection' | 'object-detection';

export interface DetectOptions {
  /** Hub id, model directory, or `centernet`; default: the configured model of the task's role. */
  model?: string;
  /** Default: zero-shot (open vocabulary). */
  task?: DetectorTask;
  /** Class names to prompt a zero-shot detector with (default COCO-80). Ignored by closed-set detectors. */
  classes?: readonly string[];
  threshold?: number;
  /** Per-label NMS IoU (default 0.5). */
  iou?: number;
  maxDetections?: number;
}

export function detectorRole(task: DetectorTask): string {
  return task === 'object-detection' ? 'object-detector' : 'detector';
}

export function detectorSource(ctx: Pick<RunContext, 'config' | 'paths'>, opts: DetectOptions): ModelSource | undefined {
  if (opts.model === CENTERNET_ID) return undefined;
  return sourceFor(ctx, detectorRole(opts.task ?? 'zero-shot-object-detection'), opts.model);
}

/** Identifies the detector for stage fingerprints. */
export function detectorFingerprint(ctx: Pick<RunContext, 'config' | 'paths'>, opts: DetectOptions): string {
  const s = detectorSource(ctx, opts);
  return s ? `${opts.task ?? 'zero-shot-object-detection'}|${modelFingerprint(s)}` : centernetFingerprint();
}

interface PipelineDetection {
  label: string;
  score: number;
  box: { xmin: number; ymin: number; xmax: number; ymax: number };
}

/** Detect objects in one image. Boxes are in the image's pixels, best first, NMS applied per label. */
export async function detect(
  image: RawImage,
  ctx: Pick<RunContext, 'config' | 'paths' | 'resources'>,
  opts: DetectOptions = {},
): Promise<Detection[]> {
  const source = detectorSource(ctx, opts);
  if (!source) {
    const o: { threshold?: number; iou?: number; maxDetections?: number } = {};
    if (opts.threshold !== undefined) o.threshold = opts.threshold;
    if (opts.iou !== undefined) o.iou = opts.iou;
    if (opts.maxDetections !== undefined) o.maxDetections = opts.maxDetections;
    return detectCenterNet(image, ctx, o);
  }
  const task = opts.task ?? 'zero-shot-object-detection';
  const pipe = await loadOnce(ctx, source, task, async (loc, o) => (await transformers()).pipeline(task, loc, o) as Promise<unknown>);
  let raw: PipelineDetection[];
  if (task === 'zero-shot-object-detection') {
    const classes = [...(opts.classes ?? COCO80)];
    if (classes.length === 0) throw new Error('zero-shot detection needs at least one class name');
    raw = (await (pipe as (i: RawImage, l: string[], o: object) => Promise<PipelineDetection[]>)(image, classes, {
      threshold: opts.threshold ?? 0.1,
    })) as PipelineDetection[];
  } else {
    raw = (await (pipe as (i: RawImage, o: object) => Promise<PipelineDetection[]>)(image, {
      threshold: opts.threshold ?? 0.5,
    })) as PipelineDetection[];
  }
  const found: Detection[] = raw
    .map((d) => ({ label: String(d.label), score: d.score, box: clampBox(d.box, image.width, image.height) }))
    .filter((d) => d.box.xmax - d.box.xmin >= 1 && d.box.ymax - d.box.ymin >= 1);
  const kept = nms(found, opts.iou ?? 0.5).map((i) => found[i]!);
  return opts.maxDetections ? kept.slice(0, opts.maxDetections) : kept;
}
