import type { AnyStage } from '../core/stage.js';
import { ensembleLogprob } from './ensemble/logprob.js';
import { examplesRandom } from './examples/random.js';
import { examplesAnswerAware, examplesClipSim, examplesQuestionSim } from './examples/similar.js';
import { implicitPassages, implicitRationale } from './implicit/rationale.js';
import { promptPica } from './prompt/pica.js';

export const llmStages: readonly AnyStage[] = [
  examplesRandom,
  examplesQuestionSim,
  examplesClipSim,
  examplesAnswerAware,
  promptPica,
  ensembleLogprob,
  implicitRationale,
  implicitPassages,
];
