/**
 * The step graph of a workflow (DESIGN.md, Workflows, "Ordering"): steps run
 * in the order written, each after the previous group; `parallel: true` joins
 * the group of the step before; `dependsOn` replaces the implicit edge with
 * exactly the named steps.
 */
import type { ValidationIssue } from './errors.js';

/** The part of a step the graph needs. */
export interface DagNode {
  name: string;
  parallel?: boolean;
  dependsOn?: readonly string[];
}

/** A checked graph over step indices. */
export interface Dag {
  /** Direct prerequisites of each step. */
  dependencies: number[][];
  /** Steps that list each step as a direct prerequisite. */
  dependents: number[][];
  /** Every transitive prerequisite of each step. */
  ancestors: Set<number>[];
  /** A topological order (prerequisites first, ties in written order). */
  order: number[];
}

/** Result of {@link buildDag}: the graph, or the problems that prevent it. */
export type DagResult = { ok: true; dag: Dag } | { ok: false; issues: ValidationIssue[] };

/** Builds and checks the graph: duplicate names, unknown `dependsOn`, cycles. */
export function buildDag(nodes: readonly DagNode[]): DagResult {
  const issues: ValidationIssue[] = [];
  const index = new Map<string, number>();
  nodes.forEach((node, i) => {
    const first = index.get(node.name);
    if (first === undefined) index.set(node.name, i);
    else
      issues.push({
        path: `steps[${i}].name`,
        message: `duplicate step name '${node.name}' (first used by steps[${first}])`,
      });
  });

  const dependencies: number[][] = [];
  let previousGroup: number[] = [];
  let currentGroup: number[] = [];
  nodes.forEach((node, i) => {
    if (i > 0 && !node.parallel) {
      previousGroup = currentGroup;
      currentGroup = [];
    }
    currentGroup.push(i);
    if (node.dependsOn === undefined) {
      dependencies.push([...previousGroup]);
      return;
    }
    const deps: number[] = [];
    node.dependsOn.forEach((name, j) => {
      const target = index.get(name);
      if (target === undefined) {
        issues.push({
          path: `steps[${i}].dependsOn[${j}]`,
          message: `step '${node.name}' depends on unknown step '${name}'`,
        });
      } else {
        deps.push(target);
      }
    });
    dependencies.push(deps);
  });
  if (issues.length > 0) return { ok: false, issues };

  const cycle = findCycle(dependencies);
  if (cycle) {
    const names = cycle.map((i) => nodes[i]!.name);
    return {
      ok: false,
      issues: [{ path: `steps[${cycle[0]}].dependsOn`, message: `dependency cycle: ${names.join(' -> ')}` }],
    };
  }

  const dependents: number[][] = nodes.map(() => []);
  dependencies.forEach((deps, i) => {
    for (const d of deps) dependents[d]!.push(i);
  });
  const order = topologicalOrder(dependencies, dependents);
  const ancestors: Set<number>[] = nodes.map(() => new Set<number>());
  for (const i of order) {
    for (const d of dependencies[i]!) {
      ancestors[i]!.add(d);
      for (const a of ancestors[d]!) ancestors[i]!.add(a);
    }
  }
  return { ok: true, dag: { dependencies, dependents, ancestors, order } };
}

/** Returns a cycle as a closed walk along dependency edges (`a -> b -> a`), if any. */
function findCycle(dependencies: number[][]): number[] | undefined {
  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const color = new Uint8Array(dependencies.length);
  const stack: number[] = [];
  // Iterative DFS: a 500-step chain must not overflow the call stack.
  for (let root = 0; root < dependencies.length; root++) {
    if (color[root] !== WHITE) continue;
    const cursor: number[] = [0];
    stack.push(root);
    color[root] = GREY;
    while (stack.length > 0) {
      const node = stack[stack.length - 1]!;
      const deps = dependencies[node]!;
      const k = cursor[cursor.length - 1]!;
      if (k < deps.length) {
        cursor[cursor.length - 1] = k + 1;
        const next = deps[k]!;
        if (color[next] === GREY) return [...stack.slice(stack.indexOf(next)), next];
        if (color[next] === WHITE) {
          color[next] = GREY;
          stack.push(next);
          cursor.push(0);
        }
      } else {
        color[node] = BLACK;
        stack.pop();
        cursor.pop();
      }
    }
  }
  return undefined;
}

/** Kahn's algorithm, taking ready steps in written order. */
function topologicalOrder(dependencies: number[][], dependents: number[][]): number[] {
  const remaining = dependencies.map((deps) => deps.length);
  const ready: number[] = [];
  remaining.forEach((count, i) => {
    if (count === 0) ready.push(i);
  });
  const order: number[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => a - b);
    const next = ready.shift()!;
    order.push(next);
    for (const d of dependents[next]!) {
      remaining[d]! -= 1;
      if (remaining[d] === 0) ready.push(d);
    }
  }
  return order;
}
