import type { Caption, Tag } from '../core/artifacts.js';
import { InputError } from '../core/errors.js';
import { parseJsonText, readUtf8File } from './read-json.js';

/** Text annotations of images or questions, keyed by image id or question id (as strings). */
export type TextMap<T> = Map<string, T[]>;

interface Item { text: string; conf?: number }

const readText = readUtf8File;

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
 * COCO's caption files (`captions_train2014.json`: `{info, images, licenses, annotations: [{image_id, id, caption}]}`),
 * or the bare annotation list (as PICa's load_anno accepts): the annotations, else undefined.
 */
function cocoAnnotations(obj: unknown): unknown[] | undefined {
  const list = Array.isArray(obj) ? obj : (obj as Record<string, unknown> | null)?.annotations;
  if (!Array.isArray(list)) return undefined;
  const first = list[0] as Record<string, unknown> | undefined;
  if (Array.isArray(obj) && list.length && (typeof first !== 'object' || first === null || !('image_id' in first))) return undefined;
  return list;
}

/** Captions per image id, in file order (COCO has five per image). */
function fromCocoAnnotations(list: unknown[], field: 'caption' | 'class', path: string): TextMap<Item> {
  const map: TextMap<Item> = new Map();
  list.forEach((a, i) => {
    const o = a as Record<string, unknown> | null;
    const id = o?.image_id;
    const text = o?.[field] ?? o?.caption;
    if ((typeof id !== 'number' && typeof id !== 'string') || typeof text !== 'string') {
      throw new InputError(`COCO annotation ${i} needs "image_id" and "${field}"`, path, `annotations[${i}]`);
    }
    const k = String(id);
    const items = map.get(k);
    if (items) items.push({ text });
    else map.set(k, [{ text }]);
  });
  return map;
}

/**
 * Parse a caption or tag file. Layouts:
 * - COCO captions (`captions_train2014.json`, or its `annotations` list): every caption of each image, in file order;
 * - VinVL TSV: `image_id<TAB>[{"caption"|"class": …, "conf": …}, …]` (one line per image);
 * - JSON map keyed by image or question id: values a string, a list of strings, or a list of `{caption|class, conf}`.
 */
function loadTextMap(path: string, field: 'caption' | 'class'): TextMap<Item> {
  const text = readText(path);
  const map: TextMap<Item> = new Map();
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const obj = parseJsonText(text, path);
    const coco = cocoAnnotations(obj);
    if (coco) return fromCocoAnnotations(coco, field, path);
    if (Array.isArray(obj)) {
      throw new InputError('a JSON list must be COCO caption annotations ({"image_id", "caption"} objects)', path);
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
