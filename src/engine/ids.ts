/**
 * UUIDv7 execution ids (RFC 9562): time-ordered, so the newest-first listing
 * and its cursor follow creation order without another column. Random bytes
 * come from a pool refilled 4 KiB at a time (one call to the CSPRNG per 409
 * ids rather than one each), and hex digits from a table.
 */
import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Ten fresh random bytes' offset in the pool. */
function randomOffset(): number {
  if (poolOffset + 10 > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += 10;
  return at;
}

/** Returns a new UUIDv7 for the given time. */
export function uuidv7(now: number = Date.now()): string {
  const r = randomOffset();
  // 48 bits of milliseconds, written as two parts a double holds exactly.
  const high = Math.floor(now / 0x1000000);
  const low = now % 0x1000000;
  const b = pool;
  return (
    HEX[(high >>> 16) & 0xff]! +
    HEX[(high >>> 8) & 0xff]! +
    HEX[high & 0xff]! +
    HEX[(low >>> 16) & 0xff]! +
    '-' +
    HEX[(low >>> 8) & 0xff]! +
    HEX[low & 0xff]! +
    '-' +
    HEX[0x70 | (b[r]! & 0x0f)]! +
    HEX[b[r + 1]!]! +
    '-' +
    HEX[0x80 | (b[r + 2]! & 0x3f)]! +
    HEX[b[r + 3]!]! +
    '-' +
    HEX[b[r + 4]!]! +
    HEX[b[r + 5]!]! +
    HEX[b[r + 6]!]! +
    HEX[b[r + 7]!]! +
    HEX[b[r + 8]!]! +
    HEX[b[r + 9]!]!
  );
}
