/**
 * The sandboxed preload against a stand-in 'electron' module (vi.mock factory; the real package
 * is never loaded): what it exposes on window.studio and how it talks to main.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { StudioEvent } from './contract';
import type { ElectronStudioBridge } from '../main/hosts/electron/ipc-channels';

const rec = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invokes: [] as unknown[][],
  listeners: new Map<string, (event: unknown, value: unknown) => void>(),
  reply: null as null | ((args: unknown[]) => Promise<unknown>),
}));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => rec.exposed.set(key, value) },
  ipcRenderer: {
    invoke: (...args: unknown[]) => {
      rec.invokes.push(args);
      return rec.reply ? rec.reply(args) : Promise.resolve({ ok: true, data: null });
    },
    on: (channel: string, fn: (event: unknown, value: unknown) => void) => rec.listeners.set(channel, fn),
  },
}));

let studio: ElectronStudioBridge;

beforeAll(async () => {
  await import('./index');
  studio = rec.exposed.get('studio') as ElectronStudioBridge;
});

describe('preload', () => {
  it('exposes exactly window.studio, for the electron host', () => {
    expect([...rec.exposed.keys()]).toEqual(['studio']);
    expect(studio.host).toBe('electron');
    expect(Object.keys(studio).sort()).toEqual(['assetUrl', 'host', 'invoke', 'onEvent', 'onMenu', 'pick']);
  });

  it('invokes through studio:invoke with channel and args', async () => {
    rec.reply = () => Promise.resolve({ ok: true, data: { version: '1' } });
    const result = await studio.invoke('app.info', {});
    expect(rec.invokes.at(-1)).toEqual(['studio:invoke', 'app.info', {}]);
    expect(result).toEqual({ ok: true, data: { version: '1' } });
  });

  it('turns an IPC failure into an INTERNAL result instead of rejecting', async () => {
    rec.reply = () => Promise.reject(new Error('An object could not be cloned.'));
    await expect(studio.invoke('app.info', {})).resolves.toEqual({
      ok: false,
      code: 'INTERNAL',
      message: 'An object could not be cloned.',
    });
    rec.reply = null;
  });

  it('delivers events to subscribers until they unsubscribe, isolating throwing listeners', () => {
    const seen: StudioEvent[] = [];
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const offBad = studio.onEvent(() => {
      throw new Error('listener bug');
    });
    const off = studio.onEvent((e) => seen.push(e));
    const emit = rec.listeners.get('studio:event');
    const event: StudioEvent = { type: 'project.changed', project: null };
    emit?.({ sender: 'ipc' }, event);
    off();
    offBad();
    emit?.({}, event);
    expect(seen).toEqual([event]);
    expect(error).toHaveBeenCalledTimes(1);
    error.mockRestore();
  });

  it('builds app://project URLs with per-segment encoding', () => {
    expect(studio.assetUrl('frames/000001 rgb.png')).toBe('app://project/frames/000001%20rgb.png');
    expect(studio.assetUrl('map/a#b?.bin')).toBe('app://project/map/a%23b%3F.bin');
  });

  it('asks main for a picker only for known kinds', async () => {
    rec.reply = () => Promise.resolve({ ok: true, data: { path: '/caps/a.r3d' } });
    expect(await studio.pick('capture-file')).toEqual({ ok: true, data: { path: '/caps/a.r3d' } });
    expect(rec.invokes.at(-1)).toEqual(['studio:pick', 'capture-file']);
    const count = rec.invokes.length;
    expect(await studio.pick('anything' as never)).toMatchObject({ ok: false, code: 'BAD_ARGS' });
    expect(rec.invokes.length).toBe(count);
    rec.reply = null;
  });

  it('forwards only known menu commands', () => {
    const commands: string[] = [];
    const off = studio.onMenu((c) => commands.push(c));
    rec.listeners.get('studio:menu')?.({}, 'view.theme.dark');
    rec.listeners.get('studio:menu')?.({}, 'rm -rf');
    off();
    expect(commands).toEqual(['view.theme.dark']);
  });
});
