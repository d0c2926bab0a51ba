/** Errors the store adapters raise, with the engine's stable codes. */
import { ErrorCode, OrchestratorError, type WorkflowRecord } from '../engine/index.js';

/** The same name and version is stored with other content. */
export function workflowConflict(record: Pick<WorkflowRecord, 'name' | 'version'>): OrchestratorError {
  return new OrchestratorError(
    ErrorCode.WorkflowConflict,
    `workflow '${record.name}' version '${record.version}' is already registered with other content; bump the version`,
  );
}
