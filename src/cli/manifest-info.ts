import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactConfig, type Config } from '../core/config.js';
import type { PackagePaths } from '../core/paths.js';

export function packageVersion(paths: PackagePaths): string {
  return (JSON.parse(readFileSync(join(paths.root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Commit of the okvqa checkout, when it is a git checkout (with a "+dirty" mark for local changes). */
export function gitCommit(paths: PackagePaths): string | undefined {
  try {
    const opts = { cwd: paths.root, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'], encoding: 'utf8' as const };
    const head = execFileSync('git', ['rev-parse', 'HEAD'], opts).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], opts).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return undefined;
  }
}

/** Facts recorded in manifest.json: never an API key. */
export function manifestInfo(config: Config, paths: PackagePaths, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    okvqa: { version: packageVersion(paths), commit: gitCommit(paths) ?? null },
    node: process.version,
    config: redactConfig(config),
    models: { profile: config.models.profile, ids: config.models.ids, llm: config.llm.model ?? null, llmBackend: config.llm.backend },
    ...extra,
  };
}
