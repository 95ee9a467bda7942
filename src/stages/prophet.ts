import type { AnyStage } from '../core/stage.js';
import { answerProphet } from './answer/prophet.js';
import { candidatesProphet } from './candidates/prophet.js';
import { captionProphet } from './caption/prophet.js';
import { examplesProphet } from './examples/prophet.js';
import { promptProphet } from './prompt/prophet.js';

/** Prophet (MILVLG/prophet stage 2): released heuristics, its prompt and its vote. */
export const prophetStages: readonly AnyStage[] = [captionProphet, candidatesProphet, examplesProphet, promptProphet, answerProphet];
