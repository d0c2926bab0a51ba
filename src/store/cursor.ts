/**
 * Opaque list cursors. Execution ids are UUIDv7, so "older than this id" is
 * the whole cursor; it is base64url-encoded so clients treat it as opaque.
 */
import { ErrorCode, OrchestratorError } from '../engine/index.js';

/** Encodes the last id of a page. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** Decodes a cursor; ORCH_BAD_REQUEST for one this server did not make. */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (id.length === 0 || id.length > 200 || encodeCursor(id) !== cursor) {
    throw new OrchestratorError(ErrorCode.BadRequest, 'invalid cursor', {
      errors: [{ path: 'cursor', message: 'is not a cursor this server returned' }],
    });
  }
  return id;
}
