export {
  APP_ORIGIN,
  APP_PROJECT_HOST,
  APP_SCHEME,
  APP_STUDIO_HOST,
  isNavigationAllowed,
  isTrustedSender,
} from './navigation';
export {
  isInside,
  isRealPathInside,
  relativeFromUrlPathname,
  resolveContainedPath,
  resolveContainedRealPath,
  safeSegments,
} from './paths';
export { buildCsp, type CspOptions } from './csp';
export { secureWebPreferences, type SecureWebPreferences } from './web-preferences';
export { permissionDecision } from './permissions';
export { mimeTypeForPath } from './mime';
