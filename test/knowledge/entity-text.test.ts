import { describe, expect, it } from 'vitest';
import { entityText, katEntityText } from '../../src/knowledge/entity-text.js';
import { indefiniteArticle } from '../../src/text/article.js';

describe('entity text (KB display / search text) is English', () => {
  it.each([
    ['Tom Hanks', 'American actor and filmmaker', 'Tom Hanks is an American actor and filmmaker'],
    ['Rex', 'famous lap dog', 'Rex is a famous lap dog'],
    ['entity', 'that which is perceived or known or inferred to have its own distinct existence', 'entity is that which is perceived or known or inferred to have its own distinct existence'],
    ['dog', 'a member of the genus Canis', 'dog is a member of the genus Canis'],
    ['Paris', 'the capital of France', 'Paris is the capital of France'],
    ['moss', 'any of numerous plants of the division Bryophyta', 'moss is any of numerous plants of the division Bryophyta'],
    ['Titanic', '1997 film by James Cameron', 'Titanic is a 1997 film by James Cameron'],
    ['Big Ben', '18th-century bell', 'Big Ben is an 18th-century bell'],
    ['Oxford', 'university city in England', 'Oxford is a university city in England'],
    ['Berlin', 'European capital', 'Berlin is a European capital'],
    ['Ottawa', 'city in Ontario', 'Ottawa is a city in Ontario'],
    ['clock', 'instrument that measures time', 'clock is an instrument that measures time'],
    ['Q1', '', 'Q1'],
  ])('%s + %j', (label, description, text) => {
    expect(entityText(label, description)).toBe(text);
    expect(entityText(label, description)).not.toMatch(/ is a (that|a|an|the|any) /);
  });

  it('KAT keeps its own verbatim template for its passages', () => {
    expect(katEntityText('Tom Hanks', 'American actor')).toBe('Tom Hanks is a American actor');
  });

  it.each([
    ['apple', 'an'], ['hour', 'an'], ['honest man', 'an'], ['house', 'a'], ['unit', 'a'], ['uninhabited island', 'an'],
    ['umbrella', 'an'], ['useful tool', 'a'], ['Ugandan', 'a'], ['one-off', 'a'], ['FBI agent', 'an'], ['CIA agent', 'a'],
    ['NASA mission', 'a'], ['X-ray', 'an'], ['8-bit', 'an'], ['11th century', 'an'], ['1100s', 'an'], ['118 m', 'a'],
    ['2010 film', 'a'], ['80s song', 'an'],
  ])('%s → %s', (phrase, article) => {
    expect(indefiniteArticle(phrase)).toBe(article);
  });
});
