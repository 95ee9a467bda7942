import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Folders of the installed package: prompt templates, knowledge recipes, pipelines, and `assets/` — what the runtime
 * needs beyond code, shipped with the package: the generated tiny models (`assets/models`, profile `tiny`) and the demo
 * data (`assets/demo`: a knowledge base, an example pool, two photos) that `ask`/`serve`/the library use with
 * `--profile tiny` and no data.
 */
export interface PackagePaths {
  root: string;
  prompts: string;
  knowledge: string;
  pipelines: string;
  /** Generated tiny models in hub layout (profile `tiny`). */
  tinyModels: string;
  /** The demo data: `data.json` with a knowledge base, an example pool and their photos. */
  demo: string;
}

function findRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'pipelines'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`okvqa: cannot find the package root above ${start}`);
    dir = up;
  }
}

export function packagePaths(root = findRoot(dirname(fileURLToPath(import.meta.url)))): PackagePaths {
  return {
    root,
    prompts: join(root, 'prompts'),
    knowledge: join(root, 'knowledge'),
    pipelines: join(root, 'pipelines'),
    tinyModels: join(root, 'assets', 'models'),
    demo: join(root, 'assets', 'demo'),
  };
}
