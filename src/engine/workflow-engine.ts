/**
 * The engine: registered workflows, the execution queue and its limits, and
 * the library API of DESIGN.md. It depends only on its ports (store, step
 * caller, MCP lookup, clock, file reader); `main.ts` and the
 * `OrchestrationEngine` facade wire real adapters in.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { bulkhead } from 'cockatiel';
import { CallRunner } from './call-runner.js';
import type { ChangeBus } from './change-bus.js';
import type { CompiledWorkflow } from './compiled-workflow.js';
import type { WorkflowDefinition } from './definition.js';
import { ErrorCode, OrchestratorError } from './errors.js';
import type { EngineEventMap } from './events.js';
import { type ExecutionDocument, toExecutionDocument } from './execution-document.js';
import { ExecutionRun } from './execution-run.js';
import type { ExecutionQuery, ExecutionRecord, ExecutionStore } from './execution-store.js';
import { uuidv7 } from './ids.js';
import { isoTime } from './iso-time.js';
import { canonicalJson } from './json.js';
import { parseWorkflowText } from './parse-workflow.js';
import { type Clock, type McpLookup, type StepCaller, systemClock } from './ports.js';
import type { RunEnvironment } from './run-environment.js';
import { ExecutionStatus, isFinalExecutionStatus } from './statuses.js';
import { type RegisterResult, WorkflowCatalog, type WorkflowSummary } from './workflow-catalog.js';
import { WorkflowCompiler, type WorkflowCompilerOptions } from './workflow-compiler.js';

/** How often a wait for an execution given up to another replica asks the store, ms. */
const FOLLOW_POLL_MS = 500;

/** Options of {@link WorkflowEngine}. */
export interface WorkflowEngineOptions extends WorkflowCompilerOptions {
  store: ExecutionStore;
  stepCaller: StepCaller;
  /** Checks MCPs, tools and capabilities at registration; without it they are not checked. */
  mcpLookup?: McpLookup;
  clock?: Clock;
  /** Reads a workflow file for {@link WorkflowEngine.loadWorkflowFromFile}. */
  readFile?: (path: string) => Promise<string>;
  /** Owner recorded on running executions (`INSTANCE_ID`). */
  instanceId?: string;
  /** `MAX_CONCURRENT_WORKFLOWS` (100). */
  maxConcurrentWorkflows?: number;
  /** `MAX_QUEUED_WORKFLOWS` (1000). */
  maxQueuedWorkflows?: number;
  /** `MAX_CONCURRENT_STEPS` (50): tool calls in flight across all executions. */
  maxConcurrentSteps?: number;
  /** Per-attempt step timeout when neither the step nor its MCP sets one, ms (30000). */
  defaultStepTimeoutMs?: number;
  /** Tells other replicas sharing the store about registrations, and hears theirs. */
  changeBus?: ChangeBus;
  /**
   * How long a replica's claim on an execution lasts without renewal, ms
   * (30000; `LEASE_DURATION`). Only stores that lease (PostgreSQL) use it:
   * leases are renewed every third of it, and executions whose lease ran out
   * are taken over by a replica with free capacity.
   */
  leaseMs?: number;
  /** New execution ids (UUIDv7 by default). */
  idGenerator?: (now: number) => string;
}

/** Options of one execution start. */
export interface StartOptions {
  /** Same key and same request: the existing execution is returned instead of a new one. */
  idempotencyKey?: string;
}

/** Result of {@link WorkflowEngine.startWorkflow}. */
export interface StartResult {
  execution: ExecutionDocument;
  /** True when an earlier execution with the same idempotency key was returned. */
  replayed: boolean;
}

export type { RegisterResult, WorkflowSummary } from './workflow-catalog.js';

/** Figures of {@link WorkflowEngine.getMetrics}. */
export interface EngineMetrics {
  /** Executions started by this engine since it was created. */
  totalWorkflows: number;
  activeWorkflows: number;
  queuedWorkflows: number;
  completedWorkflows: number;
  /** Ended failed, compensated, compensation_failed or timed_out. */
  failedWorkflows: number;
  cancelledWorkflows: number;
  /** Mean duration of finished executions, ms (0 before the first). */
  avgExecutionTime: number;
  registeredWorkflows: number;
  /** MCPs the lookup port reports healthy (0 without one). */
  healthyMcpClients: number;
}

