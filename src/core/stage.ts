import type { z } from 'zod';
import type { ArtifactKind, ArtifactTypes } from './artifacts.js';
import type { Sample } from './artifacts.js';
import type { RunContext, StageContext } from './context.js';

/** One declared input of a stage: the artifact kind it accepts, and whether the pipeline may leave it unwired. */
export interface InputSpec {
  kind: ArtifactKind;
  optional?: boolean;
  /**
   * For a `sample` input: the stage reads the image's pixels, so the image's content (sha256 of the file, or of the bytes
   * given) joins the node's cache key besides the COCO id: another file under the same id never reuses its results.
   */
  image?: boolean;
}

export type InputSpecs = Record<string, InputSpec>;

/** The values a stage receives, typed from its declared inputs. */
export type InputValues<I extends InputSpecs> = {
  [K in keyof I]: I[K]['optional'] extends true
    ? ArtifactTypes[I[K]['kind']] | undefined
    : ArtifactTypes[I[K]['kind']];
};

/** Stage ids are `kind.impl`, e.g. `retrieve.entities`, `caption.file`. */
export type StageId = `${string}.${string}`;

export interface Stage<I extends InputSpecs = InputSpecs, O extends ArtifactKind = ArtifactKind, P = unknown> {
  id: StageId;
  /** Bump when behaviour changes: it is part of the cache key, so old entries stop matching. */
  version: string;
  description: string;
  inputs: I;
  output: O;
  /** zod schema for the node's params; defaults belong here. */
  params: z.ZodType<P>;
  /**
   * Whether node outputs are stored in the content-addressed cache (default true).
   * Cheap, deterministic stages (file lookups, top-1 picks) turn it off.
   */
  cache?: boolean;
  /**
   * Extra content that determines the output besides params and inputs: prompt template text, resolved model id,
   * data file hash. Computed once per node and run; hashed into the cache key.
   */
  fingerprint?(params: P, ctx: RunContext): string | Promise<string>;
  /**
   * Pre-flight: check, before any question runs, every input this node will need (files named by data.json or params
   * exist and parse, coverage of the run's questions, models resolvable, services configured). Return one finding per
   * problem; never throw for an expected problem. Cheap enough to run before every batch; what it loads through
   * `ctx.resources` is reused by the run. See `preflight` in src/core/preflight.ts.
   */
  check?(params: P, ctx: CheckContext): CheckFinding[] | Promise<CheckFinding[]>;
  run(inputs: InputValues<I>, params: P, ctx: StageContext): Promise<ArtifactTypes[O]>;
  /** Release what the stage holds (sessions, handles) at the end of a run. */
  dispose?(): Promise<void>;
}

/** One problem a pre-flight check found. The engine adds the node and stage. */
export interface CheckFinding {
  /** `error` refuses the run; `warning` is printed and the run goes on. */
  severity: 'error' | 'warning';
  /** The input concerned: a data.json key (`tags`, `examples.captions`), a param (`params.file`), a config key (`llm.model`). */
  key: string;
  /** What is wrong, with the numbers (e.g. "613 of 5,033 images have tags"). */
  message: string;
  /** What to do about it (e.g. "use pica-base-caption, or name a tags file"). */
  fix?: string;
}

/** What a pre-flight check sees: the run's config, data sources and resources, and every question the run will answer. */
export interface CheckContext extends Pick<RunContext, 'config' | 'data' | 'paths' | 'resources' | 'log'> {
  /** Node being checked. */
  node: string;
  /** The questions of the run (after --limit). */
  samples: readonly Sample[];
}

/** Untyped view used by the engine. */
export type AnyStage = Stage<InputSpecs, ArtifactKind, any>;

/** Identity helper that gives stage authors full inference of input/param types. */
export function defineStage<I extends InputSpecs, O extends ArtifactKind, P>(stage: Stage<I, O, P>): Stage<I, O, P> {
  if (!/^[a-z][a-z0-9-]*\.[a-z][a-z0-9.-]*$/.test(stage.id)) {
    throw new Error(`stage id "${stage.id}" must look like kind.impl (lowercase)`);
  }
  return stage;
}
