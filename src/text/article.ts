/**
 * "a" or "an" before a word or number, by how it is spoken: vowel sounds take "an" ("an American", "an hour",
 * "an 18th-century", "an FBI agent"), consonant sounds "a" ("a European", "a unit", "a one-off", "a 1999 film").
 * A heuristic over spelling (English has no rule on letters alone), tuned for dictionary and Wikidata descriptions.
 */
export function indefiniteArticle(phrase: string): 'a' | 'an' {
  const word = phrase.trimStart().replace(/^["'“‘(\[]+/, '');
  const digits = /^\d+/.exec(word)?.[0];
  if (digits) {
    // 8, 80, 800…, 11, 18, 11xx, 18xx (eleven/eighteen hundred) are spoken with a vowel sound.
    if (digits.startsWith('8')) return 'an';
    if ((digits.startsWith('11') || digits.startsWith('18')) && (digits.length === 2 || digits.length === 4)) return 'an';
    return 'a';
  }
  // Initialisms of up to three capitals are spelled out: the first letter's name decides ("an FBI", "a CIA").
  const caps = /^[A-Z]{2,3}(?![A-Za-z])/.exec(word)?.[0] ?? (/^[A-Z](?![A-Za-z])/.test(word) ? word[0] : undefined);
  if (caps) return 'AEFHILMNORSX'.includes(caps[0]!) ? 'an' : 'a';
  const w = word.toLowerCase();
  if (/^(hour|honest|honou?r|heir)/.test(w)) return 'an';
  if (/^(uni(?![nmd])|us[aeiu]|ut[aeiou]|ur[aeiou]|ug[aeiou]|ub[aeiou]|uk|uv|uz|eu|ewe|one\b|once)/.test(w)) return 'a';
  return /^[aeiou]/.test(w) ? 'an' : 'a';
}
