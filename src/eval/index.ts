// `okvqa/eval`: the official metrics alone (no pipeline engine, no model runtime, no zod).
export { evaluateVqa, vqaQuestionAccuracy, EvalInputError } from './vqa-accuracy.js';
export type { VqaScore, VqaPrediction, VqaGroundTruth, VqaEvalOptions, GtAnswer } from './vqa-accuracy.js';
export { evaluateAokvqa } from './aokvqa-accuracy.js';
export type { AokvqaScore, AokvqaPrediction } from './aokvqa-accuracy.js';
export { scorePredictionFiles, scorePredictions, detectDataset } from './score-files.js';
export type { Score, ScoreOptions } from './score-files.js';
export { normalizeAnswer, processPunctuation, processDigitArticle, pyRound } from './normalize.js';
