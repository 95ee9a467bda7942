import type { AnyStage } from './stage.js';

/** Stages by id. Third parties add their own with `register`; a duplicate id is an error, never a silent override. */
export class StageRegistry {
  private readonly stages = new Map<string, AnyStage>();

  constructor(stages: Iterable<AnyStage> = []) {
    for (const s of stages) this.register(s);
  }

  register(stage: AnyStage): this {
    if (this.stages.has(stage.id)) throw new Error(`stage "${stage.id}" is already registered`);
    this.stages.set(stage.id, stage);
    return this;
  }

  get(id: string): AnyStage | undefined {
    return this.stages.get(id);
  }

  has(id: string): boolean {
    return this.stages.has(id);
  }

  list(): AnyStage[] {
    return [...this.stages.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}
