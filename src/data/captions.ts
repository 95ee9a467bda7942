import { readFileSync } from 'node:fs';
import type { Caption, Tag } from '../core/artifacts.js';
import { InputError } from '../core/errors.js';

/** Text annotations of images or questions, keyed by image id or question id (as strings). */
export type TextMap<T> = Map<string, T[]>;

interface Item { text: string; conf?: number }

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, path);
  }
}

function toItems(value: unknown, field: 'caption' | 'class', file: string, where: string): Item[] {
  const one = (v: unknown): Item => {
    if (typeof v === 'string') return { text: v };
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const text = o[field] ?? o.caption ?? o.class ?? o.text ?? o.label;
      if (typeof text === 'string') return typeof o.conf === 'number' ? { text, conf: o.conf } : { text };
    }
    throw new InputError(`expected a string or an object with "${field}"`, file, where);
  };
  return Array.isArray(value) ? value.map(one) : [one(value)];
}

/**
 * Parse a caption or tag file. Layouts:
 * - VinVL TSV: `image_id<TAB>[{"caption"|"class": …, "conf": …}, …]` (one line per image);
 * - JSON map keyed by image or question id: values a string, a list of strings, or a list of `{caption|class, conf}`.
 */
function loadTextMap(path: string, field: 'caption' | 'class'): TextMap<Item> {
  const text = readText(path);
  const map: TextMap<Item> = new Map();
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new InputError(`not valid JSON: ${(err as Error).message}`, path);
    }
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) map.set(k, toItems(v, field, path, k));
    return map;
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (!line.trim()) continue;
    const tab = line.indexOf('\t');
    if (tab < 0) throw new InputError('expected "id<TAB>json"', path, undefined, i + 1);
    let value: unknown;
    try {
      value = JSON.parse(line.slice(tab + 1));
    } catch (err) {
      throw new InputError(`bad JSON after the tab: ${(err as Error).message}`, path, undefined, i + 1);
    }
    map.set(line.slice(0, tab).trim(), toItems(value, field, path, `line ${i + 1}`));
  }
  return map;
}

export function loadCaptions(path: string, source = 'file'): TextMap<Caption> {
  const out: TextMap<Caption> = new Map();
  for (const [k, items] of loadTextMap(path, 'caption')) {
    out.set(k, items.map((it) => (it.conf === undefined ? { text: it.text, source } : { text: it.text, source, conf: it.conf })));
  }
  return out;
}

export function loadTags(path: string): TextMap<Tag> {
  const out: TextMap<Tag> = new Map();
  for (const [k, items] of loadTextMap(path, 'class')) out.set(k, items.map((it) => ({ label: it.text, conf: it.conf ?? 1 })));
  return out;
}

export type MapKeying = 'image' | 'question';

/** Decide whether a map is keyed by question id or image id, by which of the two matches more of the given samples. */
export function detectKeying(map: TextMap<unknown>, samples: readonly { questionId: string; imageId?: number }[]): MapKeying {
  let q = 0;
  let im = 0;
  for (const s of samples) {
    if (map.has(s.questionId)) q++;
    if (s.imageId !== undefined && map.has(String(s.imageId))) im++;
  }
  return q > im ? 'question' : 'image';
}
