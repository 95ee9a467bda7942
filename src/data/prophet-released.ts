/**
 * Prophet's released answer heuristics (MILVLG/prophet `assets/`, names in `misc/tree.txt`), read as
 * `prophet/stage2/utils/data_utils.py` (`Qid2Data`) reads them:
 * - candidates (`candidates_okvqa.json`, `candidates_aokvqa_{val,test}.json`, written by stage1/heuristics.py):
 *   `{question_id: [{"answer", "confidence"}, …]}`, best first, for the training and the evaluated questions;
 * - answer-aware examples (`answer_aware_examples_okvqa.json`, `examples_aokvqa_{val,test}.json.json`):
 *   `{question_id: [training question_id, …]}`, most similar first;
 * - captions (`captions_okvqa.json`, `captions_aokvqa.json`): `{image_id: caption}`.
 * Question and image ids are JSON object keys, so strings (Prophet looks them up with `str(…)`).
 */
import { InputError } from '../core/errors.js';
import { readJsonFile } from './read-json.js';

export interface ReleasedCandidate {
  answer: string;
  confidence: number;
}

function asObject(v: unknown, path: string, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError(`expected a JSON object ${what}`, path);
  return v as Record<string, unknown>;
}

/** Question id → candidates in file order. */
export function loadProphetCandidates(path: string): Map<string, ReleasedCandidate[]> {
  const d = asObject(readJsonFile(path), path, '{question_id: [{"answer", "confidence"}, …]} (Prophet candidates)');
  const out = new Map<string, ReleasedCandidate[]>();
  for (const [qid, v] of Object.entries(d)) {
    if (!Array.isArray(v)) throw new InputError(`"${qid}": expected a list of {"answer", "confidence"}`, path, qid);
    out.set(
      qid,
      v.map((c: unknown, i) => {
        const o = c as { answer?: unknown; confidence?: unknown } | null;
        if (!o || typeof o.answer !== 'string' || typeof o.confidence !== 'number') {
          throw new InputError(`"${qid}"[${i}]: expected {"answer": string, "confidence": number}`, path, `${qid}.${i}`);
        }
        return { answer: o.answer, confidence: o.confidence };
      }),
    );
  }
  return out;
}

/** Question id → example question ids, most similar first. */
export function loadProphetExamples(path: string): Map<string, string[]> {
  const d = asObject(readJsonFile(path), path, '{question_id: [example question_id, …]} (Prophet answer-aware examples)');
  const out = new Map<string, string[]>();
  for (const [qid, v] of Object.entries(d)) {
    if (!Array.isArray(v)) throw new InputError(`"${qid}": expected a list of question ids`, path, qid);
    out.set(
      qid,
      v.map((x: unknown, i) => {
        if (typeof x !== 'string' && typeof x !== 'number') throw new InputError(`"${qid}"[${i}]: expected a question id`, path, `${qid}.${i}`);
        return String(x);
      }),
    );
  }
  return out;
}

/** Image id → caption. */
export function loadProphetCaptions(path: string): Map<string, string> {
  const d = asObject(readJsonFile(path), path, '{image_id: caption} (Prophet captions)');
  const out = new Map<string, string>();
  for (const [id, v] of Object.entries(d)) {
    if (typeof v !== 'string') throw new InputError(`"${id}": expected a caption string`, path, id);
    out.set(id, v);
  }
  return out;
}
