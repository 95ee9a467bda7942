// Prints (as JSON on stdout) every file a dynamic import of argv[2] loaded: ES modules through a resolve hook,
// CommonJS ones from the require cache. Used by test/core/lazy-imports.test.ts; run as `node loaded-modules.mjs <spec>`.
import { createRequire, register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
const esm = new Set();
port1.on('message', (url) => esm.add(url));
port1.unref();
const hooks = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  port.postMessage(r.url);
  return r;
}`;
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
const t0 = performance.now();
await import(process.argv[2]);
const ms = performance.now() - t0;
await new Promise((r) => setTimeout(r, 50));
const cjs = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(JSON.stringify({ ms, files: [...esm, ...cjs] }) + '\n');
