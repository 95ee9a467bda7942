/**
 * The text of a knowledge-base entity: what `kb get/search` show, what FTS indexes and what `kb embed` embeds.
 * KAT's own template (`{label} is a {description}`, verbatim, for its passages) is `katEntityText`.
 */
import { indefiniteArticle } from '../text/article.js';

/**
 * Words that already open a noun phrase (or stand for one): the description follows "is" without an article
 * ("entity is that which is perceived…", "moss is any of various…", "Paris is the capital of France").
 */
const DETERMINER = new Set(
  ('a an the that which what whatever who whom whose any each every either neither no some something someone somebody ' +
    'anything anyone nothing none one ones this these those his her its their my our your all both several many much ' +
    'more most few two three four five six seven eight nine ten another other such').split(' '),
);

/** `{label} is {a|an} {description}` in English: the right article, none where the description brings its own. */
export function entityText(label: string, description: string): string {
  const d = description.trim();
  if (!d) return label;
  const first = /^[\p{L}\p{N}'’-]+/u.exec(d)?.[0]?.toLowerCase();
  if (d.startsWith('(') || (first !== undefined && DETERMINER.has(first))) return `${label} is ${d}`;
  return `${label} is ${indefiniteArticle(d)} ${d}`;
}

/** KAT's entity text, verbatim from its code: `{label} is a {description}` (used for KAT's passages only). */
export function katEntityText(label: string, description: string): string {
  return `${label} is a ${description}`;
}
