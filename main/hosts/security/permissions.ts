/**
 * Permission policy for the studio's windows: the app needs no camera, microphone, geolocation,
 * notifications, HID/serial/USB, etc. Only sanitized clipboard writes (copy a goal as JSON) pass.
 */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

export function permissionDecision(permission: string): boolean {
  return typeof permission === 'string' && ALLOWED_PERMISSIONS.has(permission);
}
