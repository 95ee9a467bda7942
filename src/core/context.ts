import type { Cache } from './cache.js';
import type { Config } from './config.js';
import type { PackagePaths } from './paths.js';
import type { Resources } from './resources.js';
import type { DataSources } from '../data/sources.js';

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {} };

/** LLM accounting for one question. */
export interface Usage {
  calls: number;
  cachedCalls: number;
  promptTokens: number;
  completionTokens: number;
  /** Image tokens of vision-language calls, when the server reports them (absent otherwise). */
  imageTokens?: number;
}

/** What every node of a run shares. */
export interface RunContext {
  config: Config;
  /** The data sources named by data.json (absolute paths); empty for ad-hoc library calls. */
  data: DataSources;
  resources: Resources;
  cache: Cache;
  paths: PackagePaths;
  log: Logger;
  signal: AbortSignal;
}

/** What one stage invocation sees: the run context plus the question and node it works for. */
export interface StageContext extends RunContext {
  questionId: string;
  node: string;
  /** Record a fact in this node's trace entry (e.g. "fallback": "majority vote"). */
  note(key: string, value: unknown): void;
  /** Add LLM usage to this question's accounting. */
  usage(u: Partial<Usage>): void;
}
