/**
 * W3C trace context for tool calls (DESIGN.md: each call carries it in
 * `_meta`). The trace id is derived from the execution id, so every call of
 * one execution, across attempts and restarts, shares one trace; each call
 * gets its own span id.
 */
import { createHash, randomBytes } from 'node:crypto';

/** A `traceparent` value for a call of `executionId`. */
export function traceparentFor(executionId: string): string {
  const hex = executionId.replace(/-/g, '').toLowerCase();
  const traceId =
    /^[0-9a-f]{32}$/.test(hex) && !/^0+$/.test(hex)
      ? hex
      : createHash('sha256').update(executionId).digest('hex').slice(0, 32);
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
}