interface Active {
  run: ExecutionRun;
  /** Left unfinished by an earlier process: resumed rather than started. */
  resume?: boolean;
  done: Promise<ExecutionRecord>;
  resolve?: (record: ExecutionRecord) => void;
}

/** Runs workflows as DAGs of tool calls with retries, timeouts, limits and saga rollback. */
export class WorkflowEngine extends EventEmitter<EngineEventMap> {
  private readonly store: ExecutionStore;
  private readonly clock: Clock;
  private readonly compiler: WorkflowCompiler;
  private readonly env: RunEnvironment;
  private readonly catalog: WorkflowCatalog;
  private readonly active = new Map<string, Active>();
  private readonly queue: string[] = [];
  /** Starts past the capacity check but not yet queued, so concurrent starts cannot overfill the queue. */
  private reserved = 0;
  private stopListening: (() => Promise<void>) | undefined;
  private queueHead = 0;
  private running = 0;
  private draining = false;
  private leaseTimer: NodeJS.Timeout | undefined;
  private leaseTick: Promise<void> = Promise.resolve();
  private leaseTicking = false;
  private closed = false;
  private readonly limits: { workflows: number; queued: number };
  private readonly counters = {
    started: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    finished: 0,
    totalDurationMs: 0,
  };

  constructor(private readonly options: WorkflowEngineOptions) {
    super();
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.compiler = new WorkflowCompiler(options);
    this.catalog = new WorkflowCatalog({
      store: this.store,
      compiler: this.compiler,
      clock: this.clock,
      mcpLookup: options.mcpLookup,
      announce: (name) => this.announce(name),
    });
    this.limits = {
      workflows: options.maxConcurrentWorkflows ?? 100,
      queued: options.maxQueuedWorkflows ?? 1000,
    };
    this.env = {
      store: this.store,
      caller: options.stepCaller,
      clock: this.clock,
      calls: new CallRunner({
        bulkhead: bulkhead(options.maxConcurrentSteps ?? 50, Number.POSITIVE_INFINITY),
      }),
      instanceId: options.instanceId ?? 'local',
      defaultStepTimeoutMs: options.defaultStepTimeoutMs ?? 30_000,
      emit: (name, ...args) => {
        this.emit(name, ...(args as never));
      },
    };
  }

  /** The JSON Schema definitions are validated against. */
  get workflowSchema() {
    return this.compiler.schema;
  }

  /**
   * Loads the registered workflows from the store. Their MCPs are not
   * re-checked: a workflow accepted once stays runnable across restarts even
   * while an MCP is briefly missing from discovery.
   */
  async initialize(): Promise<void> {
    await this.catalog.load();
    if (this.options.changeBus) {
      this.stopListening = await this.options.changeBus.subscribe((change) => {
        if (change.origin === this.env.instanceId) return;
        if (change.kind === 'workflow') void this.catalog.refresh(change.name);
        else if (change.kind === 'cancel' && this.active.has(change.executionId))
          void this.cancelWorkflow(change.executionId, change.reason).catch(() => undefined);
      });
    }
    await this.recover();
    if (this.store.claimExecutions && this.store.renewLeases) {
      const every = Math.max(50, Math.floor(this.leaseMs / 3));
      this.leaseTimer = setInterval(() => {
        // A slow database must not stack ticks on top of each other: skip while one runs.
        if (this.leaseTicking) return;
        this.leaseTicking = true;
        this.leaseTick = this.keepLeases()
          .catch(() => undefined)
          .finally(() => {
            this.leaseTicking = false;
          });
      }, every);
      this.leaseTimer.unref();
    }
  }

  /**
   * Stops hearing other replicas' changes and stops renewing leases. On a
   * shared store, executions still here (a drain that timed out) are given
   * up and their leases released, so another replica resumes them at once
   * instead of after the lease.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.leaseTimer);
    this.leaseTimer = undefined;
    await this.leaseTick;
    if (this.store.releaseLeases) {
      const held = this.heldLeases();
      for (const id of held) this.active.get(id)?.run.abandon();
      await this.store.releaseLeases(this.env.instanceId, held).catch(() => undefined);
    }
    await this.stopListening?.();
    this.stopListening = undefined;
  }

  /** Executions here whose lease this replica still holds (not yet given up). */
  private heldLeases(): string[] {
    return [...this.active].filter(([, a]) => !a.run.isAbandoned).map(([id]) => id);
  }

