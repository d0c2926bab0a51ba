/**
 * DNS-SD (RFC 6763) service instances as MCPs, shared by the `dns` method
 * (unicast, SRV and TXT from a DNS server) and the `multicast` method (mDNS).
 * An instance's SRV records are its endpoints, its TXT strings
 * (`key=value`, one each) its metadata.
 */
import type { ValidationIssue } from '../engine/index.js';
import {
  addDescription,
  checkName,
  checkPath,
  checkPriority,
  checkProtocol,
  checkScheme,
} from './mcp-metadata.js';
import type { RegistryEntry } from './registry-loader.js';

/** One SRV record (RFC 2782): lower priority is preferred, then higher weight. */
export interface SrvTarget {
  priority: number;
  weight: number;
  port: number;
  /** Host name; a trailing dot is allowed. */
  target: string;
}

/** A service instance as read from DNS. */
export interface ServiceInstance {
  /**
   * The name whose SRV and TXT records these are: an instance
   * (`Weather._mcp._tcp.example.com`) or a service name queried directly
   * (`_mcp._tcp.weather.example.com`).
   */
  fqdn: string;
  targets: SrvTarget[];
  /** TXT character-strings, as text or raw bytes. */
  txt: readonly (string | Uint8Array)[];
}

/** TXT keys an instance may carry (all optional). */
export const DNS_SD_KEYS = [
  'name',
  'path',
  'protocol',
  'scheme',
  'tools',
  'capabilities',
  'version',
  'priority',
] as const;

/**
 * TXT strings as key/value pairs (RFC 6763 section 6): keys are
 * case-insensitive and the first occurrence wins; a key without `=` has
 * the empty value; a string starting with `=` is ignored.
 */
export function parseTxt(strings: readonly (string | Uint8Array)[]): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const raw of strings) {
    const text = typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
    const at = text.indexOf('=');
    const key = (at === -1 ? text : text.slice(0, at)).trim().toLowerCase();
    if (key === '' || pairs.has(key)) continue;
    pairs.set(key, at === -1 ? '' : text.slice(at + 1).trim());
  }
  return pairs;
}

/** SRV targets in the order they are tried: priority ascending, weight descending, then name. */
export function orderTargets(targets: readonly SrvTarget[]): SrvTarget[] {
  return [...targets].sort(
    (a, b) =>
      a.priority - b.priority || b.weight - a.weight || a.target.localeCompare(b.target) || a.port - b.port,
  );
}

/**
 * The MCP name of an instance when its TXT has no `name=`: the instance label
 * of `Instance._svc._proto.domain`, or, for a service name queried directly
 * (`_svc._proto.domain`), its domain; lower-cased with other characters as `-`.
 */
export function defaultMcpName(fqdn: string): string {
  const labels = fqdn.replace(/\.$/, '').split('.');
  const service = labels.findIndex((l) => l.startsWith('_'));
  const picked =
    service > 0
      ? labels.slice(0, service).join('.')
      : labels.slice(service === -1 ? 0 : labels.findIndex((l) => !l.startsWith('_'))).join('.');
  return picked
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+|-+$/g, '');
}

/** What {@link entryFromInstance} makes of an instance: an MCP, or what is wrong with it. */
export type InstanceEntry = { name: string; entry: RegistryEntry } | { issues: ValidationIssue[] };

/**
 * The registry entry an instance declares. Its endpoints are its SRV targets
 * in order (`<scheme>://<target>:<port><path>`, named `<target>:<port>`);
 * its priority is the best SRV priority negated (SRV prefers lower, capability
 * routing higher) unless TXT says `priority=`. Problems are returned with
 * paths naming the DNS name and TXT key, never thrown: one bad announcement
 * must not hide the others.
 */
export function entryFromInstance(instance: ServiceInstance): InstanceEntry {
  const txt = parseTxt(instance.txt);
  const fqdn = instance.fqdn.replace(/\.$/, '');
  const issues: ValidationIssue[] = [];
  const problem = (key: string, message: string) => issues.push({ path: `${fqdn} TXT ${key}`, message });

  const name = txt.get('name') || defaultMcpName(fqdn);
  checkName(name, problem);
  const path = txt.get('path') || '/mcp';
  checkPath(path, problem);
  const protocol = checkProtocol(txt.get('protocol') || 'http', problem);
  const scheme = checkScheme(txt.get('scheme') || 'http', problem);
  const priority = checkPriority(txt.get('priority'), problem);
  const targets = orderTargets(instance.targets).filter((t) => t.target.replace(/\.$/, '') !== '');
  // RFC 2782: a lone target of "." means the service is decidedly not available here.
  if (targets.length === 0)
    issues.push({ path: `${fqdn} SRV`, message: 'has no target (no SRV records, or only ".")' });
  if (issues.length > 0) return { issues };

  const endpoints: RegistryEntry['endpoints'] = {};
  for (const t of targets) {
    const host = t.target.replace(/\.$/, '');
    const hostPart = host.includes(':') ? `[${host}]` : host;
    endpoints[`${host}:${t.port}`] ??= { protocol, url: `${scheme}://${hostPart}:${t.port}${path}` };
  }
  const entry: RegistryEntry = { endpoints, priority: priority ?? (-targets[0]!.priority || 0) };
  addDescription(entry, (key) => txt.get(key));
  return { name, entry };
}
