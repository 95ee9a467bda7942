/** What the vision-language stages share: the image of a question, the template fingerprint, the caption section. */
import type { Caption, Sample } from '../core/artifacts.js';
import type { RunContext } from '../core/context.js';
import { sha256 } from '../core/hash.js';
import { sampleImagePath } from '../image/load.js';
import { loadTemplate } from '../llm/template.js';
import { vlmFingerprint } from '../llm/vlm.js';

/** Fingerprint of a VLM node: its template's text and the VLM's identity and image settings. */
export function vlmStageFingerprint(template: string, ctx: Pick<RunContext, 'config' | 'paths'>): string {
  return `template=${sha256(loadTemplate(ctx.paths, template))};${vlmFingerprint(ctx)}`;
}

/** The image file (or held bytes) of a question; an error naming the question when it has none. */
export function questionImage(sample: Sample, ctx: Pick<RunContext, 'data'>): string {
  return sampleImagePath(sample, ctx.data.images);
}

/** The `{{#caption}}` section: the first caption, or nothing. */
export function captionSection(captions: readonly Caption[] | undefined): { text: string }[] {
  const c = captions?.find((x) => x.text.trim());
  return c ? [{ text: c.text.trim() }] : [];
}

/** A section shown once when `on` (`{{#name}}…{{/name}}` with one empty item), else not at all. */
export const when = (on: boolean): Record<string, string>[] => (on ? [{}] : []);

/** The first line of a completion, trimmed (chat models sometimes add a second line despite the instruction). */
export function firstLine(text: string): string {
  return (text.trim().split('\n')[0] ?? '').trim();
}
