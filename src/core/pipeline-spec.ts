import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { applySets, deepMerge } from './config.js';
import { PipelineError } from './errors.js';

/** A producing node, several (list artifacts, concatenated), or `[]`: leave an optional input unbound. */
const bindingSchema = z.union([z.string(), z.array(z.string())]);
export const nodeSpecSchema = z.strictObject({
  use: z.string(),
  params: z.record(z.string(), z.unknown()).optional(),
  inputs: z.record(z.string(), bindingSchema).optional(),
  description: z.string().optional(),
});
export type NodeSpec = z.infer<typeof nodeSpecSchema>;

const fileSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  extends: z.string().optional(),
  output: z.string().optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  nodes: z.record(z.string(), z.union([nodeSpecSchema, z.null()])).optional(),
});

/** A pipeline definition after `extends` is resolved. `origin` says which file defined each node (for error messages). */
export interface PipelineSpec {
  name: string;
  file: string;
  description?: string;
  output: string;
  config: Record<string, unknown>;
  nodes: Record<string, NodeSpec>;
  origin: Record<string, string>;
  /** Files read, base first. */
  files: string[];
}

/** Resolve a pipeline reference: a path to a YAML file, or a name looked up in the given folders (`<dir>/<name>.yaml`). */
export function resolvePipelinePath(ref: string, searchDirs: readonly string[]): string {
  const looksLikePath = ref.includes('/') || ref.includes('\\') || /\.ya?ml$/i.test(ref);
  if (looksLikePath) {
    const p = resolve(ref);
    if (!existsSync(p)) throw new PipelineError('pipeline file not found', p);
    return p;
  }
  for (const dir of searchDirs) {
    for (const ext of ['.yaml', '.yml']) {
      const p = join(dir, ref + ext);
      if (existsSync(p)) return p;
    }
  }
  throw new PipelineError(`no pipeline named "${ref}" in ${searchDirs.join(', ')}`, ref);
}

function readSpecFile(file: string): z.infer<typeof fileSchema> {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new PipelineError(`not valid YAML: ${(err as Error).message}`, file);
  }
  const r = fileSchema.safeParse(raw ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const [first, second, ...rest] = issue.path.map(String);
    if (first === 'nodes' && second) throw new PipelineError(issue.message, file, second, rest.join('.') || undefined);
    throw new PipelineError(issue.message, file, undefined, issue.path.join('.') || undefined);
  }
  return r.data;
}

/**
 * Load a pipeline YAML file, following `extends` (a name or a path relative to the file). A child node with the same
 * stage deep-merges its params over the base node; a different `use` replaces the node; `null` removes it.
 */
export function loadPipelineSpec(ref: string, searchDirs: readonly string[], seen: string[] = []): PipelineSpec {
  const file = resolvePipelinePath(ref, seen.length ? searchDirs : searchDirs);
  if (seen.includes(file)) throw new PipelineError(`"extends" cycle: ${[...seen, file].map((f) => basename(f)).join(' -> ')}`, file, undefined, 'extends');
  const own = readSpecFile(file);
  const name = own.name ?? basename(file, extname(file));
  let base: PipelineSpec | undefined;
  if (own.extends) {
    const parentRef = own.extends;
    const dirs = [dirname(file), ...searchDirs];
    const looksLikePath = parentRef.includes('/') || /\.ya?ml$/i.test(parentRef);
    base = loadPipelineSpec(looksLikePath && !isAbsolute(parentRef) ? resolve(dirname(file), parentRef) : parentRef, dirs, [...seen, file]);
  }
  const nodes: Record<string, NodeSpec> = { ...(base?.nodes ?? {}) };
  const origin: Record<string, string> = { ...(base?.origin ?? {}) };
  for (const [n, spec] of Object.entries(own.nodes ?? {})) {
    if (spec === null) {
      delete nodes[n];
      delete origin[n];
      continue;
    }
    const prev = nodes[n];
    nodes[n] = prev && prev.use === spec.use ? deepMerge(prev, spec) : spec;
    origin[n] = file;
  }
  const out: PipelineSpec = {
    name,
    file,
    output: own.output ?? base?.output ?? 'answer',
    config: deepMerge(base?.config ?? {}, own.config ?? {}),
    nodes,
    origin,
    files: [...(base?.files ?? []), file],
  };
  const description = own.description ?? base?.description;
  if (description !== undefined) out.description = description;
  return out;
}

/** Apply `nodes.<node>.params.<key>=value` (and `output=`) overrides from the command line to a spec. */
export function applyNodeSets(spec: PipelineSpec, sets: readonly string[]): PipelineSpec {
  const nodeSets = sets.filter((s) => s.startsWith('nodes.'));
  if (!nodeSets.length) return spec;
  for (const s of nodeSets) {
    const node = s.slice('nodes.'.length).split('.')[0] ?? '';
    if (!spec.nodes[node]) throw new PipelineError(`--set ${s.split('=')[0]}: no node named "${node}"`, spec.file, node);
  }
  const nodes = applySets({ nodes: spec.nodes }, nodeSets).nodes as Record<string, NodeSpec>;
  const origin = { ...spec.origin };
  for (const s of nodeSets) origin[s.slice('nodes.'.length).split('.')[0]!] = '--set';
  return { ...spec, nodes, origin };
}
