import { describe, expect, it } from 'vitest';
import type { OrchestratorError } from './errors.js';
import type { McpInfo, McpLookup } from './ports.js';
import { WorkflowCompiler } from './workflow-compiler.js';

const lookup: McpLookup = {
  getMcp(name: string): McpInfo | undefined {
    const mcps: Record<string, McpInfo> = {
      contacts: {
        name: 'contacts',
        status: 'active',
        tools: [{ name: 'get_contact' }, { name: 'delete_contact' }],
      },
      sms: { name: 'sms', status: 'active', tools: [{ name: 'send' }, { name: 'send_cancellation_notice' }] },
      unlisted: { name: 'unlisted', status: 'active' },
    };
    return mcps[name];
  },
  hasCapability: (cap) => cap === 'contacts',
};

const seed = {
  name: 'send_coached_sms',
  version: '1.0.0',
  steps: [
    { name: 'get_contact', mcp: 'contacts', action: 'get_contact', params: { phone: '$input.phone' } },
    {
      name: 'send_sms',
      mcp: 'sms',
      action: 'send',
      params: { to: '$steps.get_contact.result.phone' },
      compensation: { action: 'send_cancellation_notice', params: { to: '$steps.get_contact.result.phone' } },
    },
  ],
};

async function issuesOf(
  definition: unknown,
  compiler = new WorkflowCompiler(),
): Promise<{ path: string; message: string }[]> {
  try {
    await compiler.compile(definition, lookup);
  } catch (error) {
    const e = error as OrchestratorError;
    expect(e.code).toBe('ORCH_WORKFLOW_INVALID');
    return e.errors ?? [];
  }
  throw new Error('expected the definition to be rejected');
}

function withStep(index: number, patch: Record<string, unknown>) {
  const steps = seed.steps.map((s, i) => (i === index ? { ...s, ...patch } : s));
  return { ...seed, steps };
}

