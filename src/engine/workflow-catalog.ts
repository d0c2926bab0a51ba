/**
 * The registered workflows of an engine: the current version of each name,
 * and every compiled version an execution may still run on (also of names
 * unregistered since), kept in step with the store. Registrations run one at
 * a time, so two racing versions of one name never both win.
 */
import type { CompiledWorkflow } from './compiled-workflow.js';
import type { WorkflowDefinition } from './definition.js';
import { ErrorCode, OrchestratorError } from './errors.js';
import type { ExecutionStore } from './execution-store.js';
import { isoTime } from './iso-time.js';
import { parseWorkflowText } from './parse-workflow.js';
import type { Clock, McpLookup } from './ports.js';
import type { WorkflowCompiler } from './workflow-compiler.js';

/** A registered workflow, as listed. */
export interface WorkflowSummary {
  name: string;
  version: string;
  description?: string;
  steps: number;
  registeredAt: string;
}

/** Result of a registration. */
export interface RegisterResult {
  workflow: WorkflowSummary;
  /** False when the same name, version and content was registered already. */
  created: boolean;
}

/** The current version of a name. */
export interface Registered {
  compiled: CompiledWorkflow;
  registeredAt: string;
}

/** Options of {@link WorkflowCatalog}. */
export interface WorkflowCatalogOptions {
  store: ExecutionStore;
  compiler: WorkflowCompiler;
  clock: Clock;
  /** Checks steps against the MCPs when registering. */
  mcpLookup?: McpLookup | undefined;
  /** Tells other replicas that a name changed here. */
  announce(name: string): void;
}

/** Registered workflows and their compiled versions. */
export class WorkflowCatalog {
  private readonly current = new Map<string, Registered>();
  /** Compiled versions by `name@version`, also of unregistered names, for executions that use them. */
  private readonly versions = new Map<string, CompiledWorkflow>();
  private registrations: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: WorkflowCatalogOptions) {}

  /** How many names are registered. */
  get size(): number {
    return this.current.size;
  }

  /** Loads the current versions from the store (at start). */
  async load(): Promise<void> {
    for (const record of await this.options.store.listWorkflows()) {
      try {
        const compiled = await this.options.compiler.compile(record.definition);
        this.versions.set(versionKey(compiled), compiled);
        this.current.set(compiled.name, { compiled, registeredAt: record.registeredAt });
      } catch {
        // A stored definition this version can no longer read stays in the store, unused.
      }
    }
  }

  /**
   * Registers a definition (an object, or YAML/JSON text). The same name and
   * version with other content is a conflict; with the same content it is a
   * no-op. A new version becomes the current one.
   */
  register(definition: unknown): Promise<RegisterResult> {
    const next = this.registrations.then(() => this.registerNow(definition));
    this.registrations = next.catch(() => undefined);
    return next;
  }

  private async registerNow(definition: unknown): Promise<RegisterResult> {
    const raw = typeof definition === 'string' ? parseWorkflowText(definition) : definition;
    const compiled = await this.options.compiler.compile(raw, this.options.mcpLookup);
    const key = versionKey(compiled);
    const existing = this.versions.get(key) ?? (await this.storedVersion(compiled.name, compiled.version));
    if (existing && existing.canonical !== compiled.canonical) {
      throw new OrchestratorError(
        ErrorCode.WorkflowConflict,
        `workflow '${compiled.name}' version '${compiled.version}' is already registered with other content; bump the version`,
      );
    }
    const current = this.current.get(compiled.name);
    if (existing && current && versionKey(current.compiled) === key) {
      return { workflow: summary(current), created: false };
    }
    const registeredAt = isoTime(this.options.clock.now());
    await this.options.store.saveWorkflow({
      name: compiled.name,
      version: compiled.version,
      definition: compiled.definition,
      registeredAt,
    });
    this.versions.set(key, compiled);
    const registered = { compiled, registeredAt };
    this.current.set(compiled.name, registered);
    this.options.announce(compiled.name);
    // Not the current version before (new, re-registered after a delete, or an older one made current): created.
    return { workflow: summary(registered), created: true };
  }

  /** Takes a name's current version from the store, after another replica changed it. */
  refresh(name: string): Promise<void> {
    const next = this.registrations.then(async () => {
      const current = (await this.options.store.listWorkflows()).find((w) => w.name === name);
      if (!current) {
        this.current.delete(name);
        return;
      }
      const compiled =
        this.versions.get(versionKey(current)) ?? (await this.options.compiler.compile(current.definition));
      this.versions.set(versionKey(compiled), compiled);
      this.current.set(name, { compiled, registeredAt: current.registeredAt });
    });
    this.registrations = next.catch(() => undefined);
    return next.catch(() => undefined);
  }

  /** Unregisters every version of a name; executions keep the version they run on. */
  async unregister(name: string): Promise<boolean> {
    if (!this.current.has(name)) return false;
    await this.options.store.deleteWorkflow(name);
    this.current.delete(name);
    this.options.announce(name);
    return true;
  }

  /** The current version of a name. */
  registered(name: string): Registered | undefined {
    return this.current.get(name);
  }

  /** The current definition of a name. */
  get(name: string): (WorkflowSummary & { definition: WorkflowDefinition }) | undefined {
    const registered = this.current.get(name);
    return registered && { ...summary(registered), definition: registered.compiled.definition };
  }

  /**
   * One version of a name: the current one, or one it replaced (kept in the
   * store for the executions that ran on it). Undefined once unregistered.
   */
  async getVersion(
    name: string,
    version: string,
  ): Promise<(WorkflowSummary & { definition: WorkflowDefinition }) | undefined> {
    const current = this.current.get(name);
    if (current?.compiled.definition.version === version) return this.get(name);
    if (!current) return undefined;
    const record = await this.options.store.getWorkflowVersion(name, version);
    if (!record) return undefined;
    const { definition } = record;
    const out: WorkflowSummary & { definition: WorkflowDefinition } = {
      name: definition.name,
      version: definition.version,
      steps: definition.steps.length,
      registeredAt: record.registeredAt,
      definition,
    };
    if (definition.description !== undefined) out.description = definition.description;
    return out;
  }

  /** Every registered workflow (current versions), by name. */
  list(): WorkflowSummary[] {
    return [...this.current.values()].map(summary).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A compiled version already known here, if any. */
  known(workflow: { name: string; version: string }): CompiledWorkflow | undefined {
    return this.versions.get(versionKey(workflow));
  }

  /** A compiled version, from memory or from the store (an execution resumed on an older version). */
  async version(workflow: { name: string; version: string }): Promise<CompiledWorkflow | undefined> {
    return this.known(workflow) ?? (await this.storedVersion(workflow.name, workflow.version));
  }

  private async storedVersion(name: string, version: string): Promise<CompiledWorkflow | undefined> {
    const record = await this.options.store.getWorkflowVersion(name, version);
    if (!record) return undefined;
    const compiled = await this.options.compiler.compile(record.definition);
    this.versions.set(versionKey(compiled), compiled);
    return compiled;
  }
}

function versionKey(workflow: { name: string; version: string }): string {
  return `${workflow.name}@${workflow.version}`;
}

function summary(registered: Registered): WorkflowSummary {
  const { definition } = registered.compiled;
  const out: WorkflowSummary = {
    name: definition.name,
    version: definition.version,
    steps: definition.steps.length,
    registeredAt: registered.registeredAt,
  };
  if (definition.description !== undefined) out.description = definition.description;
  return out;
}