  private get leaseMs(): number {
    return this.options.leaseMs ?? 30_000;
  }

  /**
   * Renews the leases on what runs here and gives up those another replica
   * took (this process stalled past its lease); then, with capacity to
   * spare, takes over executions whose lease ran out (their replica died).
   */
  private async keepLeases(): Promise<void> {
    const store = this.store;
    if (!store.renewLeases || !store.claimExecutions) return;
    const renewal = await store.renewLeases(this.env.instanceId, this.heldLeases(), this.leaseMs);
    for (const { id, reason } of renewal.cancelled) {
      // Stored by another replica whose notification did not get here (or came before the claim).
      const active = this.active.get(id);
      if (active && active.run.record.cancelReason === undefined)
        await this.cancelWorkflow(id, reason).catch(() => undefined);
    }
    for (const id of renewal.lost) {
      const active = this.active.get(id);
      // Gone or finished meanwhile: finishing clears the owner, which is not a lost lease.
      if (!active || active.run.isAbandoned || isFinalExecutionStatus(active.run.record.status)) continue;
      active.run.abandon();
      this.emit('execution_abandoned', { executionId: id, instanceId: this.env.instanceId });
      if (this.removeFromQueue(id)) this.settle(id, active);
      // A running one settles when its steps have stopped.
    }
    if (this.draining || !this.leaseTimer) return;
    const free = this.limits.workflows - this.running - this.queueLength;
    if (free <= 0) return;
    // Orphans first; then help replicas whose queue is longer than they can run.
    const claimed = await store.claimExecutions({
      owner: this.env.instanceId,
      limit: free,
      leaseMs: this.leaseMs,
      own: false,
      queued: true,
    });
    // A drain began meanwhile: hand them straight back.
    if (this.draining || !this.leaseTimer) {
      await store.releaseLeases?.(
        this.env.instanceId,
        claimed.map((r) => r.id),
      );
      return;
    }
    await this.adopt(claimed);
  }

  private announce(name: string): void {
    void this.options.changeBus
      ?.publish({ kind: 'workflow', name, origin: this.env.instanceId })
      .catch(() => undefined);
  }

  /**
   * Resumes what an earlier process left unfinished (crash, kill -9, a drain
   * that timed out): executions that were running or compensating first,
   * then the queued ones, in the order they were created, within the
   * concurrency limit.
   */
  private async recover(): Promise<void> {
    if (this.store.claimExecutions) {
      // A shared store hands out what is this replica's (same INSTANCE_ID) or orphaned, never
      // what a live replica holds; the lease loop picks up the rest as capacity frees.
      const capacity = this.limits.workflows + this.limits.queued - this.active.size;
      await this.adopt(
        await this.store.claimExecutions({
          owner: this.env.instanceId,
          limit: capacity,
          leaseMs: this.leaseMs,
          own: true,
        }),
      );
      return;
    }
    // A shared store that cannot lease: another live replica may own an execution, so a
    // process resumes only what it owned itself.
    await this.adopt(
      (await this.store.listUnfinished()).filter(
        (r) => !this.store.shared || r.owner === this.env.instanceId,
      ),
    );
  }

  /** Resumes executions left unfinished elsewhere: running and compensating first, then queued. */
  private async adopt(unfinished: ExecutionRecord[]): Promise<void> {
    const order = (r: ExecutionRecord) => (r.status === ExecutionStatus.Queued ? 1 : 0);
    for (const record of unfinished.sort((a, b) => order(a) - order(b))) {
      if (this.active.has(record.id)) continue;
      const workflow = await this.catalog.version(record.workflow).catch(() => undefined);
      if (!workflow) {
        // Nothing to run it with: end it, saying why, rather than leave it hanging.
        await this.store.updateExecution(record.id, {
          status: ExecutionStatus.Failed,
          owner: null,
          completedAt: isoTime(this.clock.now()),
          error: {
            code: ErrorCode.WorkflowNotFound,
            message: `workflow '${record.workflow.name}' version '${record.workflow.version}' is not stored; cannot resume`,
          },
        });
        continue;
      }
      this.track(new ExecutionRun(this.env, workflow, record), true);
      this.queue.push(record.id);
      this.emit('execution_resumed', {
        executionId: record.id,
        instanceId: this.env.instanceId,
        status: record.status,
      });
    }
    this.admit();
  }

