import { StageRegistry } from '../core/registry.js';
import type { AnyStage } from '../core/stage.js';
import { coreStages } from './core.js';
import { visionStages } from './vision.js';
import { llmStages } from './llm.js';
import { knowledgeStages } from './knowledge.js';
import { readerStages } from './reader.js';
import { prophetStages } from './prophet.js';
import { vlmStages } from './vlm.js';

export const builtinStages: readonly AnyStage[] = [...coreStages, ...visionStages, ...llmStages, ...knowledgeStages, ...readerStages, ...prophetStages, ...vlmStages];

/** A fresh registry holding the built-in stages; extend it with `registry.register(myStage)`. */
export function createRegistry(extra: Iterable<AnyStage> = []): StageRegistry {
  const registry = new StageRegistry(builtinStages);
  for (const s of extra) registry.register(s);
  return registry;
}
