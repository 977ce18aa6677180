import type { Result, StudioEvent } from '../../preload/contract';

/** What a host (Electron or web) serves for a project-relative asset request. */
export interface AssetResponse {
  /** Absolute path of a file to stream (preferred for large files). */
  filePath?: string;
  /** In-memory bytes (for assets computed on demand, e.g. a decoded depth frame). */
  bytes?: Uint8Array;
  mime: string;
}

/**
 * The host-agnostic studio: hosts call `invoke` for every request after checking the sender,
 * subscribe to events, and serve assets through `readAsset`. `invoke` never throws.
 */
export interface StudioApi {
  invoke(channel: string, args: unknown): Promise<Result<unknown>>;
  onEvent(listener: (event: StudioEvent) => void): () => void;
  /** `relPath` is untrusted; returns null when it escapes the project or does not exist. */
  readAsset(relPath: string): Promise<AssetResponse | null>;
  dispose(): Promise<void>;
}

export interface StudioOptions {
  host: 'electron' | 'web';
  /** Where recent projects, the demo capture cache and default projects live. */
  userDataDir: string;
  /** The app's resources folder (resources/ in the repo, process.resourcesPath in a package). */
  resourcesDir: string;
  /** Open this project at start. */
  projectDir?: string;
  /** Create and import the bundled demo capture into a project in userDataDir when no project is given. */
  openDemo?: boolean;
}