describe('WorkflowCompiler', () => {
  it('compiles the seed workflow with defaults', async () => {
    const compiled = await new WorkflowCompiler().compile(seed, lookup);
    expect(compiled.steps.map((s) => s.name)).toEqual(['get_contact', 'send_sms']);
    expect(compiled.steps[1]!.dependencies).toEqual([0]);
    expect(compiled.steps[1]!.compensation?.target).toEqual({ mcp: 'sms', tool: 'send_cancellation_notice' });
    expect(compiled.steps[1]!.compensation?.policy.retries).toBe(3);
    // No timeout of its own: the MCP's (or the engine default) applies at run time.
    expect(compiled.steps[0]!.policy).toEqual({ retries: 0, initialDelayMs: 200, maxDelayMs: 30_000 });
    expect(compiled.timeoutMs).toBe(300_000);
  });

  it('names schema problems by path', async () => {
    const issues = await issuesOf({
      name: 'bad name!',
      version: '1',
      steps: [
        { name: 'a', mcp: 'contacts', action: 'get_contact', retries: -1 },
        { name: 'b', mcp: 'contacts', action: 'get_contact', dependsOn: ['a', 7], colour: 'red' },
        { name: '2x', mcp: 'contacts' },
      ],
    });
    expect(issues).toEqual([
      { path: 'name', message: 'must match the pattern ^[A-Za-z0-9_.-]+$' },
      { path: 'steps[0].retries', message: 'must be >= 0' },
      { path: 'steps[1].colour', message: 'is not an allowed property' },
      { path: 'steps[1].dependsOn[1]', message: 'must be string' },
      { path: 'steps[2].action', message: 'is required' },
      { path: 'steps[2].name', message: 'must match the pattern ^[A-Za-z_][A-Za-z0-9_]*$' },
    ]);
  });

  it('requires name, version and at least one step', async () => {
    expect(await issuesOf({ steps: [] })).toEqual([
      { path: 'name', message: 'is required' },
      { path: 'version', message: 'is required' },
      { path: 'steps', message: 'must NOT have fewer than 1 items' },
    ]);
  });

  it('enforces MAX_WORKFLOW_STEPS and the nesting limit', async () => {
    const compiler = new WorkflowCompiler({ maxSteps: 2 });
    const three = { ...seed, steps: [...seed.steps, { name: 'c', mcp: 'sms', action: 'send' }] };
    expect(await issuesOf(three, compiler)).toEqual([
      { path: 'steps', message: 'must NOT have more than 2 items' },
    ]);

    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const issues = await issuesOf(withStep(0, { params: deep }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toBe('nests deeper than 32 levels');
    expect(issues[0]!.path).toMatch(/^steps\[0\]\.params\.d\.d/);
  });

  it('reports graph problems naming the step', async () => {
    expect(await issuesOf(withStep(1, { dependsOn: ['get_contact', 'ghost'] }))).toEqual([
      { path: 'steps[1].dependsOn[1]', message: "step 'send_sms' depends on unknown step 'ghost'" },
    ]);
    expect(await issuesOf(withStep(0, { dependsOn: ['send_sms'] }))).toEqual([
      { path: 'steps[0].dependsOn', message: 'dependency cycle: get_contact -> send_sms -> get_contact' },
    ]);
  });

  it('rejects expressions that do not compile or read unknown or unordered steps', async () => {
    expect(await issuesOf(withStep(1, { params: { to: '$steps.nobody.result' } }))).toEqual([
      { path: 'steps[1].params.to', message: "step 'send_sms' references unknown step 'nobody'" },
    ]);
    const parallel = withStep(1, { parallel: true });
    expect(await issuesOf(parallel)).toEqual([
      {
        path: 'steps[1].params.to',
        message:
          "step 'send_sms' references step 'get_contact', which is not among its dependencies (add it to dependsOn)",
      },
    ]);
    expect(await issuesOf(withStep(1, { condition: '$steps.get_contact.result.opted_in = ' }))).toEqual([
      {
        path: 'steps[1].condition',
        message:
          "invalid expression '$steps.get_contact.result.opted_in =': Unexpected end of expression at position 36",
      },
    ]);
  });

  it('checks MCPs, tools and capabilities through the lookup port', async () => {
    expect(await issuesOf(withStep(0, { mcp: 'nowhere' }))).toEqual([
      { path: 'steps[0].mcp', message: "step 'get_contact' uses unknown MCP 'nowhere'" },
    ]);
    expect(await issuesOf(withStep(0, { action: 'get_kontact' }))).toEqual([
      { path: 'steps[0].action', message: "step 'get_contact': MCP 'contacts' has no tool 'get_kontact'" },
    ]);
    expect(await issuesOf(withStep(0, { mcp: undefined, capability: 'payments' }))).toEqual([
      { path: 'steps[0].capability', message: "step 'get_contact': no MCP offers capability 'payments'" },
    ]);
    expect(await issuesOf(withStep(0, { mcp: undefined }))).toEqual([
      { path: 'steps[0].mcp', message: "step 'get_contact' needs an mcp or a capability" },
    ]);
    expect(await issuesOf(withStep(1, { compensation: { mcp: 'contacts', action: 'undo' } }))).toEqual([
      {
        path: 'steps[1].compensation.action',
        message: "compensation of step 'send_sms': MCP 'contacts' has no tool 'undo'",
      },
    ]);
    // An MCP that lists no tools is not checked for them; a known capability passes.
    await new WorkflowCompiler().compile(withStep(0, { mcp: 'unlisted', action: 'anything' }), lookup);
    await new WorkflowCompiler().compile(withStep(0, { mcp: undefined, capability: 'contacts' }), lookup);
  });

  it('validates execution input against the workflow input schema with paths from the request root', async () => {
    const compiler = new WorkflowCompiler();
    const compiled = await compiler.compile(
      {
        ...seed,
        input: {
          type: 'object',
          required: ['phone'],
          properties: { phone: { type: 'string', pattern: '^\\+' } },
        },
      },
      lookup,
    );
    expect(() => compiler.validateInput(compiled, { phone: '+1555' })).not.toThrow();
    let error: OrchestratorError | undefined;
    try {
      compiler.validateInput(compiled, { phone: 5 });
    } catch (e) {
      error = e as OrchestratorError;
    }
    expect(error?.code).toBe('ORCH_INPUT_INVALID');
    expect(error?.errors).toEqual([{ path: 'input.phone', message: 'must be string' }]);
    expect(await issuesOf({ ...seed, input: { type: 'nonsense' } })).toEqual([
      { path: 'input', message: expect.stringMatching(/^is not a valid JSON Schema/) },
    ]);
  });
});
