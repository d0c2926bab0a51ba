import type { ProblemDocument } from './types.js';

/** A request the API refused, with its problem document (or one made up for a network failure). */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemDocument;

  constructor(problem: ProblemDocument) {
    super(problem.detail);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
  }
}

/** True for an {@link ApiError}, or one with the given status. */
export function isApiError(error: unknown, status?: number): error is ApiError {
  return error instanceof ApiError && (status === undefined || error.status === status);
}

/** A sentence for an error of any kind, for alerts. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const code = error.problem.code ? ` (${error.problem.code})` : '';
    return `${error.problem.detail}${code}`;
  }
  return error instanceof Error ? error.message : String(error);
}
