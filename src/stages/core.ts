import type { AnyStage } from '../core/stage.js';
import { answerTop } from './answer/top.js';
import { candidatesPrior } from './candidates/prior.js';
import { captionFile } from './caption/file.js';
import { tagsFile } from './tags/file.js';

export const coreStages: readonly AnyStage[] = [captionFile, tagsFile, candidatesPrior, answerTop];
