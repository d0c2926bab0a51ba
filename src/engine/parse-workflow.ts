/**
 * Parses workflow text (YAML or JSON) into a plain value. YAML is a superset
 * of JSON, so one parser reads both; syntax errors carry line and column.
 */
import { parse, YAMLParseError } from 'yaml';
import { workflowInvalid } from './errors.js';

/** Parses YAML or JSON text; throws ORCH_WORKFLOW_INVALID with the position of a syntax error. */
export function parseWorkflowText(text: string, source = 'workflow'): unknown {
  try {
    // maxAliasCount guards against alias bombs ("billion laughs").
    return parse(text, { prettyErrors: true, maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const pos = error.linePos?.[0];
      const where = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
      const reason = error.message.split('\n')[0] ?? error.message;
      throw workflowInvalid([
        { path: '', message: `${source} is not valid YAML or JSON${where}: ${reason}` },
      ]);
    }
    throw error;
  }
}
