import type { AnyStage } from '../core/stage.js';
import { readerFid } from './reader/fid.js';
import { readerLlm } from './reader/llm.js';

/** Reader stages: passages (+ regions) → answer. */
export const readerStages: readonly AnyStage[] = [readerFid, readerLlm] as AnyStage[];
