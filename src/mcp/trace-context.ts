/**
 * W3C trace context for tool calls (DESIGN.md: each call carries it in
 * `_meta`). The trace id is derived from the execution id, so every call of
 * one execution, across attempts and restarts, shares one trace; each call
 * gets its own span id.
 */
import { createHash, randomFillSync } from 'node:crypto';

// Span ids come from a pool refilled 4 KiB at a time: one call to the CSPRNG
// per 512 calls rather than one each (a syscall on Linux), on the hot path.
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

function spanId(): string {
  if (poolOffset + 8 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const id = pool.toString('hex', poolOffset, poolOffset + 8);
  poolOffset += 8;
  // All zeros is not a valid span id; draw again (once in 2^64).
  return id === '0000000000000000' ? spanId() : id;
}

/** A `traceparent` value for a call of `executionId`. */
export function traceparentFor(executionId: string): string {
  const hex = executionId.replace(/-/g, '').toLowerCase();
  const traceId =
    /^[0-9a-f]{32}$/.test(hex) && !/^0+$/.test(hex)
      ? hex
      : createHash('sha256').update(executionId).digest('hex').slice(0, 32);
  return `00-${traceId}-${spanId()}-01`;
}
