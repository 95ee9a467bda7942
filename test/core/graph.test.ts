import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePipeline, toMermaid } from '../../src/core/graph.js';
import { loadPipelineSpec } from '../../src/core/pipeline-spec.js';
import { StageRegistry } from '../../src/core/registry.js';
import { toyStages, toyAnswer } from '../helpers/toy-stages.js';

const dir = mkdtempSync(join(tmpdir(), 'okvqa-graph-'));
const registry = new StageRegistry(toyStages);
function compile(name: string, yaml: string) {
  writeFileSync(join(dir, `${name}.yaml`), yaml);
  return compilePipeline(loadPipelineSpec(name, [dir]), registry);
}
const fileOf = (name: string) => join(dir, `${name}.yaml`);

describe('pipeline compile and validate', () => {
  it('compiles a valid pipeline in topological order with default bindings', () => {
    const p = compile('ok', `nodes:\n  answer: { use: answer.toy }\n  candidates: { use: candidates.toy, params: { n: 3 } }\n  captions: { use: caption.toy }\n`);
    expect(p.nodes.map((n) => n.name)).toEqual(['captions', 'candidates', 'answer']);
    expect(p.nodes[1]!.bindings).toEqual({ sample: ['sample'], captions: ['captions'] });
    expect(p.nodes[1]!.params).toEqual({ n: 3 });
    expect(toMermaid(p)).toContain('captions -->|captions| candidates');
  });

  it('rejects an unknown stage, naming file, node and field', () => {
    expect(() => compile('unknown', `nodes:\n  answer: { use: answer.nope }\n`)).toThrow(`${fileOf('unknown')} node "answer" field "use": unknown stage "answer.nope" (did you mean answer.toy?)`);
  });

  it('rejects bad params with the param path', () => {
    expect(() => compile('badparams', `nodes:\n  captions: { use: caption.toy }\n  candidates: { use: candidates.toy, params: { n: -1 } }\n  answer: { use: answer.toy }\n`)).toThrow(/badparams.yaml node "candidates" field "params.n": /);
    expect(() => compile('extraparam', `nodes:\n  captions: { use: caption.toy }\n  candidates: { use: candidates.toy, params: { m: 1 } }\n  answer: { use: answer.toy }\n`)).toThrow(/node "candidates" field "params": .*m/);
  });

  it('rejects a missing input', () => {
    expect(() => compile('missing', `nodes:\n  candidates: { use: candidates.toy }\n  answer: { use: answer.toy }\n`)).toThrow(/node "candidates" field "inputs.captions": missing input: no node produces captions/);
  });

  it('rejects a binding to a node of the wrong kind or an unknown node', () => {
    expect(() => compile('kind', `nodes:\n  captions: { use: caption.toy }\n  tags: { use: tags.toy }\n  candidates: { use: candidates.toy, inputs: { captions: tags } }\n  answer: { use: answer.toy }\n`)).toThrow(/field "inputs.captions": expects captions but node "tags" produces tags/);
    expect(() => compile('nonode', `nodes:\n  captions: { use: caption.toy }\n  candidates: { use: candidates.toy, inputs: { captions: capz } }\n  answer: { use: answer.toy }\n`)).toThrow(/field "inputs.captions": no node named "capz"/);
  });

  it('an empty binding ([]) may only leave an optional input unbound', () => {
    expect(() => compile('emptybind', `nodes:\n  captions: { use: caption.toy }\n  candidates: { use: candidates.toy, inputs: { captions: [] } }\n  answer: { use: answer.toy }\n`)).toThrow(/field "inputs.captions": an empty binding leaves the input unbound, and this input is not optional/);
  });

  it('rejects a cycle', () => {
    const cyc = new StageRegistry([...toyStages.filter((s) => s.id !== 'caption.toy')]);
    // a captions stage that reads candidates closes a loop candidates -> captions -> candidates
    cyc.register({ ...toyAnswer, id: 'caption.loop', output: 'captions', inputs: { candidates: { kind: 'candidates' } }, run: async () => [] } as never);
    writeFileSync(join(dir, 'cycle.yaml'), `nodes:\n  captions: { use: caption.loop }\n  candidates: { use: candidates.toy }\n  answer: { use: answer.toy }\n`);
    expect(() => compilePipeline(loadPipelineSpec('cycle', [dir]), cyc)).toThrow(/cycle: (captions -> candidates -> captions|candidates -> captions -> candidates)/);
  });

  it('rejects an unused node', () => {
    expect(() => compile('unused', `nodes:\n  captions: { use: caption.toy }\n  tags: { use: tags.toy }\n  candidates: { use: candidates.toy }\n  answer: { use: answer.toy }\n`)).toThrow(/unused.yaml node "tags": unused node/);
  });

  it('extends: child params merge over the base, errors name the file that defined the node', () => {
    compile('base', `description: base\nnodes:\n  captions: { use: caption.toy, params: { suffix: x } }\n  candidates: { use: candidates.toy, params: { n: 2 } }\n  answer: { use: answer.toy }\n`);
    const child = compile('child', `extends: base\nnodes:\n  candidates: { params: { n: 5 }, use: candidates.toy }\n`);
    expect(child.description).toBe('base');
    expect(child.nodes.find((n) => n.name === 'candidates')!.params).toEqual({ n: 5 });
    expect(child.nodes.find((n) => n.name === 'captions')!.params).toEqual({ suffix: 'x' });
    expect(() => compile('child2', `extends: base\nnodes:\n  candidates: { use: candidates.toy, params: { n: 0 } }\n`)).toThrow(/child2.yaml node "candidates" field "params.n"/);
    writeFileSync(join(dir, 'loop1.yaml'), 'extends: loop2\n');
    writeFileSync(join(dir, 'loop2.yaml'), 'extends: loop1\n');
    expect(() => loadPipelineSpec('loop1', [dir])).toThrow(/"extends" cycle: loop1.yaml -> loop2.yaml -> loop1.yaml/);
  });

  it('rejects a YAML node with unknown keys and an output that is not an answer', () => {
    expect(() => compile('keys', `nodes:\n  answer: { use: answer.toy, parms: {} }\n`)).toThrow(/keys.yaml node "answer"/);
    expect(() => compile('out', `output: captions\nnodes:\n  captions: { use: caption.toy }\n`)).toThrow(/out.yaml node "captions" field "use": output node must produce an answer/);
    expect(() => compile("noout", `output: final\nnodes:\n  captions: { use: caption.toy }\n`)).toThrow(/noout.yaml field "output": output node "final" does not exist/);
  });

  it('a registry refuses duplicate ids', () => {
    expect(() => new StageRegistry([toyAnswer, toyAnswer])).toThrow('stage "answer.toy" is already registered');
  });
});
