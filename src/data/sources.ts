import type { DatasetName } from '../core/artifacts.js';

/** Files of the in-context example pool (usually the training split). */
export interface ExampleSources {
  questions: string;
  annotations?: string;
  images?: string;
  captions?: string;
  tags?: string;
}

/** KAT's released pickles (guilk/KAT okvqa.zip). */
export interface KatSources {
  entities?: string;
  implicit?: string;
  questions?: string;
}

/** Prophet's released answer heuristics (MILVLG/prophet `assets/`). */
export interface ProphetSources {
  /** `candidates_okvqa.json` / `candidates_aokvqa_{val,test}.json`: question id → [{answer, confidence}…] */
  candidates?: string;
  /** `answer_aware_examples_okvqa.json` / `examples_aokvqa_{val,test}.json.json`: question id → [example question id…] */
  examples?: string;
  /** `captions_okvqa.json` / `captions_aokvqa.json`: image id → caption */
  captions?: string;
  /** The examples' questions (+ answers) when they are not data.json `examples` alone (A-OKVQA test: train + val). */
  pool?: { questions: string; annotations?: string }[];
}

/** data.json with every path resolved to an absolute path. */
export interface DataSources {
  dataset?: DatasetName;
  /** Folder data.json lives in. */
  dir?: string;
  questions?: string;
  annotations?: string;
  images?: string;
  captions?: string;
  /** Question-aware captions keyed by question id (`{question_id: caption}`). */
  questionCaptions?: string;
  tags?: string;
  knowledge?: string;
  examples?: ExampleSources;
  kat?: KatSources;
  prophet?: ProphetSources;
}
