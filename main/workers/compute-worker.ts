/**
 * The compute worker: runs registered functions by name for ComputePool (main/core/compute) and keeps their
 * caches warm between calls. Speaks Electron's parentPort or Node's IPC; exits when the host disconnects.
 */
import { computeFunctions } from '../core/compute/functions';
import type { ComputeRequest, ComputeResponse } from '../core/compute/pool';

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (ev: { data: unknown }) => void): void;
}
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

function send(msg: ComputeResponse): void {
  if (parentPort) parentPort.postMessage(msg);
  else if (process.send && process.connected) process.send(msg);
}

function onMessage(raw: unknown): void {
  const msg = raw as ComputeRequest;
  void (async () => {
    const f = Object.prototype.hasOwnProperty.call(computeFunctions, msg.fn)
      ? computeFunctions[msg.fn]
      : undefined;
    if (!f) {
      send({ id: msg.id, ok: false, code: 'UNKNOWN_CHANNEL', message: `no compute function ${msg.fn}` });
      return;
    }
    try {
      const { data } = await f(msg.args);
      send({ id: msg.id, ok: true, data });
    } catch (err) {
      const e = err as Error & { code?: unknown };
      send({
        id: msg.id,
        ok: false,
        code: typeof e.code === 'string' ? e.code : 'INTERNAL',
        message: e.message ?? String(err),
      });
    }
  })();
}

if (parentPort) parentPort.on('message', (ev) => onMessage(ev.data));
else {
  process.on('message', onMessage);
  process.on('disconnect', () => process.exit(0));
}
