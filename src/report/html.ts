/** One self-contained HTML page: inline CSS and script, the data as one JSON blob, no network. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagePaths } from '../core/paths.js';

/**
 * JSON that is safe as the text of a `<script type="application/json">` element: no `<` (so no `</script>` or
 * `<!--`), `>` and `&` escaped too, and U+2028/U+2029 escaped (they end lines in older JS parsers).
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A file of the package's `web/` folder (page scripts and styles shipped with okvqa). */
export function webAsset(name: string, root = packagePaths().root): string {
  return readFileSync(join(root, 'web', name), 'utf8');
}

/** Guard against an asset that would end its own inline element early. */
function inlineSafe(code: string, tag: 'script' | 'style'): string {
  if (new RegExp(`</${tag}`, 'i').test(code)) throw new Error(`web asset contains </${tag}>: cannot be inlined`);
  return code;
}

export interface PageParts {
  title: string;
  data: unknown;
  /**
   * Extra JSON blobs by element id (`<script type="application/json" id=…>`), read by the page on demand. They come
   * after the page's script, so the page shows its first view while the browser is still reading them.
   */
  blobs?: Record<string, unknown>;
  css: string[];
  scripts: string[];
  /** Extra CSP directives, e.g. "connect-src 'self'" for a page that calls its server. */
  csp?: string[];
  /** Extra image sources besides data: URIs (e.g. "blob:" for previews of local files). */
  imgSrc?: string[];
}

/**
 * The page. Its Content-Security-Policy forbids every network fetch and every script but the page's own (allowed by its
 * sha256): a text that slipped through unescaped still could not run. Escaping is the first defence, this the second.
 */
export function renderPage(parts: PageParts): string {
  const css = parts.css.map((c) => inlineSafe(c, 'style')).join('\n');
  const js = '\n' + parts.scripts.map((s) => inlineSafe(s, 'script')).join('\n;\n') + '\n';
  const hash = createHash('sha256').update(js, 'utf8').digest('base64');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${['data:', ...(parts.imgSrc ?? [])].join(' ')}; style-src 'unsafe-inline'; script-src 'sha256-${hash}'${(parts.csp ?? []).map((d) => `; ${d}`).join('')}">
<title>${escapeHtml(parts.title)}</title>
<style>
${css}
</style>
</head>
<body>
<div id="app"><p class="loading">Loading…</p></div>
<script type="application/json" id="report-data">${jsonForScript(parts.data)}</script>
<script>${js}</script>
${Object.entries(parts.blobs ?? {}).map(([id, v]) => `<script type="application/json" id="${escapeHtml(id)}">${jsonForScript(v)}</script>\n`).join('')}
</body>
</html>
`;
}
