/** Small JSON helpers shared by the engine. */

/** JSON with object keys sorted, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/**
 * The path of the first place where `value` nests deeper than `maxDepth`
 * containers, or undefined. Iterative, so a hostile document cannot blow the
 * stack while being checked.
 */
export function findTooDeep(value: unknown, maxDepth: number, root = ''): string | undefined {
  const stack: [unknown, number, string][] = [[value, 0, root]];
  while (stack.length > 0) {
    const [node, depth, path] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= maxDepth) return path || '(root)';
    if (Array.isArray(node)) {
      for (const [i, child] of node.entries()) stack.push([child, depth + 1, `${path}[${i}]`]);
    } else {
      for (const [k, child] of Object.entries(node))
        stack.push([child, depth + 1, path ? `${path}.${k}` : k]);
    }
  }
  return undefined;
}
