/** The official leaderboard file and metrics for a pipeline run (what `runBatch` is given as its evaluator). */
import type { BatchEvaluator } from '../core/batch.js';
import { toAokvqaPredictions, toVqaPredictions } from './predictions.js';
import { scorePredictions, type Score } from './score-files.js';

export const officialEvaluator: BatchEvaluator<Score> = {
  format: (dataset, answered, preds) =>
    dataset === 'aokvqa' ? toAokvqaPredictions(answered, preds) : toVqaPredictions(answered, preds),
  score: (annotationsPath, predictions, opts) => scorePredictions(annotationsPath, predictions, opts),
};
