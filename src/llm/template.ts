import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { PackagePaths } from '../core/paths.js';

/**
 * Prompt templates (`prompts/<name>.txt`). Syntax: `{{name}}` inserts a value verbatim; `{{#list}}…{{/list}}` repeats
 * its body for each item of `list` (items are objects of values). The file's final newline is not part of the
 * template (text files end with one; prompts such as PICa's end with `A:`).
 */
export function templatePath(paths: Pick<PackagePaths, 'prompts'>, name: string): string {
  if (isAbsolute(name) || name.endsWith('.txt')) return isAbsolute(name) ? name : join(paths.prompts, name);
  if (!/^[\w.-]+$/.test(name)) throw new Error(`bad template name "${name}"`);
  return join(paths.prompts, `${name}.txt`);
}

export function loadTemplate(paths: Pick<PackagePaths, 'prompts'>, name: string): string {
  const p = templatePath(paths, name);
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch (err) {
    throw new Error(`prompt template "${name}" not found at ${p} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

export type TemplateValue = string | number | Record<string, string | number>[];

const TOKEN = /\{\{#(\w+)\}\}([\s\S]*?)\{\{\/\1\}\}|\{\{(\w+)\}\}/g;
const VAR = /\{\{(\w+)\}\}/g;

function value(vars: Record<string, unknown>, name: string, where: string): string {
  const v = vars[name];
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`template ${where}: no value for {{${name}}}`);
  return String(v);
}

/** One pass over the template: inserted values are never scanned again, so a caption may contain `{{…}}`. */
export function renderTemplate(template: string, vars: Record<string, TemplateValue>): string {
  return template.replace(TOKEN, (_m, section: string | undefined, body: string | undefined, name: string | undefined) => {
    if (name !== undefined) return value(vars, name, 'top level');
    const items = vars[section!];
    if (!Array.isArray(items)) throw new Error(`template: {{#${section}}} needs a list`);
    return items.map((item, i) => body!.replace(VAR, (_v, n: string) => value(item, n, `${section}[${i}]`))).join('');
  });
}
