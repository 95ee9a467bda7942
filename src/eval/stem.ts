import lemmatizer from 'wink-lemmatizer';

/**
 * OK-VQA v1.1-style stemming of a prediction, for scoring against v1.1's stemmed answers. OK-VQA v1.1 singularised
 * nouns and reduced verb forms ("skiing" → "ski", "dogs" → "dog"); this reproduces that with WordNet-based
 * lemmatisation (wink-lemmatizer): words ending in -ing/-ed take their verb lemma, every other word its noun lemma.
 * It is an approximation of the dataset's own rules, off by default, and never part of the official metric.
 */
export function stemAnswer(answer: string): string {
  return answer
    .split(' ')
    .map((w) => (w.length > 4 && /(?:ing|ed)$/.test(w) ? lemmatizer.verb(w) : lemmatizer.noun(w)))
    .join(' ');
}
