/** Category classes a Wikidata build keeps (items whose P31/P279 closure reaches one of them). */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export interface Category {
  name: string;
  qid: string;
}

const categoryFile = z.union([
  z.array(z.string()),
  z.object({
    categories: z.array(z.union([z.string(), z.object({ name: z.string(), qid: z.string() }).loose()])),
  }).loose(),
]);

/**
 * Read a categories file: `["Q729", …]`, or `{ "categories": [{ "name": "animal", "qid": "Q729" }, …] }`
 * (see knowledge/kat-categories.json).
 */
export function parseCategories(json: unknown, file = 'categories'): Category[] {
  const parsed = categoryFile.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: expected a list of QIDs or {"categories": [{"name","qid"}]}`);
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.categories;
  const out = list.map((c) => (typeof c === 'string' ? { name: c, qid: c } : { name: c.name, qid: c.qid }));
  for (const c of out) {
    if (!/^Q\d+$/.test(c.qid)) throw new Error(`${file}: "${c.qid}" is not a Wikidata item id (Q…)`);
  }
  if (out.length === 0) throw new Error(`${file}: no categories`);
  if (out.length > 31) throw new Error(`${file}: at most 31 categories`);
  return out;
}

export function loadCategories(path: string): Category[] {
  return parseCategories(JSON.parse(readFileSync(path, 'utf8')), path);
}
