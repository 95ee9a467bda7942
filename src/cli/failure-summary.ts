import type { Sample } from '../core/artifacts.js';
import type { BatchSummary } from '../core/batch.js';

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The kind of a failure: its node, stage and message with what belongs to the one question (its id, its image id,
 * its image path) replaced by placeholders, so that questions failing for the same reason group together while model
 * names, commands, paths and numbers in the message stay as they are.
 */
export function failureKind(f: BatchSummary['failures'][number], sample: Sample | undefined): string {
  let msg = f.message.replace(/^question \S+: node "[^"]+" \([^)]+\): /, '').replace(/\s+/g, ' ').trim();
  const replace = (value: string, by: string) => {
    if (value) msg = msg.replace(new RegExp(`(?<![\\w.])${escapeRegExp(value)}(?![\\w])`, 'g'), by);
  };
  if (sample?.imagePath) replace(sample.imagePath, '<image file>');
  if (sample) {
    msg = msg.replace(new RegExp(`[^\\s(),]*${String(sample.imageId).padStart(12, '0')}[^\\s(),]*`, 'g'), '<image file>');
    replace(String(sample.imageId), '<image id>');
  }
  replace(f.questionId, '<question id>');
  // Content hashes (cache keys) differ per question and say nothing about the kind of failure.
  msg = msg.replace(/\b[0-9a-f]{12,64}\b…?/g, '<hash>');
  return `${f.node || '(runner)'}${f.stage ? ` (${f.stage})` : ''}: ${msg}`;
}

/** Failures grouped by kind, most frequent first: one line each with the count and a few question ids. */
export function summarizeFailures(failures: BatchSummary['failures'], samples: readonly Sample[], maxIds = 5): string[] {
  const byId = new Map(samples.map((s) => [s.questionId, s]));
  const groups = new Map<string, string[]>();
  for (const f of failures) {
    const kind = failureKind(f, byId.get(f.questionId));
    const ids = groups.get(kind);
    if (ids) ids.push(f.questionId);
    else groups.set(kind, [f.questionId]);
  }
  return [...groups.entries()]
    .sort((a, b) => b[1].length - a[1].length)
    .map(([kind, ids]) => {
      const shown = ids.slice(0, maxIds).join(', ');
      const more = ids.length > maxIds ? `, … ${ids.length - maxIds} more` : '';
      return `  failed ×${ids.length}: ${kind} (question${ids.length > 1 ? 's' : ''} ${shown}${more})`;
    });
}
