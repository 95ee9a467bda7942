import type { AnyStage } from '../core/stage.js';
import { implicitKatReleased } from './implicit/kat-released.js';
import { passagesKat } from './passages/kat.js';
import { questionKatReleased } from './question/kat-released.js';
import { retrieveEntities } from './retrieve/entities.js';
import { retrieveKatReleased } from './retrieve/kat-released.js';

/**
 * Knowledge stages: entities of the knowledge base retrieved for image regions; KAT's passage list; KAT's released
 * knowledge (pickles).
 */
export const knowledgeStages: readonly AnyStage[] = [retrieveEntities, passagesKat, retrieveKatReleased, implicitKatReleased, questionKatReleased] as AnyStage[];