  /** How many executions were resumed or are waiting to be (for logs). */
  get resumedExecutions(): number {
    return [...this.active.values()].filter((a) => a.resume).length;
  }

  /**
   * Registers a definition (an object, or YAML/JSON text). The same name and
   * version with other content is a conflict; with the same content it is a
   * no-op. A new version becomes the current one; running executions keep
   * the version they started with.
   */
  registerWorkflow(definition: unknown): Promise<RegisterResult> {
    return this.catalog.register(definition);
  }

  /** Reads a YAML or JSON file and registers it. */
  async loadWorkflowFromFile(path: string): Promise<RegisterResult> {
    if (!this.options.readFile) {
      throw new OrchestratorError(
        ErrorCode.Internal,
        'this engine was built without a file reader (options.readFile)',
      );
    }
    const text = await this.options.readFile(path);
    return this.registerWorkflow(parseWorkflowText(text, path));
  }

  /** Unregisters every version of a name. Running executions finish on their version. */
  unregisterWorkflow(name: string): Promise<boolean> {
    return this.catalog.unregister(name);
  }

  /** The current definition of a name. */
  getWorkflow(name: string): (WorkflowSummary & { definition: WorkflowDefinition }) | undefined {
    return this.catalog.get(name);
  }

  /**
   * One version of a name: the current one, or one it replaced (kept in the
   * store for the executions that ran on it). Undefined once unregistered.
   */
  getWorkflowVersion(
    name: string,
    version: string,
  ): Promise<(WorkflowSummary & { definition: WorkflowDefinition }) | undefined> {
    return this.catalog.getVersion(name, version);
  }

  /** Every registered workflow (current versions), by name. */
  listWorkflows(): WorkflowSummary[] {
    return this.catalog.list();
  }

  /**
   * Starts an execution and returns at once with its document (`queued` or
   * `running`). Throws ORCH_WORKFLOW_NOT_FOUND, ORCH_INPUT_INVALID,
   * ORCH_QUEUE_FULL, ORCH_IDEMPOTENCY_CONFLICT or ORCH_SHUTTING_DOWN.
   */
  async startWorkflow(name: string, input: unknown = {}, options: StartOptions = {}): Promise<StartResult> {
    // A repeat gets its execution whatever has changed since: the queue, the workflow, a drain.
    const requestHash = options.idempotencyKey ? hashRequest(name, input) : undefined;
    if (options.idempotencyKey) {
      const live = this.liveReplay(options.idempotencyKey, requestHash!);
      if (live) return live;
      const stored = await this.store.findByIdempotencyKey(options.idempotencyKey);
      if (stored) return this.replayOf(stored, requestHash!);
    }
    if (this.draining) throw new OrchestratorError(ErrorCode.ShuttingDown, 'the engine is shutting down');
    const registered = this.catalog.registered(name);
    if (!registered)
      throw new OrchestratorError(ErrorCode.WorkflowNotFound, `workflow '${name}' is not registered`);
    const workflow = registered.compiled;
    this.compiler.validateInput(workflow, input);
    // Checked and reserved before the first await, so concurrent starts cannot overfill the queue.
    if (this.running + this.queueLength + this.reserved >= this.limits.workflows + this.limits.queued) {
      throw new OrchestratorError(
        ErrorCode.QueueFull,
        `the execution queue is full (${this.limits.queued} queued)`,
        {
          details: { retryAfterSeconds: this.retryAfterSeconds() },
        },
      );
    }
    const now = this.clock.now();
    const newRecord = (): ExecutionRecord => ({
      id: (this.options.idGenerator ?? uuidv7)(now),
      workflow: { name: workflow.name, version: workflow.version },
      status: ExecutionStatus.Queued,
      owner: this.env.instanceId,
      input,
      output: null,
      createdAt: isoTime(now),
      startedAt: null,
      completedAt: null,
      durationMs: null,
      deadlineAt: null,
      steps: {},
    });
    // Nothing waits and a slot is free: stored already running, its first writes in the same commit.
    if (
      this.store.ordered &&
      !options.idempotencyKey &&
      this.queueLength === 0 &&
      // A keyed start still inserting came first: it takes the next slot, not this one.
      this.reserved === 0 &&
      this.running < this.limits.workflows
    ) {
      return this.startAtOnce(workflow, newRecord());
    }
    this.reserved += 1;
    let record: ExecutionRecord;
    try {
      record = newRecord();
      if (options.idempotencyKey) {
        record.idempotencyKey = options.idempotencyKey;
        record.requestHash = requestHash!;
      }
      const created = await this.store.createExecution(record);
      if (!created.created) return this.replayOf(created.existing, requestHash!);
    } finally {
      this.reserved -= 1;
    }

    this.track(new ExecutionRun(this.env, workflow, record));
    this.queue.push(record.id);
    this.admit();
    return { execution: this.document(record, workflow), replayed: false };
  }

