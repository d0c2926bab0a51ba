/**
 * `.dockerignore` as Docker reads it (moby/patternmatcher): patterns in
 * order, `!` lets a path back in, the last pattern that matches decides, and
 * a pattern matches a path when it matches the path or one of its parent
 * directories. `*` and `?` stop at `/`, `**` crosses directories.
 */
import { normalize } from 'node:path/posix';

interface Pattern {
  regex: RegExp;
  exclusion: boolean;
  text: string;
}

function toRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` is zero or more directories; a trailing `**` is anything.
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i);
      out += glob.slice(i, end + 1).replace('[!', '[^');
      i = end;
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** The patterns of a `.dockerignore` text. */
export function parseDockerignore(text: string): Pattern[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const exclusion = line.startsWith('!');
      const body = normalize((exclusion ? line.slice(1) : line).trim())
        .replace(/^\/+/, '')
        .replace(/\/$/, '');
      return { regex: toRegex(body), exclusion, text: line };
    });
}

/** Whether `path` (relative to the context, `/`-separated) is left out of the build context. */
export function isIgnored(patterns: Pattern[], path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const p of patterns) {
    if (candidates.some((c) => p.regex.test(c))) ignored = !p.exclusion;
  }
  return ignored;
}
