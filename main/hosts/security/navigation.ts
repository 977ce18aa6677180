/**
 * Which URLs the Electron host lets its windows navigate to, and which IPC senders it trusts.
 * Pure functions (no electron import) so they are unit-tested in plain Node.
 */

/** The origin the renderer is served from in Electron. */
export const APP_SCHEME = 'app';
export const APP_STUDIO_HOST = 'studio';
export const APP_PROJECT_HOST = 'project';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_STUDIO_HOST}`;

interface SchemeHost {
  protocol: string;
  host: string;
}

/**
 * Parses `url` and returns its lower-cased scheme and host, or null when it does not parse or
 * carries credentials (`app://evil@studio/` style tricks are never ours).
 */
function schemeHost(url: string): SchemeHost | null {
  if (typeof url !== 'string' || url.length === 0 || url.length > 8192) return null;
  // Chromium and WHATWG strip leading/trailing C0 controls and spaces and drop tabs/newlines
  // inside; we refuse such URLs outright instead of guessing how they would be read.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f\\]/.test(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.username !== '' || parsed.password !== '') return null;
  return { protocol: parsed.protocol.toLowerCase(), host: parsed.host.toLowerCase() };
}

function isAppStudioUrl(url: string, appOrigin: string): boolean {
  const target = schemeHost(url);
  const origin = schemeHost(appOrigin);
  if (target === null || origin === null) return false;
  if (origin.protocol !== `${APP_SCHEME}:` || origin.host === '') return false;
  return target.protocol === origin.protocol && target.host === origin.host;
}

/**
 * True only for the app's own pages (`app://studio/...` for appOrigin `app://studio`).
 * Everything else (file:, javascript:, data:, blob:, http(s):, other app:// hosts such as
 * app://project, malformed URLs) is denied.
 */
export function isNavigationAllowed(targetUrl: string, appOrigin: string = APP_ORIGIN): boolean {
  return isAppStudioUrl(targetUrl, appOrigin);
}

/**
 * True only for IPC coming from our own top-level frame at the app origin: a sub-frame (even one
 * of ours), a destroyed frame (url null/undefined) or any other origin is untrusted.
 */
export function isTrustedSender(
  senderFrameUrl: string | null | undefined,
  isMainFrame: boolean,
  appOrigin: string = APP_ORIGIN,
): boolean {
  if (isMainFrame !== true) return false;
  if (typeof senderFrameUrl !== 'string') return false;
  return isAppStudioUrl(senderFrameUrl, appOrigin);
}
