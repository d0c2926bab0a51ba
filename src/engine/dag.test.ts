import { describe, expect, it } from 'vitest';
import { buildDag, type DagNode } from './dag.js';

function deps(nodes: DagNode[]): Record<string, string[]> {
  const result = buildDag(nodes);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return Object.fromEntries(
    nodes.map((n, i) => [n.name, result.dag.dependencies[i]!.map((d) => nodes[d]!.name)]),
  );
}

describe('buildDag ordering', () => {
  it('runs steps in written order, each after the previous group', () => {
    expect(deps([{ name: 'a' }, { name: 'b' }, { name: 'c' }])).toEqual({ a: [], b: ['a'], c: ['b'] });
  });

  it('joins parallel steps to the group before them', () => {
    const d = deps([
      { name: 'a' },
      { name: 'b', parallel: true },
      { name: 'c' },
      { name: 'd', parallel: true },
      { name: 'e' },
    ]);
    expect(d).toEqual({ a: [], b: [], c: ['a', 'b'], d: ['a', 'b'], e: ['c', 'd'] });
  });

  it('lets dependsOn replace the implicit edge exactly', () => {
    const d = deps([
      { name: 'get_contact' },
      { name: 'get_coach_info', parallel: true },
      { name: 'audit' },
      { name: 'send_sms', dependsOn: ['get_contact', 'get_coach_info'] },
      { name: 'independent', dependsOn: [] },
    ]);
    expect(d.send_sms).toEqual(['get_contact', 'get_coach_info']);
    expect(d.audit).toEqual(['get_contact', 'get_coach_info']);
    expect(d.independent).toEqual([]);
  });

  it('computes ancestors and a topological order', () => {
    const nodes: DagNode[] = [
      { name: 'a' },
      { name: 'b' },
      { name: 'c', dependsOn: ['a'] },
      { name: 'd', dependsOn: ['c', 'b'] },
    ];
    const result = buildDag(nodes);
    if (!result.ok) throw new Error('unexpected');
    expect([...result.dag.ancestors[3]!].sort()).toEqual([0, 1, 2]);
    expect(result.dag.order).toEqual([0, 1, 2, 3]);
    expect(result.dag.dependents[0]).toEqual([1, 2]);
  });
});

describe('buildDag errors', () => {
  it('reports duplicate names with both places', () => {
    const result = buildDag([{ name: 'a' }, { name: 'b' }, { name: 'a' }]);
    expect(result).toEqual({
      ok: false,
      issues: [{ path: 'steps[2].name', message: "duplicate step name 'a' (first used by steps[0])" }],
    });
  });

  it('reports unknown dependsOn with its exact path', () => {
    const result = buildDag([{ name: 'a' }, { name: 'b' }, { name: 'c', dependsOn: ['a', 'nope'] }]);
    expect(result).toEqual({
      ok: false,
      issues: [{ path: 'steps[2].dependsOn[1]', message: "step 'c' depends on unknown step 'nope'" }],
    });
  });

  it('prints a cycle', () => {
    const result = buildDag([
      { name: 'a', dependsOn: ['b'] },
      { name: 'b', dependsOn: ['a'] },
    ]);
    expect(result).toEqual({
      ok: false,
      issues: [{ path: 'steps[0].dependsOn', message: 'dependency cycle: a -> b -> a' }],
    });
  });

  it('prints a longer cycle through implicit edges and a self-dependency', () => {
    const longer = buildDag([{ name: 'a', dependsOn: ['c'] }, { name: 'b' }, { name: 'c' }]);
    expect(longer.ok ? '' : longer.issues[0]!.message).toBe('dependency cycle: a -> c -> b -> a');
    const self = buildDag([{ name: 'a', dependsOn: ['a'] }]);
    expect(self.ok ? '' : self.issues[0]!.message).toBe('dependency cycle: a -> a');
  });

  it('handles a 500-step chain without recursion limits', () => {
    const nodes = Array.from({ length: 500 }, (_, i) => ({ name: `s${i}` }));
    const result = buildDag(nodes);
    expect(result.ok && result.dag.ancestors[499]!.size).toBe(499);
  });
});
