import type { ErrorCode } from '../../../preload/contract';

/** Every expected failure of queries, goals and exports: a contract error code, the file (or null) and the problem. */
export class QueryError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly file: string | null,
    readonly reason: string,
  ) {
    super(file ? `${file}: ${reason}` : reason);
    this.name = 'QueryError';
  }
}
