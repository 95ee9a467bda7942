import type { AnyStage } from '../core/stage.js';
import { captionAuto } from './caption/auto.js';
import { captionModel } from './caption/model.js';
import { embedClip } from './embed/clip.js';
import { regionsCenternet } from './regions/centernet.js';
import { regionsDetector } from './regions/detector.js';
import { regionsWindows } from './regions/windows.js';
import { tagsAuto } from './tags/auto.js';
import { tagsClip } from './tags/clip.js';

/** Vision stages: CLIP embeddings, CLIP tags, sliding-window and detected regions, model captions (or file captions with a model fallback). */
export const visionStages: readonly AnyStage[] = [
  embedClip,
  tagsClip,
  tagsAuto,
  regionsWindows,
  regionsDetector,
  regionsCenternet,
  captionModel,
  captionAuto,
] as AnyStage[];
