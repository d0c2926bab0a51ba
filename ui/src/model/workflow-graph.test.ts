import { describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../api/types.js';
import { layoutGraph } from './graph-layout.js';
import { workflowGraph } from './workflow-graph.js';

const definition: WorkflowDefinition = {
  name: 'w',
  version: '1',
  steps: [
    { name: 'root', mcp: 'm', action: 'a' },
    { name: 'x', capability: 'contacts', action: 'b' },
    { name: 'y', mcp: 'm', action: 'c', parallel: true },
    { name: 'last', mcp: 'm', action: 'd', dependsOn: ['root', 'x'] },
  ],
};

describe('workflowGraph', () => {
  it('draws the edges the engine runs by: groups, parallel and dependsOn', () => {
    const graph = workflowGraph(definition, ['root', 'old_step']);
    expect(graph.nodes.map((n) => [n.name, n.detail])).toEqual([
      ['root', 'm · a'],
      ['x', 'capability contacts · b'],
      ['y', 'm · c'],
      ['last', 'm · d'],
      ['old_step', ''],
    ]);
    expect(graph.edges).toEqual([
      { from: 'root', to: 'x' },
      { from: 'root', to: 'y' },
      { from: 'root', to: 'last' },
      { from: 'x', to: 'last' },
    ]);
  });

  it('is laid out top to bottom, each step below the steps it waits for', () => {
    const layout = layoutGraph(workflowGraph(definition).nodes, workflowGraph(definition).edges);
    const y = Object.fromEntries(layout.nodes.map((n) => [n.name, n.y]));
    expect(y.root).toBeLessThan(y.x!);
    expect(y.x).toBe(y.y);
    expect(y.x).toBeLessThan(y.last!);
    expect(layout.edges.every((e) => e.points.length >= 2)).toBe(true);
    for (const n of layout.nodes) expect(n.x + n.width / 2).toBeLessThanOrEqual(layout.width);
  });
});
