/** Typed artifacts that flow between pipeline stages. Every artifact is plain JSON (cacheable, traceable). */

export type DatasetName = 'okvqa' | 'aokvqa';

/** Prefix of the image "path" of in-memory bytes (a Buffer given to the library): `memory:<sha256>`. */
export const MEMORY_IMAGE_PREFIX = 'memory:';

/** One question to answer. `answers` (ten raw answers) is present only when ground truth is known. */
export interface Sample {
  dataset: DatasetName;
  questionId: string;
  /** COCO image id. Absent for an image that is not a dataset file (a QA app's upload): `imageHash` identifies it. */
  imageId?: number;
  question: string;
  /** Absolute path of the image file (a COCO file when an images folder was given), or `memory:<sha256>` for bytes. */
  imagePath?: string;
  /** sha256 of the image's bytes: what identifies an image without a COCO id in cache keys. */
  imageHash?: string;
  answers?: string[];
  /** A-OKVQA multiple choice. */
  choices?: string[];
  correctChoiceIdx?: number;
}

export interface Caption { text: string; source: string; conf?: number }

export interface Tag { label: string; conf: number; /** index into the regions artifact when the tag belongs to a region */ region?: number }

export interface Box { xmin: number; ymin: number; xmax: number; ymax: number }

export interface Region {
  /** Index of the region within its artifact. */
  id: number;
  /** Pixel box in the original image. */
  box: Box;
  source: 'image' | 'window' | 'detector';
  label?: string;
  score?: number;
  /** L2-normalised image embedding of the crop, when a stage computed it. */
  embedding?: number[];
  embeddingModel?: string;
  /** Size of the image the box is in (pixels), when the producing stage knew it: boxes normalise against it. */
  image?: { width: number; height: number };
}

/** An in-context example drawn from the example pool (usually the training split). */
export interface Example {
  questionId: string;
  imageId: number;
  question: string;
  /** Most common ground-truth answer (PICa uses the first of the most frequent). */
  answer: string;
  answers: string[];
  context: string;
  similarity?: number;
  /** The example's own answer candidates, best first (Prophet shows them with the example). */
  candidates?: { answer: string; score: number }[];
}

/** One LLM prompt and what came back: what a trace must record to reproduce a run. */
export interface PromptResult {
  index: number;
  prompt: string;
  completion: string;
  answer: string;
  /** Sum of token log-probabilities, null when the backend gave none. */
  logprob: number | null;
  tokens?: { token: string; logprob: number }[];
  exampleIds?: string[];
  model?: string;
}

export interface Candidate {
  answer: string;
  score: number;
  /** Rationale / explanation supporting the candidate (implicit knowledge). */
  evidence?: string;
  logprob?: number | null;
  source?: string;
}

export interface Passage {
  text: string;
  score: number;
  source: string;
  id?: string;
  region?: number;
  /** FiD's `ctxs[].title` / `ctxs[].text` split of the passage, when it has one (export to FiD training JSON). */
  title?: string;
  body?: string;
}

export interface Prediction {
  answer: string;
  score?: number;
  /** A-OKVQA multiple-choice pick. */
  multipleChoice?: string;
  /** How the answer was chosen (e.g. "logprob", "vote", "fid"). */
  method?: string;
  /** Summed log-probability of the generated answer (generative readers). */
  logprob?: number;
  /** One FiD cross-attention score per passage, aligned with the `passages` input the reader received (same order). */
  attribution?: number[];
}

/** Name → type of every artifact kind. Extend by declaration merging for new kinds. */
export interface ArtifactTypes {
  sample: Sample;
  captions: Caption[];
  tags: Tag[];
  regions: Region[];
  examples: Example[];
  prompts: PromptResult[];
  candidates: Candidate[];
  passages: Passage[];
  answer: Prediction;
  embedding: number[];
}

export type ArtifactKind = keyof ArtifactTypes;

export const ARTIFACT_KINDS: readonly ArtifactKind[] = [
  'sample', 'captions', 'tags', 'regions', 'examples', 'prompts', 'candidates', 'passages', 'answer', 'embedding',
];

/** Artifact kinds whose values are lists: several producers may be wired into one input and are concatenated. */
export const LIST_KINDS: ReadonlySet<ArtifactKind> = new Set<ArtifactKind>([
  'captions', 'tags', 'regions', 'examples', 'prompts', 'candidates', 'passages',
]);
