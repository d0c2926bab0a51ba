/**
 * Maps a `tools/call` result to a step result (DESIGN.md, MCP): the tool's
 * `structuredContent` when present; else the JSON value of its single text
 * item when that text parses as JSON; else the text (all text items joined).
 * `isError: true` is a step failure carrying the tool's message.
 */
import { ErrorCode, OrchestratorError } from '../engine/index.js';

/** The parts of a CallToolResult the mapping reads. */
export interface ToolResultLike {
  content?: ReadonlyArray<{ type: string; text?: string; [key: string]: unknown }>;
  structuredContent?: unknown;
  isError?: boolean;
}

/** Returns the step result, or throws ORCH_TOOL_ERROR for `isError`. */
export function mapToolResult(result: ToolResultLike, context: { mcp: string; tool: string }): unknown {
  if (result.isError) {
    const text = textOf(result) || 'the tool reported an error';
    throw new OrchestratorError(
      ErrorCode.ToolError,
      `tool '${context.tool}' of MCP '${context.mcp}' failed: ${text}`,
      {
        details: {
          mcp: context.mcp,
          tool: context.tool,
          ...(result.structuredContent !== undefined ? { structuredContent: result.structuredContent } : {}),
        },
      },
    );
  }
  if (result.structuredContent !== undefined && result.structuredContent !== null)
    return result.structuredContent;
  const content = result.content ?? [];
  const texts = content.filter((c) => c.type === 'text' && typeof c.text === 'string');
  if (texts.length === 1 && content.length === 1) {
    const text = texts[0]!.text!;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (texts.length > 0) return texts.map((c) => c.text).join('\n');
  // Images, audio, resources: hand the content blocks over as they are.
  return content.length > 0 ? content : null;
}

function textOf(result: ToolResultLike): string {
  return (result.content ?? [])
    .filter((c) => c.type === 'text' && typeof c.text === 'string')
    .map((c) => c.text)
    .join('\n')
    .slice(0, 2000);
}
