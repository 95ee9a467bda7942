import type { AnyStage } from '../core/stage.js';
import { retrieveEntities } from './retrieve/entities.js';

/** Explicit-knowledge stages: entities of the knowledge base retrieved for image regions. */
export const knowledgeStages: readonly AnyStage[] = [retrieveEntities] as AnyStage[];
