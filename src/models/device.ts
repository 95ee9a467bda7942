/**
 * Where models run: `models.device` (config, `--device`) is `cpu` (the default), `cuda` (onnxruntime-node's CUDA
 * execution provider: the reader, CLIP, the detectors, every model loaded through transformers.js or opened here), or
 * `auto` (CUDA when it works here, else the CPU with a warning).
 *
 * Whether CUDA works is decided by trying it: onnxruntime-node's CUDA provider library must be installed (the npm
 * package downloads it at install time unless told to skip, which this project's .npmrc does), and a one-node session
 * must open on the `cuda` provider (which needs the NVIDIA driver, CUDA 12 and cuDNN 9 libraries on the library path).
 * The answer is remembered for the process. `device: cuda` where it fails is a pre-flight error, before any question
 * runs, naming what is missing and how to install it; `device: auto` falls back to the CPU with a warning.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ort } from '../runtime/lazy.js';

export const DEVICES = ['cpu', 'cuda', 'auto'] as const;
export type DeviceSetting = (typeof DEVICES)[number];

/** A one-node ONNX graph (Identity on float[1], opset 13), to open a session on a provider. */
const PROBE_MODEL = 'CAc6OwoQCgF4EgF5IghJZGVudGl0eRIFcHJvYmVaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAN';

export const CUDA_INSTALL_HINT =
  'install onnxruntime-node with its CUDA 12 files: `npm install onnxruntime-node --onnxruntime-node-install=cuda12` ' +
  '(or ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node; remove `onnxruntime-node-install*=skip` from .npmrc), ' +
  'with the NVIDIA driver, CUDA 12 and cuDNN 9 libraries on LD_LIBRARY_PATH; see docs/speed.md';

/** Folder of onnxruntime-node's native binding for this platform (where its CUDA provider library goes). */
export function ortBinaryDir(): string | undefined {
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-node');
    const dir = join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

export type CudaProbe = { ok: true } | { ok: false; why: string };

let probe: Promise<CudaProbe> | undefined;

/** Does onnxruntime's CUDA provider work in this process? (tried once, remembered) */
export function cudaAvailable(): Promise<CudaProbe> {
  probe ??= (async (): Promise<CudaProbe> => {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      return { ok: false, why: `onnxruntime-node has CUDA builds for Linux x64 only (this is ${process.platform} ${process.arch})` };
    }
    const dir = ortBinaryDir();
    const lib = dir && join(dir, 'libonnxruntime_providers_cuda.so');
    if (!lib || !existsSync(lib)) {
      return { ok: false, why: `onnxruntime-node was installed without its CUDA files (${lib ?? 'its binary folder'} is missing)` };
    }
    try {
      const s = await ort().InferenceSession.create(Buffer.from(PROBE_MODEL, 'base64'), { executionProviders: ['cuda'] });
      await s.release();
      return { ok: true };
    } catch (err) {
      return { ok: false, why: `onnxruntime's CUDA provider does not start here: ${(err as Error).message.split('\n')[0]}` };
    }
  })();
  return probe;
}

/** The device models run on for a setting: `cuda` and `cpu` as given, `auto` resolved by the probe. */
export async function resolveDevice(setting: string): Promise<{ device: 'cpu' | 'cuda'; warning?: string }> {
  if (setting === 'cpu') return { device: 'cpu' };
  if (setting !== 'cuda' && setting !== 'auto') throw new Error(`models.device must be one of ${DEVICES.join(', ')}, got "${setting}"`);
  const p = await cudaAvailable();
  if (p.ok) return { device: 'cuda' };
  if (setting === 'cuda') throw new Error(`models.device is cuda, but ${p.why}; ${CUDA_INSTALL_HINT}`);
  return { device: 'cpu', warning: `models.device is auto and ${p.why}: models run on the CPU` };
}

/** Session options for an ONNX file opened directly (not through transformers.js) for a model source's device. */
export function sessionOptions(device: string): { executionProviders: string[] } {
  return { executionProviders: device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'] };
}

/** For tests: forget the remembered probe. */
export function resetCudaProbe(): void {
  probe = undefined;
}
