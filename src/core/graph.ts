import { ARTIFACT_KINDS, LIST_KINDS, type ArtifactKind } from './artifacts.js';
import { PipelineError } from './errors.js';
import type { PipelineSpec } from './pipeline-spec.js';
import type { StageRegistry } from './registry.js';
import type { AnyStage } from './stage.js';

/** The implicit source node every pipeline has. */
export const SAMPLE_NODE = 'sample';

export interface CompiledNode {
  name: string;
  stage: AnyStage;
  /** Params after zod validation (defaults filled). */
  params: unknown;
  /** Input name → producing node names (several = concatenated list artifacts). Unbound optional inputs are absent. */
  bindings: Record<string, string[]>;
  /** Distinct producing nodes this node waits for. */
  deps: string[];
  /** File that defined the node. */
  file: string;
}

export interface CompiledPipeline {
  name: string;
  file: string;
  description?: string;
  output: string;
  config: Record<string, unknown>;
  /** Nodes in a topological order. */
  nodes: CompiledNode[];
  spec: PipelineSpec;
}

/**
 * Compile a pipeline spec against a registry: every stage exists, params validate, every required input is bound to a
 * node producing the right artifact kind, no cycles, and every node contributes to the output. Errors name file, node, field.
 */
export function compilePipeline(spec: PipelineSpec, registry: StageRegistry): CompiledPipeline {
  const fileOf = (node: string) => spec.origin[node] ?? spec.file;
  if (spec.nodes[SAMPLE_NODE]) throw new PipelineError(`"${SAMPLE_NODE}" is reserved for the input question`, fileOf(SAMPLE_NODE), SAMPLE_NODE);

  const stages = new Map<string, AnyStage>();
  for (const [name, node] of Object.entries(spec.nodes)) {
    const stage = registry.get(node.use);
    if (!stage) {
      const known = registry.list().map((s) => s.id);
      const hint = known.filter((id) => id.split('.')[0] === node.use.split('.')[0]);
      throw new PipelineError(
        `unknown stage "${node.use}"${hint.length ? ` (did you mean ${hint.join(', ')}?)` : ''}`,
        fileOf(name), name, 'use');
    }
    stages.set(name, stage);
  }
  const kindOf = (node: string): ArtifactKind => (node === SAMPLE_NODE ? 'sample' : stages.get(node)!.output);

  const compiled = new Map<string, CompiledNode>();
  for (const [name, node] of Object.entries(spec.nodes)) {
    const stage = stages.get(name)!;
    const file = fileOf(name);
    const parsed = stage.params.safeParse(node.params ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new PipelineError(issue.message, file, name, ['params', ...issue.path.map(String)].join('.'));
    }
    for (const inputName of Object.keys(node.inputs ?? {})) {
      if (!(inputName in stage.inputs)) {
        throw new PipelineError(`stage ${stage.id} has no input "${inputName}" (inputs: ${Object.keys(stage.inputs).join(', ') || 'none'})`, file, name, `inputs.${inputName}`);
      }
    }
    const bindings: Record<string, string[]> = {};
    for (const [inputName, spec_] of Object.entries(stage.inputs)) {
      const field = `inputs.${inputName}`;
      const explicit = node.inputs?.[inputName];
      let sources: string[];
      if (explicit !== undefined) {
        sources = Array.isArray(explicit) ? explicit : [explicit];
        if (sources.length === 0 && !spec_.optional) {
          throw new PipelineError('an empty binding leaves the input unbound, and this input is not optional', file, name, field);
        }
        for (const src of sources) {
          if (src === name) throw new PipelineError('a node cannot take its own output as input', file, name, field);
          if (src !== SAMPLE_NODE && !stages.has(src)) throw new PipelineError(`no node named "${src}"`, file, name, field);
          const got = kindOf(src);
          if (got !== spec_.kind) throw new PipelineError(`expects ${spec_.kind} but node "${src}" produces ${got}`, file, name, field);
        }
        if (sources.length > 1 && !LIST_KINDS.has(spec_.kind)) {
          throw new PipelineError(`only list artifacts can join several nodes; ${spec_.kind} is not a list`, file, name, field);
        }
      } else {
        sources = defaultBinding(inputName, spec_.kind, name, stages);
        if (sources.length === 0 && !spec_.optional) {
          throw new PipelineError(`missing input: no node produces ${spec_.kind} (add a node or bind inputs.${inputName})`, file, name, field);
        }
        if (sources.length > 1) {
          throw new PipelineError(`ambiguous input: nodes ${sources.join(', ')} all produce ${spec_.kind}; bind one explicitly`, file, name, field);
        }
      }
      if (sources.length) bindings[inputName] = sources;
    }
    const deps = [...new Set(Object.values(bindings).flat())].filter((d) => d !== SAMPLE_NODE);
    compiled.set(name, { name, stage, params: parsed.data, bindings, deps, file });
  }

  if (!compiled.has(spec.output)) throw new PipelineError(`output node "${spec.output}" does not exist`, spec.file, undefined, 'output');
  const outNode = compiled.get(spec.output)!;
  if (outNode.stage.output !== 'answer') {
    throw new PipelineError(`output node must produce an answer, but ${outNode.stage.id} produces ${outNode.stage.output}`, outNode.file, spec.output, 'use');
  }

  const order = topoSort(compiled, spec);
  // Every node must contribute to the output.
  const needed = new Set<string>();
  const stack = [spec.output];
  while (stack.length) {
    const n = stack.pop()!;
    if (needed.has(n)) continue;
    needed.add(n);
    stack.push(...compiled.get(n)!.deps);
  }
  for (const n of compiled.keys()) {
    if (!needed.has(n)) throw new PipelineError(`unused node: nothing on the way to "${spec.output}" reads its output`, fileOf(n), n);
  }

  const out: CompiledPipeline = {
    name: spec.name,
    file: spec.file,
    output: spec.output,
    config: spec.config,
    nodes: order.map((n) => compiled.get(n)!),
    spec,
  };
  if (spec.description !== undefined) out.description = spec.description;
  return out;
}

