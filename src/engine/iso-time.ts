/**
 * ISO 8601 UTC text of a time in ms. An execution stamps many records and
 * events in the same millisecond (its steps, their events, the execution),
 * so the last conversion is remembered: formatting a Date is a measurable
 * share of the engine's cost per step (bench/README.md).
 */

let lastMs = Number.NaN;
let lastText = '';

/** `new Date(ms).toISOString()`, remembering the last one. */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastText = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastText;
}
