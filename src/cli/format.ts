import type { Score } from '../eval/score-files.js';

/** Human-readable summary of a score (the --json form carries everything). */
export function formatScore(score: Score): string {
  if (score.dataset === 'aokvqa') {
    const lines = [`A-OKVQA  questions: ${score.n}`];
    if (score.directAnswer !== null) lines.push(`direct answer:   ${score.directAnswer.toFixed(2)}  (${score.nDirectAnswer} questions)`);
    if (score.multipleChoice !== null) lines.push(`multiple choice: ${score.multipleChoice.toFixed(2)}  (${score.nMultipleChoice} questions)`);
    return lines.join('\n');
  }
  const lines = [`OK-VQA  questions: ${score.n}`, `overall accuracy: ${score.overall.toFixed(2)}${score.answers ? `  (${score.answers === 'stemmed' ? 'v1.1 stemmed' : 'raw'} answers)` : ''}`];
  const types = Object.entries(score.perAnswerType);
  if (types.length) lines.push('per answer type:', ...types.map(([k, v]) => `  ${k}: ${v.toFixed(2)}`));
  const qtypes = Object.entries(score.perQuestionType);
  if (qtypes.length) lines.push('per question type:', ...qtypes.map(([k, v]) => `  ${k}: ${v.toFixed(2)}`));
  return lines.join('\n');
}
