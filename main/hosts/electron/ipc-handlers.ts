/**
 * The ipcMain handlers of the Electron host, written against a minimal event shape so they are
 * unit-tested without Electron. Each checks the sender first and never throws: every failure is
 * an `{ ok: false }` Result.
 */
import { errorResult, type Result } from '../../../preload/contract';
import type { StudioApi } from '../../core/studio-types';
import { APP_ORIGIN, isTrustedSender } from '../security/navigation';
import { isPickKind, type PickKind, type PickResult } from './ipc-channels';

/** The parts of Electron's IpcMainInvokeEvent we look at. */
export interface IpcEventLike {
  readonly senderFrame: { readonly url: string } | null;
  readonly sender: { readonly mainFrame: unknown };
}

/** Our own top-level frame at app://studio; false for sub-frames, other origins, destroyed frames. */
export function isTrustedIpcEvent(event: IpcEventLike, appOrigin: string = APP_ORIGIN): boolean {
  try {
    const frame = event.senderFrame;
    if (frame === null || frame === undefined) return false;
    return isTrustedSender(frame.url, frame === event.sender.mainFrame, appOrigin);
  } catch {
    // Reading a disposed frame's url throws.
    return false;
  }
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createInvokeHandler(
  studio: Pick<StudioApi, 'invoke'>,
  appOrigin: string = APP_ORIGIN,
): (event: IpcEventLike, channel: unknown, args: unknown) => Promise<Result<unknown>> {
  return async (event, channel, args) => {
    try {
      if (!isTrustedIpcEvent(event, appOrigin))
        return errorResult('FORBIDDEN', 'request from an untrusted frame');
      if (typeof channel !== 'string' || channel.length === 0 || channel.length > 200) {
        return errorResult('BAD_ARGS', 'channel must be a non-empty string of at most 200 characters');
      }
      return await studio.invoke(channel, args === undefined ? {} : args);
    } catch (err) {
      return errorResult('INTERNAL', describeError(err));
    }
  };
}

/** Shows the native dialog for `kind` and returns the chosen path, or null when cancelled. */
export type PickDialog<E extends IpcEventLike = IpcEventLike> = (
  event: E,
  kind: PickKind,
) => Promise<string | null>;

export function createPickHandler<E extends IpcEventLike = IpcEventLike>(
  dialog: PickDialog<E>,
  appOrigin: string = APP_ORIGIN,
): (event: E, kind: unknown) => Promise<PickResult> {
  return async (event, kind) => {
    try {
      if (!isTrustedIpcEvent(event, appOrigin))
        return errorResult('FORBIDDEN', 'request from an untrusted frame');
      if (!isPickKind(kind)) return errorResult('BAD_ARGS', "kind must be 'capture-file' or 'folder'");
      return { ok: true, data: { path: await dialog(event, kind) } };
    } catch (err) {
      return errorResult('INTERNAL', describeError(err));
    }
  };
}
