/**
 * Steps and dependencies of a workflow definition, by the engine's own rule
 * (src/engine/dag.ts: groups, `parallel`, `dependsOn`), so the graph the
 * console draws is the one the engine runs.
 */
import { buildDag } from '../../../src/engine/dag.js';
import type { StepDefinition, WorkflowDefinition } from '../api/types.js';

/** A step as a node. */
export interface GraphNode {
  name: string;
  /** What it calls: `mcp · action`. */
  detail: string;
}

/** `to` runs after `from`. */
export interface GraphEdge {
  from: string;
  to: string;
}

/** Nodes in written order, and their edges. */
export interface WorkflowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/**
 * The graph of `definition`; `stepNames` adds steps it lacks (an execution
 * of another version than the one registered now), as nodes without edges.
 */
export function workflowGraph(
  definition: WorkflowDefinition | undefined,
  stepNames: readonly string[] = [],
): WorkflowGraph {
  const steps = definition?.steps ?? [];
  const nodes: GraphNode[] = steps.map((step) => ({ name: step.name, detail: detailOf(step) }));
  const edges: GraphEdge[] = [];
  const dag = buildDag(steps);
  if (dag.ok) {
    dag.dag.dependencies.forEach((deps, i) => {
      for (const d of deps) edges.push({ from: steps[d]!.name, to: steps[i]!.name });
    });
  }
  const known = new Set(nodes.map((n) => n.name));
  for (const name of stepNames) if (!known.has(name)) nodes.push({ name, detail: '' });
  return { nodes, edges };
}

function detailOf(step: StepDefinition): string {
  const target = step.mcp ?? (step.capability ? `capability ${step.capability}` : '');
  return target ? `${target} · ${step.action}` : step.action;
}