  /**
   * The fast start, for a store that keeps the order of writes: the record
   * is inserted `running`, and the run begins before the insert commits, so
   * the first steps' writes share its commit (one commit instead of three).
   * The run emits nothing and calls no tool before the insert has committed;
   * if the insert fails, the run is discarded and the caller gets the error.
   */
  private async startAtOnce(workflow: CompiledWorkflow, record: ExecutionRecord): Promise<StartResult> {
    const now = Date.parse(record.createdAt);
    Object.assign(record, {
      status: ExecutionStatus.Running,
      startedAt: record.createdAt,
      deadlineAt: isoTime(now + workflow.timeoutMs),
    });
    const inserted = this.store.createExecution(record).then((result) => {
      // Only a reused idempotency key conflicts, and the fast start is never given one.
      if (!result.created) throw new OrchestratorError(ErrorCode.Internal, `execution '${record.id}' exists`);
    });
    const run = new ExecutionRun(this.env, workflow, record);
    this.occupySlot(record.id, this.track(run), () => run.runInserted(inserted));
    await inserted;
    return { execution: this.document(record, workflow), replayed: false };
  }

  /** Starts an execution and waits for its final document (the seed's `executeWorkflow`). */
  async executeWorkflow(
    name: string,
    input: unknown = {},
    options: StartOptions = {},
  ): Promise<ExecutionDocument> {
    const { execution } = await this.startWorkflow(name, input, options);
    return (await this.waitForExecution(execution.id)) ?? execution;
  }

