import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compilePipeline } from '../../src/core/graph.js';
import { loadPipelineSpec } from '../../src/core/pipeline-spec.js';
import { StageRegistry } from '../../src/core/registry.js';
import { defineStage } from '../../src/core/stage.js';
import { toyStages } from '../helpers/toy-stages.js';

const withOptional = defineStage({
  id: 'candidates.opt',
  version: '1',
  description: 'test: optional tags input',
  inputs: { captions: { kind: 'captions' }, tags: { kind: 'tags', optional: true } },
  output: 'candidates',
  params: z.strictObject({}),
  async run() {
    return [];
  },
});

const dir = mkdtempSync(join(tmpdir(), 'okvqa-unbind-'));
const registry = new StageRegistry([...toyStages, withOptional]);
const write = (name: string, yaml: string) => writeFileSync(join(dir, `${name}.yaml`), yaml);
const compile = (name: string) => compilePipeline(loadPipelineSpec(name, [dir]), registry);

describe('inputs: { name: [] } unbinds an optional input in a pipeline that extends another (ablations)', () => {
  write('base', `nodes:\n  captions: { use: caption.toy }\n  tags: { use: tags.toy }\n  candidates: { use: candidates.opt, inputs: { tags: tags } }\n  answer: { use: answer.toy }\n`);

  it('an extending pipeline drops the binding and the producer', () => {
    expect(compile('base').nodes.find((n) => n.name === 'candidates')!.bindings).toEqual({ captions: ['captions'], tags: ['tags'] });
    write('ablate', `extends: base\nnodes:\n  tags: null\n  candidates: { use: candidates.opt, inputs: { tags: [] } }\n`);
    expect(compile('ablate').nodes.find((n) => n.name === 'candidates')!.bindings).toEqual({ captions: ['captions'] });
  });

  it('[] also stops the default binding by kind, and is refused for a required input', () => {
    write('keep', `extends: base\nnodes:\n  tags: null\n  candidates: { use: candidates.opt, inputs: { tags: [] } }\n  other: { use: tags.toy }\n  answer: { use: answer.toy, inputs: { candidates: candidates } }\n`);
    // `other` produces tags but nothing reads them: with the binding removed it is an unused node
    expect(() => compile('keep')).toThrow(/node "other": unused node/);
    write('required', `extends: base\nnodes:\n  candidates: { use: candidates.opt, inputs: { captions: [] } }\n`);
    expect(() => compile('required')).toThrow(/node "candidates" field "inputs.captions": an empty binding leaves the input unbound/);
  });
});
