/**
 * Which calls of an execution of the seed workflow the bench MCP server
 * fails or slows, decided from the execution id alone (taken from the
 * call's idempotency key, `<executionId>:<step>`). The server applies it and
 * the load test computes the same plan to know each execution's outcome in
 * advance, so nothing it checks depends on timing.
 *
 * At most one call of an execution fails, and only once (its retry, if the
 * step has one, succeeds): about 30% of executions get one failing call,
 * spread evenly over the three steps, so about 10% of calls fail once. Half
 * the failures are an HTTP 500 (a transport failure, which counts against
 * the breaker), half a tool error (`isError`). About 10% of executions have
 * one call slowed by 50 to 300 ms.
 */

/** A `send` to a number with this prefix is held by the server until the caller gives up. */
export const HOLD_PREFIX = '+1555999';

/** The seed workflow's steps, in the order they call. */
export const SEED_STEPS = ['get_contact', 'get_coach_info', 'send_sms'] as const;
export type SeedStep = (typeof SEED_STEPS)[number];

/** What happens to the calls of one execution. */
export interface FaultPlan {
  /** The step whose first call fails, if any. */
  fail?: { step: SeedStep; kind: 'http' | 'tool' };
  /** The step whose calls are slowed, if any. */
  slow?: { step: SeedStep; ms: number };
}

/** FNV-1a, 32 bits: a stable, well-spread hash of a string. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The plan of an execution. */
export function faultPlan(executionId: string): FaultPlan {
  const h = hash32(executionId);
  const g = hash32(`${executionId}/slow`);
  const plan: FaultPlan = {};
  if (h % 1000 < 300) {
    plan.fail = { step: SEED_STEPS[(h >>> 10) % 3]!, kind: (h >>> 12) & 1 ? 'http' : 'tool' };
  }
  if (g % 100 < 10) plan.slow = { step: SEED_STEPS[(g >>> 8) % 3]!, ms: 50 + ((g >>> 12) % 251) };
  return plan;
}

/** Splits an idempotency key into execution id, step and whether it is a compensation. */
export function parseKey(
  key: string,
): { executionId: string; step: string; compensation: boolean } | undefined {
  const parts = key.split(':');
  if (parts.length < 2 || !parts[0] || !parts[1]) return undefined;
  return { executionId: parts[0], step: parts[1], compensation: parts[2] === 'compensation' };
}
