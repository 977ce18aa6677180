import type { ErrorCode } from '../../../preload/contract';

/** Every model registry problem names the file (or model id) and what is wrong. */
export class ModelError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ModelError';
  }
}
