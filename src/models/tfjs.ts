/**
 * TensorFlow.js on its WebAssembly backend, loaded from the installed package's files (no network).
 * tfjs keeps its backend in a process-wide engine; `initTfjsWasm` selects the wasm backend once per run
 * (idempotent across runs) and is the only place this package touches that global.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { tfBackendWasm, tfCore, type TfCore } from '../runtime/lazy.js';
import type { RunContext } from '../core/context.js';

const require = createRequire(import.meta.url);

export function initTfjsWasm(ctx: Pick<RunContext, 'resources'>): Promise<TfCore> {
  return ctx.resources.get('tfjs:wasm', async () => {
    const tf = tfCore();
    const { setWasmPaths } = tfBackendWasm();
    if (tf.getBackend() !== 'wasm') {
      // the wasm binaries ship next to the package's main file; a plain directory path makes emscripten read them
      // with fs instead of fetching them
      setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/');
      const ok = await tf.setBackend('wasm');
      if (!ok) throw new Error('tfjs: the wasm backend failed to initialise');
      await tf.ready();
    }
    return tf;
  });
}
