import { describe, expect, it } from 'vitest';
import { isOrchestratorError } from './errors.js';
import { compileExpression, compileTemplate, type ExpressionScope, isExpression } from './expressions.js';

const scope: ExpressionScope = {
  input: { phone: '+1555', tags: ['vip'], count: 3, nested: { ok: true } },
  steps: {
    get_contact: {
      status: 'completed',
      attempts: 1,
      result: { phone: '+1666', opted_in: true, items: [{ id: 1 }] },
    },
    check: { status: 'completed', attempts: 1, result: { is_premium: false } },
  },
  execution: { id: 'exec-1', workflow: { name: 'wf', version: '1' }, startedAt: '2026-01-01T00:00:00.000Z' },
};

async function evaluate(text: string): Promise<unknown> {
  const compiled = compileExpression(text, 'x');
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.issues));
  return compiled.value.evaluate(scope);
}

describe('expressions', () => {
  it('tells expressions from literals', () => {
    expect(isExpression('$input.phone')).toBe(true);
    expect(isExpression('$steps.a.result')).toBe(true);
    expect(isExpression('$execution.id')).toBe(true);
    expect(isExpression('$inputs.x')).toBe(false);
    expect(isExpression('Hello $input.name')).toBe(false);
    expect(isExpression('$now()')).toBe(false);
    expect(isExpression(42)).toBe(false);
  });

  it('keeps the type of a bare path (arrays stay arrays, objects stay objects)', async () => {
    expect(await evaluate('$input.tags')).toEqual(['vip']);
    expect(await evaluate('$input.count')).toBe(3);
    expect(await evaluate('$input.nested')).toEqual({ ok: true });
    expect(await evaluate('$steps.get_contact.result.items[0].id')).toBe(1);
    expect(await evaluate('$steps.missing.result.x')).toBeUndefined();
    expect(await evaluate('$execution.workflow.name')).toBe('wf');
  });

  it('evaluates JSONata for anything richer', async () => {
    expect(await evaluate('$steps.get_contact.result.opted_in = true')).toBe(true);
    expect(await evaluate('$input.count * 2')).toBe(6);
    expect(await evaluate('$input.phone & "-" & $execution.id')).toBe('+1555-exec-1');
  });

  it('lists the steps an expression reads', () => {
    const compiled = compileExpression('$steps.a.result.x = 1 and $count($steps.b.result) > 0', 'p');
    expect(compiled.ok && [...compiled.value.references].sort()).toEqual(['a', 'b']);
    const bare = compileExpression('$steps.c.result', 'p');
    expect(bare.ok && [...bare.value.references]).toEqual(['c']);
  });

  it('rejects an expression that does not compile, naming path and position', () => {
    const compiled = compileExpression('$steps.a.result.(', 'steps[1].params.to');
    expect(compiled.ok).toBe(false);
    if (!compiled.ok) {
      expect(compiled.issues[0]!.path).toBe('steps[1].params.to');
      expect(compiled.issues[0]!.message).toMatch(
        /^invalid expression '\$steps\.a\.result\.\(': .+ at position \d+$/,
      );
    }
  });

  it('reports a runtime failure as ORCH_EXPRESSION_ERROR with the path', async () => {
    const compiled = compileExpression('$input.phone + 1', 'steps[0].params.n');
    if (!compiled.ok) throw new Error('unexpected');
    const error = await compiled.value.evaluate(scope).catch((e: unknown) => e);
    expect(isOrchestratorError(error, 'ORCH_EXPRESSION_ERROR')).toBe(true);
    expect((error as Error).message).toContain('steps[0].params.n');
  });
});

describe('templates', () => {
  it('evaluates expressions inside nested objects and arrays, keeping literals', async () => {
    const compiled = compileTemplate(
      {
        to: '$steps.get_contact.result.phone',
        tags: ['$input.tags', 'static'],
        meta: { n: '$input.count', fixed: 1 },
      },
      'params',
    );
    if (!compiled.ok) throw new Error('unexpected');
    expect(await compiled.value.evaluate(scope)).toEqual({
      to: '+1666',
      tags: [['vip'], 'static'],
      meta: { n: 3, fixed: 1 },
    });
    expect([...compiled.value.references]).toEqual(['get_contact']);
  });

  it('returns the literal itself when nothing is an expression', async () => {
    const literal = { a: 1, b: ['x'] };
    const compiled = compileTemplate(literal, 'params');
    expect(compiled.ok && compiled.value.constant).toBe(true);
    expect(compiled.ok && (await compiled.value.evaluate(scope))).toBe(literal);
  });

  it('collects every bad expression with its path', () => {
    const compiled = compileTemplate({ a: '$input.(', b: ['$steps.x.result +'] }, 'steps[3].params');
    expect(compiled.ok ? [] : compiled.issues.map((i) => i.path)).toEqual([
      'steps[3].params.a',
      'steps[3].params.b[0]',
    ]);
  });
});
