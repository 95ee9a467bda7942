import type { AnyStage } from '../core/stage.js';
import { candidatesVlm } from './candidates/vlm.js';
import { captionQuestionFile } from './caption/question-file.js';
import { captionVlm } from './caption/vlm.js';
import { readerVlm } from './reader/vlm.js';

/** Vision-language stages (docs/vlm.md), and the question-aware caption file they pair with. */
export const vlmStages: readonly AnyStage[] = [readerVlm, captionVlm, candidatesVlm, captionQuestionFile] as AnyStage[];
