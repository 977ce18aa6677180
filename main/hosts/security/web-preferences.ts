/** The webPreferences every Electron window of the studio is created with. */
export interface SecureWebPreferences {
  readonly sandbox: true;
  readonly contextIsolation: true;
  readonly nodeIntegration: false;
  readonly nodeIntegrationInWorker: false;
  readonly nodeIntegrationInSubFrames: false;
  readonly webSecurity: true;
  readonly allowRunningInsecureContent: false;
  readonly webviewTag: false;
  readonly spellcheck: false;
  readonly navigateOnDragDrop: false;
  readonly safeDialogs: true;
  readonly preload: string;
}

export function secureWebPreferences(preloadPath: string): SecureWebPreferences {
  if (typeof preloadPath !== 'string' || preloadPath.length === 0) {
    throw new TypeError('secureWebPreferences: preloadPath must be a non-empty absolute path');
  }
  return Object.freeze({
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    preload: preloadPath,
  });
}
