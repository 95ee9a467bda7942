import type { AnyStage } from '../core/stage.js';
import { readerFid } from './reader/fid.js';

/** Reader stages: passages (+ regions) → answer. */
export const readerStages: readonly AnyStage[] = [readerFid] as AnyStage[];
