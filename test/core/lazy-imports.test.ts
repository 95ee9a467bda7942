// Importing the library loads only what it uses: no model runtime at import time (they load when a model is used).
// Runs node in a child process (needs dist/: `npm run build`, as `npm test` does) and lists the files each import loaded.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const helper = join(root, 'test', 'helpers', 'loaded-modules.mjs');

function loaded(spec: string): string[] {
  const out = execFileSync(process.execPath, [helper, spec], { cwd: root, encoding: 'utf8' });
  return (JSON.parse(out) as { files: string[] }).files;
}

const packages = (files: string[]) =>
  new Set(files.map((f) => /node_modules\/(@[^/]+\/[^/]+|[^/]+)\//.exec(f)?.[1]).filter((p): p is string => !!p));

const MODEL_RUNTIMES = ['onnxruntime-node', 'onnxruntime-common', '@huggingface/transformers', '@tensorflow/tfjs-core', '@tensorflow/tfjs-converter', '@tensorflow/tfjs-backend-wasm', '@vladmandic/human', 'usearch'];

describe('library imports load only what they use', () => {
  it('the detector sees a model runtime when one is imported (control)', () => {
    expect([...packages(loaded('onnxruntime-node'))]).toContain('onnxruntime-node');
    expect([...packages(loaded('usearch'))]).toContain('usearch');
  });

  it("import { evaluateVqa } from 'okvqa' loads no model runtime and no OpenAI SDK", () => {
    const pkgs = packages(loaded('okvqa'));
    for (const p of [...MODEL_RUNTIMES, 'openai']) expect(pkgs.has(p), p).toBe(false);
  });

  it("'okvqa/eval' loads the metrics and nothing else from node_modules", () => {
    const files = loaded('okvqa/eval');
    expect([...packages(files)]).toEqual([]);
    expect(files.some((f) => f.endsWith('/dist/eval/vqa-accuracy.js'))).toBe(true);
  });
});
