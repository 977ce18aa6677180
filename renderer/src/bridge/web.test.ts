import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { StudioEvent } from '../../../preload/contract';
import { rpcUrlFor, WebBridge, webAssetUrl, type SocketLike } from './web';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {}
  send(data: string) {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(data);
  }
  close() {
    this.closed = true;
    this.drop();
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({});
  }
  reply(id: number, result: unknown) {
    this.onmessage?.({ data: JSON.stringify({ kind: 'res', id, result }) });
  }
  lastRequest(): { id: number; channel: string; args: unknown } {
    return JSON.parse(this.sent[this.sent.length - 1]!) as { id: number; channel: string; args: unknown };
  }
}

let sockets: FakeSocket[];
let timers: { fn: () => void; ms: number }[];

function makeBridge() {
  return new WebBridge({
    url: 'ws://h/rpc?token=t',
    token: 't',
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    setTimer: (fn, ms) => {
      const t = { fn, ms };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      timers = timers.filter((t) => t !== h);
    },
    random: () => 0.5,
    initialDelay_ms: 100,
    maxDelay_ms: 1000,
  });
}

const flush = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  sockets = [];
  timers = [];
});

describe('WebBridge', () => {
  it('queues requests until the socket opens, then matches answers by id', async () => {
    const b = makeBridge();
    const p = b.invoke('app.info', {});
    expect(sockets[0]!.sent).toHaveLength(0);
    sockets[0]!.open();
    const req = sockets[0]!.lastRequest();
    expect(req).toMatchObject({ kind: 'req', channel: 'app.info', args: {} });
    sockets[0]!.reply(req.id + 1000, { ok: true, data: 'wrong' });
    sockets[0]!.reply(req.id, { ok: true, data: { version: '1' } });
    await expect(p).resolves.toEqual({ ok: true, data: { version: '1' } });
  });

  it('resolves pending requests to IO when the socket drops, and reconnects with backoff', async () => {
    const b = makeBridge();
    const states: string[] = [];
    b.onConnection((s) => states.push(s));
    sockets[0]!.open();
    const p = b.invoke('jobs.list', {});
    sockets[0]!.drop();
    const r = await p;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe('IO');
    expect(states).toEqual(['connecting', 'open', 'closed']);
    expect(timers).toHaveLength(1);
    expect(timers[0]!.ms).toBe(100);
    timers.shift()!.fn();
    expect(sockets).toHaveLength(2);
    sockets[1]!.drop();
    expect(timers[0]!.ms).toBe(200);
    timers.shift()!.fn();
    sockets[2]!.drop();
    timers.shift()!.fn();
    sockets[3]!.drop();
    timers.shift()!.fn();
    sockets[4]!.drop();
    expect(timers[0]!.ms).toBe(1000);
    timers.shift()!.fn();
    sockets[5]!.open();
    expect(states[states.length - 1]).toBe('open');
    // The backoff resets after a successful connection.
    sockets[5]!.drop();
    expect(timers[0]!.ms).toBe(100);
  });

  it('a request made during backoff triggers an immediate reconnect', async () => {
    const b = makeBridge();
    sockets[0]!.drop();
    expect(timers).toHaveLength(1);
    const p = b.invoke('problems.list', {});
    expect(timers).toHaveLength(0);
    expect(sockets).toHaveLength(2);
    sockets[1]!.open();
    sockets[1]!.reply(sockets[1]!.lastRequest().id, { ok: true, data: { problems: [] } });
    await expect(p).resolves.toEqual({ ok: true, data: { problems: [] } });
  });

  it('delivers events to listeners and ignores malformed messages', async () => {
    const b = makeBridge();
    const got: StudioEvent[] = [];
    const off = b.onEvent((e) => got.push(e));
    b.onEvent(() => {
      throw new Error('a broken listener must not stop the others');
    });
    sockets[0]!.open();
    const ev: StudioEvent = {
      type: 'job.progress',
      id: 'j1',
      progress: { stage: 's', done: 1, total: 2, eta_s: null },
    };
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      sockets[0]!.onmessage?.({ data: 'not json' });
      sockets[0]!.onmessage?.({ data: JSON.stringify({ kind: 'event' }) });
      sockets[0]!.onmessage?.({ data: JSON.stringify({ kind: 'event', event: ev }) });
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
    expect(got).toEqual([ev]);
    off();
    sockets[0]!.onmessage?.({ data: JSON.stringify({ kind: 'event', event: ev }) });
    expect(got).toHaveLength(1);
    await flush();
  });

  it('turns a malformed answer into INTERNAL instead of hanging', async () => {
    const b = makeBridge();
    sockets[0]!.open();
    const p = b.invoke('app.info', {});
    sockets[0]!.reply(sockets[0]!.lastRequest().id, { nope: 1 });
    const r = await p;
    expect(!r.ok && r.code).toBe('INTERNAL');
  });

  it('dispose fails pending requests and stops reconnecting', async () => {
    const b = makeBridge();
    const p = b.invoke('app.info', {});
    b.dispose();
    expect(((await p) as { code: string }).code).toBe('IO');
    expect(timers).toHaveLength(0);
    expect(((await b.invoke('app.info', {})) as { code: string }).code).toBe('IO');
  });
});

describe('URLs', () => {
  it('encodes each asset path segment and the token', () => {
    expect(webAssetUrl('frames/rgb 1/000#1.png', 'a&b')).toBe(
      '/project-asset/frames/rgb%201/000%231.png?token=a%26b',
    );
  });

  it('derives ws/wss from the page protocol and carries the token', () => {
    expect(rpcUrlFor({ protocol: 'http:', host: 'localhost:4000', search: '?token=abc' })).toEqual({
      url: 'ws://localhost:4000/rpc?token=abc',
      token: 'abc',
    });
    expect(rpcUrlFor({ protocol: 'https:', host: 'h', search: '' }).url).toBe('wss://h/rpc?token=');
  });
});