function defaultBinding(inputName: string, kind: ArtifactKind, self: string, stages: Map<string, AnyStage>): string[] {
  if (kind === 'sample') return [SAMPLE_NODE];
  const same = stages.get(inputName);
  if (inputName !== self && same && same.output === kind) return [inputName];
  return [...stages.entries()].filter(([n, s]) => n !== self && s.output === kind).map(([n]) => n);
}

function topoSort(nodes: Map<string, CompiledNode>, spec: PipelineSpec): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string, path: string[]) => {
    const s = state.get(n);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(n)), n];
      throw new PipelineError(`cycle: ${cycle.join(' -> ')}`, spec.origin[n] ?? spec.file, n, 'inputs');
    }
    state.set(n, 'visiting');
    for (const d of nodes.get(n)!.deps) visit(d, [...path, n]);
    state.set(n, 'done');
    order.push(n);
  };
  for (const n of nodes.keys()) visit(n, []);
  return order;
}

/** Mermaid flowchart of a compiled pipeline. */
export function toMermaid(p: CompiledPipeline): string {
  const id = (n: string) => n.replace(/[^A-Za-z0-9_]/g, '_');
  const lines = ['flowchart LR', `  ${SAMPLE_NODE}(["${SAMPLE_NODE}"])`];
  for (const n of p.nodes) {
    const shape = n.name === p.output ? `[["${n.name}<br/>${n.stage.id}"]]` : `["${n.name}<br/>${n.stage.id}"]`;
    lines.push(`  ${id(n.name)}${shape}`);
  }
  for (const n of p.nodes) {
    for (const [input, srcs] of Object.entries(n.bindings)) {
      for (const src of srcs) lines.push(`  ${id(src)} -->|${input}| ${id(n.name)}`);
    }
  }
  return lines.join('\n');
}

/** JSON description of a compiled pipeline. */
export function toGraphJson(p: CompiledPipeline): unknown {
  return {
    name: p.name,
    file: p.file,
    description: p.description,
    output: p.output,
    nodes: p.nodes.map((n) => ({
      name: n.name,
      stage: n.stage.id,
      version: n.stage.version,
      output: n.stage.output,
      params: n.params,
      inputs: n.bindings,
    })),
    edges: p.nodes.flatMap((n) => Object.entries(n.bindings).flatMap(([input, srcs]) => srcs.map((from) => ({ from, to: n.name, input })))),
  };
}

export { ARTIFACT_KINDS };
