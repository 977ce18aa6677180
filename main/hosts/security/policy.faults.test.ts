import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { APP_ORIGIN, isNavigationAllowed, isTrustedSender } from './navigation';
import { isTrustedIpcEvent } from '../electron/ipc-handlers';
import { FAULTS_ENABLED } from '../../core/testing/faults/harness';

// Renderer navigation, window.open targets, file:// and javascript: links: only the app's own pages pass.
const hostileSchemes = [
  'file:',
  'javascript:',
  'JavaScript:',
  'data:',
  'blob:',
  'http:',
  'https:',
  'ws:',
  'chrome:',
  'devtools:',
  'about:',
  'vbscript:',
  'app:',
  'APP:',
  'filesystem:',
];
const tricks = [
  '',
  '//',
  '///',
  '//studio@evil',
  '//evil/studio',
  '//studio.evil',
  '//project/',
  '//studio:80',
  '//%73tudio/',
  '//studio\\@evil/',
  '//studio%00/',
  ' //studio/',
  '\t//studio/',
  '//studio/\n',
];

/** What a `will-navigate`/`setWindowOpenHandler` gets: anything, but mostly near-misses of app://studio. */
const target = fc.oneof(
  fc
    .tuple(fc.constantFrom(...hostileSchemes), fc.constantFrom(...tricks), fc.webPath())
    .map(([s, t, p]) => `${s}${t}${p}`),
  fc.webUrl({ withFragments: true, withQueryParameters: true }),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    'javascript:alert(1)',
    'file:///etc/passwd',
    'data:text/html,<script>x</script>',
    `${APP_ORIGIN}@evil.example/`,
    'app://studio.evil/',
    'app://project/frame/1/rgb',
    'blob:app://studio/x',
    ' app://studio/',
  ),
);

/** Ours: exactly app://studio (any case for the scheme/host), any path, query or fragment. */
function isOurs(url: string): boolean {
  try {
    const u = new URL(url);
    // Control characters, spaces, DEL and backslashes never appear in our own URLs.
    // eslint-disable-next-line no-control-regex
    const unsafe = /[\u0000-\u0020\u007f\\]/;
    return (
      u.protocol === 'app:' &&
      u.host === 'studio' &&
      u.username === '' &&
      u.password === '' &&
      !unsafe.test(url)
    );
  } catch {
    return false;
  }
}

describe.skipIf(!FAULTS_ENABLED)('navigation and sender policy under generated URLs', () => {
  it("denies every URL that is not the app's own page (5000 generated)", () => {
    fc.assert(
      fc.property(target, (url) => {
        expect(isNavigationAllowed(url)).toBe(isOurs(url));
        if (/^\s*(javascript|file|data|blob|http|https):/i.test(url))
          expect(isNavigationAllowed(url)).toBe(false);
      }),
      { numRuns: 5000, seed: 0x5ec },
    );
  });

  it("allows the app's own pages with any path, query or fragment", () => {
    fc.assert(
      fc.property(fc.webPath(), fc.webQueryParameters(), fc.webFragments(), (p, q, f) => {
        expect(isNavigationAllowed(`${APP_ORIGIN}${p.startsWith('/') ? p : `/${p}`}?${q}#${f}`)).toBe(true);
      }),
      { numRuns: 1000, seed: 0x5ed },
    );
  });

  it('IPC senders: only our top-level frame; sub-frames, foreign and disposed frames are refused', () => {
    fc.assert(
      fc.property(target, fc.boolean(), (url, isMain) => {
        expect(isTrustedSender(url, isMain)).toBe(isMain && isOurs(url));
        const frame = { url };
        expect(
          isTrustedIpcEvent({ senderFrame: frame, sender: { mainFrame: isMain ? frame : { url } } }),
        ).toBe(isMain && isOurs(url));
      }),
      { numRuns: 3000, seed: 0x5ee },
    );
    expect(isTrustedSender(undefined, true)).toBe(false);
    expect(isTrustedSender(null, true)).toBe(false);
    expect(isTrustedIpcEvent({ senderFrame: null, sender: { mainFrame: null } })).toBe(false);
  });
});
