import type { Sample } from './artifacts.js';
import type { CompiledPipeline } from './graph.js';
import { hashValue } from './hash.js';

/** What `--resume` compares, stored in manifest.json so a refusal can say what differs. */
export interface RunIdentityParts {
  nodes: Record<string, string>;
  output: string;
  config: unknown;
  questions: { count: number; hash: string; first: string[] };
}

export function runIdentityParts(pipeline: CompiledPipeline, samples: readonly Sample[], config: unknown): RunIdentityParts {
  const nodes: Record<string, string> = {};
  for (const n of pipeline.nodes) nodes[n.name] = `${n.stage.id}@${n.stage.version} ${JSON.stringify({ params: n.params, inputs: n.bindings })}`;
  const ids = samples.map((s) => s.questionId);
  return { nodes, output: pipeline.output, config, questions: { count: ids.length, hash: hashValue(ids), first: ids.slice(0, 3) } };
}

function leaves(v: unknown, prefix: string, out: Map<string, string>): Map<string, string> {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) leaves(x, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(v));
  return out;
}

/** Human-readable differences between the run in a folder and the one asked for (empty when none is found). */
export function describeRunDifference(old: RunIdentityParts, now: RunIdentityParts): string[] {
  const out: string[] = [];
  for (const name of new Set([...Object.keys(old.nodes), ...Object.keys(now.nodes)])) {
    const a = old.nodes[name];
    const b = now.nodes[name];
    if (a === b) continue;
    if (a === undefined) out.push(`node "${name}" is new (${b!.split(' ')[0]})`);
    else if (b === undefined) out.push(`node "${name}" (${a.split(' ')[0]}) is gone`);
    else out.push(`node "${name}": was ${a}, now ${b}`);
  }
  if (old.output !== now.output) out.push(`output node: was "${old.output}", now "${now.output}"`);
  const ca = leaves(old.config, '', new Map());
  const cb = leaves(now.config, '', new Map());
  for (const k of new Set([...ca.keys(), ...cb.keys()])) {
    if (ca.get(k) !== cb.get(k)) out.push(`config ${k}: was ${ca.get(k) ?? '(unset)'}, now ${cb.get(k) ?? '(unset)'}`);
  }
  if (old.questions.hash !== now.questions.hash) {
    out.push(
      `questions: was ${old.questions.count} (${old.questions.first.join(', ')}…), now ${now.questions.count} (${now.questions.first.join(', ')}…)` +
        (old.questions.count !== now.questions.count ? ' (a different --limit?)' : ''),
    );
  }
  return out;
}
