/**
 * Model runtimes, loaded on first use so that importing the package (or `okvqa/eval`) loads none of them:
 * CommonJS packages through `require` (synchronous; the same instance a static import gets).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export type Usearch = typeof import('usearch').default;
export type Ort = typeof import('onnxruntime-node');
export type TfCore = typeof import('@tensorflow/tfjs-core');
export type Transformers = typeof import('@huggingface/transformers');

/** usearch (SIMD exact search, HNSW). */
export function usearch(): Usearch {
  const m = require('usearch') as Usearch & { default?: Usearch };
  return m.default ?? m;
}

/** ONNX Runtime for Node. */
export function ort(): Ort {
  return require('onnxruntime-node') as Ort;
}

/** TensorFlow.js core (its engine is process-wide: the same instance as any other import of it). */
export function tfCore(): TfCore {
  return require('@tensorflow/tfjs-core') as TfCore;
}

export function tfConverter(): typeof import('@tensorflow/tfjs-converter') {
  return require('@tensorflow/tfjs-converter') as typeof import('@tensorflow/tfjs-converter');
}

export function tfBackendWasm(): typeof import('@tensorflow/tfjs-backend-wasm') {
  return require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
}

/**
 * transformers.js, its CommonJS build through `require`: one instance for the whole package whichever way it is
 * reached (a dynamic `import()` can yield a second instance under test runners, with its own global `env`).
 */
export function transformers(): Promise<Transformers> {
  return Promise.resolve(require('@huggingface/transformers') as Transformers);
}

/** The OpenAI SDK (a large module tree, needed only when an LLM server is called). */
export function openaiSdk(): typeof import('openai') {
  return require('openai') as typeof import('openai');
}
