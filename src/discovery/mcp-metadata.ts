/**
 * The MCP metadata that DNS-SD TXT keys (dns, multicast) and Kubernetes
 * annotations share: name, path, protocol, scheme, priority, version, tools
 * and capabilities, read and checked alike, so both kinds of source refuse
 * the same values in the same words. Each caller names where a value came
 * from through `problem(key, message)`.
 */
import type { RegistryEntry } from './registry-loader.js';
import { MCP_NAME_PATTERN } from './registry-schema.js';

export const PROTOCOLS = ['http', 'streamable-http'] as const;
export const SCHEMES = ['http', 'https'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
export type Scheme = (typeof SCHEMES)[number];

/** Reports a bad value of `key`. */
export type Problem = (key: string, message: string) => void;

const NAME = new RegExp(MCP_NAME_PATTERN);

export function checkName(name: string, problem: Problem): void {
  if (!NAME.test(name) || name.length > 200)
    problem('name', `'${name}' is not a valid MCP name (letters, digits, '.', '_' and '-')`);
}

export function checkPath(path: string, problem: Problem): void {
  if (!path.startsWith('/')) problem('path', `expected a path starting with '/', got '${path}'`);
}

export function checkProtocol(value: string, problem: Problem): Protocol {
  if (!(PROTOCOLS as readonly string[]).includes(value))
    problem('protocol', `expected one of ${PROTOCOLS.join(', ')}, got '${value}'`);
  return value as Protocol;
}

export function checkScheme(value: string, problem: Problem): Scheme {
  if (!(SCHEMES as readonly string[]).includes(value))
    problem('scheme', `expected one of ${SCHEMES.join(', ')}, got '${value}'`);
  return value as Scheme;
}

/** The priority `text` says, undefined when unset. */
export function checkPriority(text: string | undefined, problem: Problem): number | undefined {
  const priority = text ? Number(text) : undefined;
  if (priority !== undefined && !Number.isSafeInteger(priority))
    problem('priority', `expected an integer, got '${text}'`);
  return priority;
}

/** Sets `version`, `tools` and `capabilities` (comma lists, duplicates dropped) from `read`, when given. */
export function addDescription(entry: RegistryEntry, read: (key: string) => string | undefined): void {
  const version = read('version');
  if (version) entry.version = version;
  const tools = commaList(read('tools'));
  if (tools) entry.tools = tools;
  const capabilities = commaList(read('capabilities'));
  if (capabilities) entry.capabilities = capabilities;
}

function commaList(value: string | undefined): string[] | undefined {
  const items = [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  return items.length > 0 ? items : undefined;
}
