import { describe, expect, it } from 'vitest';
import type { OrchestratorError } from '../engine/index.js';
import { mapToolResult } from './result-mapping.js';

const ctx = { mcp: 'm', tool: 't' };

describe('mapToolResult', () => {
  it('prefers structuredContent, then the JSON of a single text item, then the text', () => {
    expect(
      mapToolResult({ structuredContent: { a: 1 }, content: [{ type: 'text', text: '{"b":2}' }] }, ctx),
    ).toEqual({ a: 1 });
    expect(mapToolResult({ content: [{ type: 'text', text: '{"b":[2]}' }] }, ctx)).toEqual({ b: [2] });
    expect(mapToolResult({ content: [{ type: 'text', text: '42' }] }, ctx)).toBe(42);
    expect(mapToolResult({ content: [{ type: 'text', text: 'hello there' }] }, ctx)).toBe('hello there');
    expect(
      mapToolResult(
        {
          content: [
            { type: 'text', text: 'a' },
            { type: 'text', text: '{"x":1}' },
          ],
        },
        ctx,
      ),
    ).toBe('a\n{"x":1}');
    const image = { type: 'image', data: 'AAAA', mimeType: 'image/png' };
    expect(mapToolResult({ content: [image] }, ctx)).toEqual([image]);
    expect(mapToolResult({ content: [] }, ctx)).toBeNull();
  });

  it('turns isError into ORCH_TOOL_ERROR with the tool message', () => {
    let error: OrchestratorError | undefined;
    try {
      mapToolResult({ isError: true, content: [{ type: 'text', text: 'no such contact' }] }, ctx);
    } catch (e) {
      error = e as OrchestratorError;
    }
    expect(error?.code).toBe('ORCH_TOOL_ERROR');
    expect(error?.retryable).toBe(true);
    expect(error?.message).toBe("tool 't' of MCP 'm' failed: no such contact");
  });
});
