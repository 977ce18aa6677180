import { describe, expect, it } from 'vitest';
import { APP_ORIGIN, isNavigationAllowed, isTrustedSender } from './navigation';

describe('isNavigationAllowed', () => {
  it('allows the app pages at app://studio', () => {
    expect(isNavigationAllowed('app://studio/', APP_ORIGIN)).toBe(true);
    expect(isNavigationAllowed('app://studio/index.html#/jobs', APP_ORIGIN)).toBe(true);
    expect(isNavigationAllowed('app://studio/index.html?x=1', APP_ORIGIN)).toBe(true);
    expect(isNavigationAllowed('APP://STUDIO/index.html', APP_ORIGIN)).toBe(true);
  });

  it.each([
    'file:///etc/passwd',
    'file://studio/index.html',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'blob:app://studio/1234',
    'http://studio/',
    'https://example.com/',
    'https://studio/',
    'app://project/map.bin',
    'app://studio.evil.com/',
    'app://studio:8080/',
    'app://evil/studio/',
    'app://user@studio/',
    'app://studio@evil/',
    'app:studio/index.html',
    'app:///studio/index.html',
    'app:\\\\studio\\index.html',
    ' app://studio/',
    'app://stu\tdio/',
    'about:blank',
    'chrome://settings',
    'devtools://devtools/bundled/inspector.html',
    '',
    'not a url',
  ])('denies %j', (url) => {
    expect(isNavigationAllowed(url, APP_ORIGIN)).toBe(false);
  });

  it('denies everything when the app origin itself is not an app: URL', () => {
    expect(isNavigationAllowed('https://example.com/', 'https://example.com')).toBe(false);
    expect(isNavigationAllowed('app://studio/', 'garbage')).toBe(false);
  });
});

describe('isTrustedSender', () => {
  it('trusts only our top-level frame', () => {
    expect(isTrustedSender('app://studio/index.html', true, APP_ORIGIN)).toBe(true);
  });
  it('refuses a sub-frame even at our origin', () => {
    expect(isTrustedSender('app://studio/index.html', false, APP_ORIGIN)).toBe(false);
  });
  it('refuses other origins and destroyed frames', () => {
    expect(isTrustedSender('https://evil.example/', true, APP_ORIGIN)).toBe(false);
    expect(isTrustedSender('file:///tmp/x.html', true, APP_ORIGIN)).toBe(false);
    expect(isTrustedSender('app://project/x', true, APP_ORIGIN)).toBe(false);
    expect(isTrustedSender('about:blank', true, APP_ORIGIN)).toBe(false);
    expect(isTrustedSender(null, true, APP_ORIGIN)).toBe(false);
    expect(isTrustedSender(undefined, true, APP_ORIGIN)).toBe(false);
  });
});
