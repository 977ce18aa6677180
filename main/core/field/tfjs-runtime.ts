/**
 * Loads TensorFlow.js once per process: tfjs-node-gpu, then tfjs-node when present at run time (optional,
 * never dependencies), otherwise @tensorflow/tfjs with the WebAssembly backend.
 */
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type * as TfModule from '@tensorflow/tfjs';

export type Tf = typeof TfModule;

let loading: Promise<{ tf: Tf; provider: string }> | null = null;

function findWasmDir(): string {
  const req = createRequire(path.join(process.cwd(), 'index.js'));
  try {
    return path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep;
  } catch {
    return path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep;
  }
}

async function tryImport(name: string): Promise<unknown> {
  try {
    return (await import(/* @vite-ignore */ name)) as unknown;
  } catch {
    return null;
  }
}

export function loadTf(): Promise<{ tf: Tf; provider: string }> {
  loading ??= (async () => {
    for (const native of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      const mod = (await tryImport(native)) as Tf | null;
      if (mod && typeof mod.ready === 'function') {
        await mod.ready();
        return { tf: mod, provider: `${native} (${mod.getBackend()})` };
      }
    }
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(findWasmDir());
    const ok = await tf.setBackend('wasm');
    if (!ok) throw new Error('tfjs: the wasm backend failed to initialise');
    await tf.ready();
    return { tf, provider: 'tfjs-wasm' };
  })();
  return loading;
}
