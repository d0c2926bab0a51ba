/**
 * The record cache of a Multicast DNS querier (RFC 6762 section 10), apart
 * from any socket so that decoded packets and a clock are all it needs.
 *
 * - A record lives for its TTL from the moment it was received.
 * - A TTL of 0 is a goodbye and removes the record at once. The RFC keeps it
 *   one more second so that a cooperating responder can rescue a shared
 *   record; removing at once only risks a brief remove and re-add then, and
 *   makes a server that leaves disappear without delay.
 * - A record with the cache-flush bit says "this is the whole set": records
 *   of its name and type received more than a second ago expire one second
 *   later (section 10.2), so a changed TXT or a moved SRV replaces the old.
 * - A record is due to be asked for again at 80, 85, 90 and 95 % of its TTL
 *   plus up to 2 % (section 5.2): a live responder answers and the record
 *   lives on; a silent one lets it expire.
 */
import type { Answer, SrvData } from 'dns-packet';

/** Record types a DNS-SD browser needs, and their data as dns-packet decodes it. */
interface RecordData {
  PTR: string;
  SRV: SrvData;
  /** Character-strings (dns-packet decodes them as Buffers). */
  TXT: (string | Uint8Array)[];
  A: string;
  AAAA: string;
}

/** A record type the cache keeps. */
export type CachedType = keyof RecordData;

interface RecordBase {
  /** Owner name, as received. */
  name: string;
  /** TTL received, seconds. */
  ttl: number;
  receivedAt: number;
  /** When this record, with this data, was first received: a refresh keeps it. */
  firstReceivedAt: number;
  expiresAt: number;
  /** Refresh queries asked for this copy of the record (0 to 4). */
  refreshes: number;
  /** Random part of the refresh times, 0 to 0.02 of the TTL, so queriers do not ask in step. */
  jitter: number;
  /** Address of the host that sent it, when known. */
  from?: string;
}

/** One cached record (of type `T`). */
export type CachedRecord<T extends CachedType = CachedType> = {
  [K in T]: RecordBase & { type: K; data: RecordData[K] };
}[T];

const TYPES = new Set<string>(['PTR', 'SRV', 'TXT', 'A', 'AAAA']);
const FLUSH_GRACE_MS = 1000;
const REFRESH_STEPS = 4;

/** DNS names compare without case (RFC 4343); the cache keys them lower-cased. */
export function nameKey(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

/** Time-to-live cache of mDNS records, keyed by name, type and data. */
export class MdnsCache {
  private readonly records = new Map<string, CachedRecord>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** Takes in the records of one response (other types are ignored); `from` is the sender's address. */
  add(answers: readonly Answer[], from?: string): void {
    const now = this.now();
    const flushed = new Set<string>();
    for (const answer of answers) {
      if (!TYPES.has(answer.type) || !('data' in answer)) continue;
      const record = {
        name: answer.name,
        type: answer.type,
        data: answer.type === 'TXT' ? txtStrings(answer.data as never) : answer.data,
        ttl: answer.ttl ?? 0,
        receivedAt: now,
        firstReceivedAt: now,
        expiresAt: now + (answer.ttl ?? 0) * 1000,
        refreshes: 0,
        jitter: this.random() * 0.02,
        ...(from !== undefined ? { from } : {}),
      } as CachedRecord;
      const key = recordKey(record);
      if (record.ttl === 0) {
        this.records.delete(key);
        continue;
      }
      record.firstReceivedAt = this.records.get(key)?.firstReceivedAt ?? now;
      this.records.set(key, record);
      if (answer.flush) flushed.add(setKey(record));
    }
    for (const record of this.records.values()) {
      if (record.receivedAt > now - FLUSH_GRACE_MS || !flushed.has(setKey(record))) continue;
      record.expiresAt = Math.min(record.expiresAt, now + FLUSH_GRACE_MS);
      record.refreshes = REFRESH_STEPS; // on its way out: not worth asking for
    }
  }

  /** Removes the records whose TTL has run out; true when there were any. */
  prune(): boolean {
    const now = this.now();
    let removed = false;
    for (const [key, record] of this.records) {
      if (record.expiresAt > now) continue;
      this.records.delete(key);
      removed = true;
    }
    return removed;
  }

  /** Live records of a name and type, most recently received first. */
  get<T extends CachedType>(name: string, type: T): CachedRecord<T>[] {
    const now = this.now();
    const wanted = nameKey(name);
    const found: CachedRecord[] = [];
    for (const record of this.records.values()) {
      if (record.type === type && record.expiresAt > now && nameKey(record.name) === wanted)
        found.push(record);
    }
    return found.sort((a, b) => b.receivedAt - a.receivedAt) as CachedRecord<T>[];
  }

  /** When a record next expires or falls due to be asked for again; undefined for an empty cache. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const record of this.records.values()) {
      const due = Math.min(record.expiresAt, refreshAt(record));
      if (next === undefined || due < next) next = due;
    }
    return next;
  }

  /** The records due to be asked for again now; each counts as asked. */
  takeRefreshes(): CachedRecord[] {
    const now = this.now();
    const due: CachedRecord[] = [];
    for (const record of this.records.values()) {
      if (refreshAt(record) > now || record.expiresAt <= now) continue;
      // Several steps may have passed while the process was busy: one question covers them.
      while (record.refreshes < REFRESH_STEPS && refreshAt(record) <= now) record.refreshes += 1;
      due.push(record);
    }
    return due;
  }

  clear(): void {
    this.records.clear();
  }
}

function refreshAt(record: CachedRecord): number {
  if (record.refreshes >= REFRESH_STEPS) return Number.POSITIVE_INFINITY;
  // ttl s * 1000 ms * percent / 100, in whole ms
  return record.receivedAt + Math.round(record.ttl * 10 * (80 + 5 * record.refreshes + 100 * record.jitter));
}

/** A TXT record's character-strings (dns-packet decodes them as Buffers; one string for a bare value). */
function txtStrings(data: string | Uint8Array | (string | Uint8Array)[]): (string | Uint8Array)[] {
  return Array.isArray(data) ? data : [data];
}

/** The record set a record belongs to (what a cache-flush bit speaks for). */
function setKey(record: CachedRecord): string {
  return `${nameKey(record.name)} ${record.type}`;
}

function recordKey(record: CachedRecord): string {
  switch (record.type) {
    case 'PTR':
      return `${setKey(record)} ${nameKey(record.data)}`;
    case 'A':
    case 'AAAA':
      return `${setKey(record)} ${record.data.toLowerCase()}`;
    case 'SRV': {
      const { priority = 0, weight = 0, port, target } = record.data;
      return `${setKey(record)} ${priority} ${weight} ${port} ${nameKey(target)}`;
    }
    case 'TXT':
      return `${setKey(record)} ${record.data.map((s) => Buffer.from(s).toString('base64')).join(' ')}`;
  }
}
