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
}
