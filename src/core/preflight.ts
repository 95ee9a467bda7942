/**
 * Pre-flight: run every node's `check` (see `Stage.check`) for a compiled pipeline before any question runs, so a run
 * that cannot succeed is refused at once with one message per problem, instead of failing each question overnight.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CompiledPipeline } from './graph.js';
import { errorMessage } from './errors.js';
import { loadPipelineSpec } from './pipeline-spec.js';
import type { CheckContext, CheckFinding } from './stage.js';

/** A finding with the nodes (and their stages) it concerns. Identical findings of several nodes are merged. */
export interface PreflightProblem extends CheckFinding {
  nodes: { node: string; stage: string }[];
}

export interface PreflightReport {
  errors: PreflightProblem[];
  warnings: PreflightProblem[];
  /** Nodes whose stage has a check, and those without one (their inputs are not checked before the run). */
  checked: string[];
  unchecked: string[];
}

/** Run the checks of every node of `pipeline`. A check that throws is reported as an error of its node. */
export async function preflight(pipeline: CompiledPipeline, ctx: Omit<CheckContext, 'node'>): Promise<PreflightReport> {
  const merged = new Map<string, PreflightProblem>();
  const checked: string[] = [];
  const unchecked: string[] = [];
  for (const n of pipeline.nodes) {
    if (!n.stage.check) {
      unchecked.push(n.name);
      continue;
    }
    checked.push(n.name);
    let findings: CheckFinding[];
    try {
      findings = await n.stage.check(n.params, { ...ctx, node: n.name });
    } catch (err) {
      findings = [{ severity: 'error', key: '(check)', message: `the check itself failed: ${errorMessage(err)}` }];
    }
    for (const f of findings) {
      // Node-specific keys (params.*) never merge across nodes; data.json and config keys do.
      const id = JSON.stringify([f.severity, f.key.startsWith('params.') ? `${n.name}:${f.key}` : f.key, f.message]);
      const at = { node: n.name, stage: n.stage.id };
      const prev = merged.get(id);
      if (prev) prev.nodes.push(at);
      else merged.set(id, { ...f, nodes: [at] });
    }
  }
  const all = [...merged.values()];
  for (const p of all) {
    if (p.severity !== 'error') continue;
    const alt = alternativesWithout(pipeline, p.nodes.map((x) => x.node), ctx.paths.pipelines);
    if (alt.length) p.fix = `${p.fix ? `${p.fix}, or ` : ''}use ${alt.join(' or ')} (without node ${p.nodes.map((x) => `"${x.node}"`).join(', ')})`;
  }
  return { errors: all.filter((p) => p.severity === 'error'), warnings: all.filter((p) => p.severity === 'warning'), checked, unchecked };
}

/** Pipelines in `dir` that extend `pipeline` and drop every one of `nodes` (e.g. pica-base-caption for pica-base's tags). */
export function alternativesWithout(pipeline: CompiledPipeline, nodes: readonly string[], dir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const f of files) {
    try {
      const spec = loadPipelineSpec(join(dir, f), [dir]);
      if (spec.file === pipeline.file || !spec.files.includes(pipeline.file)) continue;
      if (nodes.every((n) => !(n in spec.nodes))) out.push(spec.name);
    } catch {
      /* a broken sibling pipeline is not this run's problem */
    }
  }
  return out.sort();
}

/** One line per problem: severity, node and stage, key, message, fix. */
export function formatProblem(p: PreflightProblem): string {
  const where = p.nodes.map((n) => `node "${n.node}" (${n.stage})`).join(', ');
  return `${p.severity}: ${where}: ${p.key}: ${p.message}${p.fix ? `. Fix: ${p.fix}` : ''}`;
}

export function formatReport(r: PreflightReport): string {
  const lines = [...r.errors.map(formatProblem), ...r.warnings.map(formatProblem)];
  return lines.join('\n');
}