  /**
   * Waits until the execution is final, or `timeoutMs` passes (then resolves
   * with undefined). Resolves at once for a finished execution.
   */
  async waitForExecution(id: string, timeoutMs?: number): Promise<ExecutionDocument | undefined> {
    const active = this.active.get(id);
    if (!active) {
      const doc = await this.getWorkflowStatus(id);
      if (!doc) throw new OrchestratorError(ErrorCode.ExecutionNotFound, `execution '${id}' not found`);
      return isFinalExecutionStatus(doc.status) ? doc : undefined;
    }
    const done = active.done.then((record) => this.document(record));
    if (timeoutMs === undefined) return done;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<undefined>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, undefined);
    });
    try {
      return await Promise.race([done, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Cancels an execution: a queued one ends `cancelled` at once; a running
   * one stops its steps and rolls back. ORCH_EXECUTION_FINISHED when it
   * already ended.
   */
  async cancelWorkflow(id: string, reason = 'cancelled by request'): Promise<ExecutionDocument> {
    const active = this.active.get(id);
    // Given up to another replica but still stopping here: the cancel goes to the new owner.
    if (active?.run.isAbandoned) return this.cancelElsewhere(id, reason);
    if (!active) {
      const doc = await this.getWorkflowStatus(id);
      if (!doc) throw new OrchestratorError(ErrorCode.ExecutionNotFound, `execution '${id}' not found`);
      // Running on another replica. A compensating one is already rolling back: nothing to change.
      if (doc.status === ExecutionStatus.Compensating) return doc;
      if (!isFinalExecutionStatus(doc.status) && this.store.shared && this.options.changeBus)
        return this.cancelElsewhere(id, reason);
      throw new OrchestratorError(
        ErrorCode.ExecutionFinished,
        `execution '${id}' already ended as ${doc.status}`,
      );
    }
    const record = active.run.record;
    if (record.status === ExecutionStatus.Queued) {
      active.run.cancel(reason);
      this.removeFromQueue(id);
      // A queued execution never ran: nothing to compensate, it ends here.
      await active.run.cancelQueued().catch((error: unknown) => {
        if (!active.run.isAbandoned) throw error;
      });
      this.settle(id, active);
      // Another replica had taken it over meanwhile (its fenced end failed): the cancel goes there.
      if (active.run.isAbandoned) return this.cancelElsewhere(id, reason);
    } else if (!active.run.cancel(reason) && isFinalExecutionStatus(record.status)) {
      // Ended between the lookup and the cancel.
      throw new OrchestratorError(
        ErrorCode.ExecutionFinished,
        `execution '${id}' already ended as ${record.status}`,
      );
    }
    // A compensating execution is already rolling back; cancelling it again changes nothing.
    return this.document(active.run.record);
  }

  /**
   * Cancels an execution another replica runs: the reason is stored first, so
   * a replica that takes the execution over later rolls it back too, then
   * the owner is told to stop now. The document still shows the old status;
   * the owner moves it on.
   */
  private async cancelElsewhere(id: string, reason: string): Promise<ExecutionDocument> {
    await this.store.updateExecution(id, { cancelReason: reason });
    await this.options.changeBus?.publish({
      kind: 'cancel',
      executionId: id,
      reason,
      origin: this.env.instanceId,
    });
    const record = await this.store.getExecution(id);
    if (!record) throw new OrchestratorError(ErrorCode.ExecutionNotFound, `execution '${id}' not found`);
    return this.document(record);
  }

  /** The execution document, from memory while it runs here, else from the store. */
  async getWorkflowStatus(id: string): Promise<ExecutionDocument | undefined> {
    const active = this.active.get(id);
    if (active) return this.document(active.run.record);
    const record = await this.store.getExecution(id);
    return record && this.document(record);
  }

  /** A page of executions, newest first. */
  async listExecutions(query: ExecutionQuery): Promise<{ items: ExecutionDocument[]; nextCursor?: string }> {
    const page = await this.store.listExecutions(query);
    const items = page.items
      .map((record) => this.active.get(record.id)?.run.record ?? record)
      .map((r) => this.document(r));
    return page.nextCursor ? { items, nextCursor: page.nextCursor } : { items };
  }

  /** Executions queued or running in this process. */
  listActiveExecutions(): ExecutionDocument[] {
    return [...this.active.values()].map((a) => this.document(a.run.record));
  }

  /** Counters for dashboards and the seed's `getMetrics()`. */
  getMetrics(): EngineMetrics {
    return {
      totalWorkflows: this.counters.started,
      activeWorkflows: this.running,
      queuedWorkflows: this.queueLength,
      completedWorkflows: this.counters.completed,
      failedWorkflows: this.counters.failed,
      cancelledWorkflows: this.counters.cancelled,
      avgExecutionTime: this.counters.finished ? this.counters.totalDurationMs / this.counters.finished : 0,
      registeredWorkflows: this.catalog.size,
      healthyMcpClients: this.options.mcpLookup?.countHealthy?.() ?? 0,
    };
  }

  /**
   * Stops taking executions and waits up to `timeoutMs` for the running ones.
   * Resolves true when everything finished in time.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    const pending = [...this.active.values()].map((a) => a.done);
    if (pending.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => {
      timer = setTimeout(resolve, timeoutMs, false);
    });
    try {
      return await Promise.race([Promise.all(pending).then(() => true as const), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** True after {@link drain} was called. */
  get isDraining(): boolean {
    return this.draining;
  }

  private get queueLength(): number {
    return this.queue.length - this.queueHead;
  }

  private admit(): void {
    while (this.running < this.limits.workflows && this.queueHead < this.queue.length) {
      const id = this.queue[this.queueHead++]!;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      const active = this.active.get(id);
      if (!active || active.run.isAbandoned) continue;
      if (!active.resume && active.run.record.status !== ExecutionStatus.Queued) continue;
      this.occupySlot(id, active, () => (active.resume ? active.run.resume() : active.run.run()));
    }
  }

  /** Holds a run among the active executions; its `done` resolves with the final record. */
  private track(run: ExecutionRun, resume = false): Active {
    const active: Active = { run, done: undefined as never };
    if (resume) active.resume = true;
    active.done = new Promise<ExecutionRecord>((resolve) => {
      active.resolve = resolve;
    });
    this.active.set(run.record.id, active);
    return active;
  }

  /** Counts a run in a slot while `body` runs it; then settles it and admits the next. */
  private occupySlot(id: string, active: Active, body: () => Promise<unknown>): void {
    this.running += 1;
    if (!active.resume) this.counters.started += 1;
    void body().then(() => {
      this.running -= 1;
      this.settle(id, active);
      this.admit();
    });
  }

  private settle(id: string, active: Active): void {
    const record = active.run.record;
    this.active.delete(id);
    // Never stored (its insert failed): it did nothing, and nobody was given its id.
    if (active.run.isDiscarded) {
      this.counters.started -= 1;
      active.resolve?.(record);
      return;
    }
    // Another replica finishes it and counts it.
    if (active.run.isAbandoned) {
      // Whoever waits for it waits for the replica that took it over.
      void this.followElsewhere(id).then((latest) => active.resolve?.(latest ?? record));
      return;
    }
    if (record.startedAt !== null) {
      this.counters.finished += 1;
      this.counters.totalDurationMs += record.durationMs ?? 0;
    }
    if (record.status === ExecutionStatus.Completed) this.counters.completed += 1;
    else if (record.status === ExecutionStatus.Cancelled) this.counters.cancelled += 1;
    else this.counters.failed += 1;
    active.resolve?.(record);
  }

  /** Polls the store until an execution another replica runs ends, or this engine closes. */
  private async followElsewhere(id: string): Promise<ExecutionRecord | undefined> {
    let latest: ExecutionRecord | undefined;
    while (!this.closed) {
      latest = await this.store.getExecution(id).catch(() => latest);
      if (latest && isFinalExecutionStatus(latest.status)) return latest;
      await new Promise((resolve) => setTimeout(resolve, FOLLOW_POLL_MS).unref());
    }
    return latest;
  }

  /** True when `id` was waiting in the queue. */
  private removeFromQueue(id: string): boolean {
    const at = this.queue.indexOf(id, this.queueHead);
    if (at >= 0) this.queue.splice(at, 1);
    return at >= 0;
  }

  private retryAfterSeconds(): number {
    const avg = this.counters.finished ? this.counters.totalDurationMs / this.counters.finished : 1000;
    const waves = Math.ceil(this.queueLength / Math.max(1, this.limits.workflows));
    return Math.max(1, Math.min(3600, Math.ceil((avg * Math.max(1, waves)) / 1000)));
  }

  private liveReplay(key: string, requestHash: string): StartResult | undefined {
    for (const active of this.active.values()) {
      if (active.run.record.idempotencyKey === key) return this.replayOf(active.run.record, requestHash);
    }
    return undefined;
  }

  private replayOf(existing: ExecutionRecord, requestHash: string): StartResult {
    if (existing.requestHash !== requestHash) {
      throw new OrchestratorError(
        ErrorCode.IdempotencyConflict,
        'this Idempotency-Key was already used for a different request',
        { details: { executionId: existing.id } },
      );
    }
    const live = this.active.get(existing.id)?.run.record ?? existing;
    return { execution: this.document(live), replayed: true };
  }

  private document(record: ExecutionRecord, workflow?: CompiledWorkflow): ExecutionDocument {
    const compiled = workflow ?? this.catalog.known(record.workflow);
    return toExecutionDocument(
      record,
      compiled?.definition.steps.map((s) => s.name),
    );
  }
}

function hashRequest(workflow: string, input: unknown): string {
  return createHash('sha256').update(canonicalJson({ workflow, input })).digest('base64url');
}
