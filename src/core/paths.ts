import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folders of the installed package: prompt templates, knowledge recipes, pipelines, generated test models. */
export interface PackagePaths {
  root: string;
  prompts: string;
  knowledge: string;
  pipelines: string;
  /** Generated tiny models in hub layout (profile `tiny`). */
  tinyModels: string;
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
    tinyModels: join(root, 'test', 'fixtures', 'models'),
  };
}
