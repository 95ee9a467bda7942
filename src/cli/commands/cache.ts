import type { Command } from 'commander';

/** Registers `okvqa cache export|import`: replay bundles. */
export function register(program: Command): void {
  const cache = program.command('cache').description('replay bundles: export the cache entries a run used; import them elsewhere');
  cache
    .command('export <run>')
    .description('write every cache entry and LLM call a run used, with its manifest and predictions, to a .tgz or .tar.zst')
    .requiredOption('--out <bundle>', 'bundle file (.tgz, .tar.gz or .tar.zst)')
    .option('--cache-path <file>', 'cache to read (default: the one named in the run\'s manifest.json)')
    .option('--cache-url <url>', 'shared PostgreSQL cache to read (postgres://…; default: cache.url / OKVQA_CACHE_URL when the run used one)')
    .action(async (run: string, opts: { out: string; cachePath?: string; cacheUrl?: string }) => {
      const { exportBundle } = await import('../../bundle/bundle.js');
      const { resolveConfig } = await import('../../core/config.js');
      const cacheUrl = opts.cacheUrl ?? resolveConfig({ env: process.env }).cache.url;
      const r = await exportBundle(run, { out: opts.out, ...(opts.cachePath ? { cachePath: opts.cachePath } : {}), ...(opts.cacheUrl ? { cachePath: opts.cacheUrl } : {}), ...(cacheUrl ? { cacheUrl } : {}) });
      process.stderr.write(`wrote ${r.out}: ${r.entries} cache entries for ${r.questions} questions (${(r.bytes / 1e6).toFixed(2)} MB) from ${r.cachePath}\n`);
      if (r.missing) process.stderr.write(`warning: ${r.missing} entries the trace names are not in the cache (failed work, or cache off): a replay will miss them\n`);
    });
  cache
    .command('import <bundle>')
    .description('write a replay bundle\'s entries into the cache (then `okvqa run … --cache replay` needs no API key or models)')
    .option('--cache-path <file>', 'cache to write (default: the configured cache, OKVQA_CACHE_PATH or ~/.cache/okvqa/cache.sqlite)')
    .option('--cache-url <url>', 'shared PostgreSQL cache to write (postgres://…; default: cache.url / OKVQA_CACHE_URL)')
    .action(async (bundle: string, opts: { cachePath?: string; cacheUrl?: string }) => {
      const { importBundle } = await import('../../bundle/bundle.js');
      const { cacheLocation, resolveConfig } = await import('../../core/config.js');
      const target = opts.cacheUrl ?? opts.cachePath ?? cacheLocation(resolveConfig({ env: process.env }));
      const r = await importBundle(bundle, target);
      const m = r.manifest as { pipeline?: { name?: string; file?: string }; argv?: string[] };
      process.stderr.write(`imported ${r.imported} cache entries (${r.info.questions} questions of ${r.info.pipeline ?? 'a run'}) into ${r.cachePath}\n`);
      const sets = r.info.replaySets.map((s) => ` --set ${s}`).join('');
      process.stderr.write(`replay: okvqa run ${m.pipeline?.name ?? '<pipeline>'} --data <data.json> --out <dir> --cache replay${sets}\n`);
    });
}
