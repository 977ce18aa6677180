import { describe, expect, it } from 'vitest';
import type { Result } from '../../../preload/contract';
import { createInvokeHandler, createPickHandler, isTrustedIpcEvent, type IpcEventLike } from './ipc-handlers';
import { projectAssetUrl } from './ipc-channels';

const mainFrame = { url: 'app://studio/index.html' };
const trusted: IpcEventLike = { senderFrame: mainFrame, sender: { mainFrame } };
const subFrame: IpcEventLike = { senderFrame: { url: 'app://studio/index.html' }, sender: { mainFrame } };
const foreignTop = { url: 'https://evil.example/' };
const foreignMain: IpcEventLike = { senderFrame: foreignTop, sender: { mainFrame: foreignTop } };
const destroyed: IpcEventLike = { senderFrame: null, sender: { mainFrame } };
const throwing: IpcEventLike = {
  senderFrame: Object.defineProperty({}, 'url', {
    get: () => {
      throw new Error('Render frame was disposed');
    },
  }) as { url: string },
  sender: { mainFrame },
};

function fakeStudio() {
  const calls: [string, unknown][] = [];
  return {
    calls,
    invoke: (channel: string, args: unknown): Promise<Result<unknown>> => {
      calls.push([channel, args]);
      if (channel === 'explode') return Promise.reject(new Error('kaput'));
      return Promise.resolve({ ok: true, data: { channel } });
    },
  };
}

describe('isTrustedIpcEvent', () => {
  it('trusts our main frame only', () => {
    expect(isTrustedIpcEvent(trusted)).toBe(true);
    expect(isTrustedIpcEvent(subFrame)).toBe(false);
    expect(isTrustedIpcEvent(foreignMain)).toBe(false);
    expect(isTrustedIpcEvent(destroyed)).toBe(false);
    expect(isTrustedIpcEvent(throwing)).toBe(false);
  });
});

describe('createInvokeHandler', () => {
  it('forwards trusted requests to the studio', async () => {
    const studio = fakeStudio();
    const handle = createInvokeHandler(studio);
    expect(await handle(trusted, 'app.info', {})).toEqual({ ok: true, data: { channel: 'app.info' } });
    expect(studio.calls).toEqual([['app.info', {}]]);
  });
  it.each([
    ['sub-frame', subFrame],
    ['foreign main frame', foreignMain],
    ['destroyed frame', destroyed],
    ['disposed frame', throwing],
  ])('answers FORBIDDEN to a %s without calling the studio', async (_name, event) => {
    const studio = fakeStudio();
    const result = await createInvokeHandler(studio)(event, 'project.open', { dir: '/' });
    expect(result).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(studio.calls).toHaveLength(0);
  });
  it('answers BAD_ARGS for a non-string channel', async () => {
    const studio = fakeStudio();
    expect(await createInvokeHandler(studio)(trusted, 42, {})).toMatchObject({ ok: false, code: 'BAD_ARGS' });
    expect(await createInvokeHandler(studio)(trusted, 'x'.repeat(201), {})).toMatchObject({
      ok: false,
      code: 'BAD_ARGS',
    });
  });
  it('turns a throwing studio into INTERNAL instead of rejecting', async () => {
    const result = await createInvokeHandler(fakeStudio())(trusted, 'explode', {});
    expect(result).toEqual({ ok: false, code: 'INTERNAL', message: 'kaput' });
  });
});

describe('createPickHandler', () => {
  it('returns the chosen path, or null when cancelled', async () => {
    const kinds: string[] = [];
    const handle = createPickHandler((_e, kind) => {
      kinds.push(kind);
      return Promise.resolve(kind === 'folder' ? null : '/caps/a.r3d');
    });
    expect(await handle(trusted, 'capture-file')).toEqual({ ok: true, data: { path: '/caps/a.r3d' } });
    expect(await handle(trusted, 'folder')).toEqual({ ok: true, data: { path: null } });
    expect(kinds).toEqual(['capture-file', 'folder']);
  });
  it('refuses untrusted senders and unknown kinds without opening a dialog', async () => {
    let opened = 0;
    const handle = createPickHandler(() => {
      opened += 1;
      return Promise.resolve('/x');
    });
    expect(await handle(subFrame, 'folder')).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(await handle(trusted, 'any-file')).toMatchObject({ ok: false, code: 'BAD_ARGS' });
    expect(opened).toBe(0);
  });
  it('turns a failing dialog into INTERNAL', async () => {
    const handle = createPickHandler(() => Promise.reject(new Error('no display')));
    expect(await handle(trusted, 'folder')).toEqual({ ok: false, code: 'INTERNAL', message: 'no display' });
  });
});

describe('projectAssetUrl', () => {
  it('percent-encodes each segment and keeps the slashes', () => {
    expect(projectAssetUrl('frames/0001 rgb.png')).toBe('app://project/frames/0001%20rgb.png');
    expect(projectAssetUrl('/map//points#1?.bin')).toBe('app://project/map/points%231%3F.bin');
  });
});
