/**
 * The deployment artifacts, checked offline the way a reviewer would: the
 * Dockerfile parsed (dockerfile-ast) and .dockerignore evaluated as Docker
 * does; docker-compose.yml parsed and its references followed; the
 * Kubernetes manifests built by `kubectl kustomize`, validated against the
 * API schemas (kubernetes-models, plus a strict pass for unknown fields) and
 * cross-checked with each other and with the server's configuration; the
 * alert rules and the Grafana dashboard compared with the `/metrics` of a
 * real server that ran the demo workflows against the demo MCP servers over
 * HTTP. No Docker engine and no cluster are needed. The Prometheus Operator
 * objects (ServiceMonitor, PrometheusRule) have no schema installed: their
 * shape is checked by hand, field by field, against what they use.
 * One file, longer than most, because the artifacts are checked against
 * each other (the Dockerfile's port against the Service's, the compose
 * registry against the ConfigMap's) and against one running server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config.js';
import { parseRegistry } from '../src/discovery/index.js';
import { EXECUTION_STATUSES, STEP_STATUSES } from '../src/engine/index.js';
import type { HttpEndpointDefinition } from '../src/mcp/mcp-definition.js';
import { isIgnored, parseDockerignore } from './support/dockerignore.js';
import { eventually } from './support/eventually.js';
import {
  find,
  type KubeObject,
  kustomize,
  podTemplates,
  selects,
  validateObject,
} from './support/kube-manifests.js';
import { ROOT } from './support/mcp-harness.js';
import { familyOf, parseExposition, promqlRefs } from './support/promql.js';
import { type ServerHarness, startServer } from './support/server-harness.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML and JSON documents
type Any = any;

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; scripts: Record<string, string> };
/** The image every manifest runs: named after the package, tagged with its version. */
const IMAGE = `orchestrator-mcp:${pkg.version}`;
const DEFAULTS = loadConfig({});
const NAMESPACE = 'orchestrator-mcp';
/** Labels Prometheus adds to every series when it scrapes (not in /metrics itself). */
const TARGET_LABELS = new Set(['instance', 'job', 'namespace', 'pod', 'service', 'container', 'endpoint']);

/** Every file under `path` (a file or a directory), relative to ROOT. */
function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .map((f) => join(path, f))
    .filter((f) => statSync(join(ROOT, f)).isFile());
}

/** The demo workflows, by file name. */
function workflowFiles(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(join(ROOT, dir))
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort()
      .map((f) => [f, read(join(dir, f))]),
  );
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Stage {
  name: string | null;
  from: string;
  instructions: Instruction[];
}

const dockerfile = DockerfileParser.parse(read('Dockerfile'));
const stages: Stage[] = [];
for (const instruction of dockerfile.getInstructions()) {
  if (instruction.getKeyword() === 'FROM') {
    const from = instruction as unknown as { getImage(): string; getBuildStage(): string | null };
    stages.push({ name: from.getBuildStage(), from: from.getImage(), instructions: [] });
  } else stages.at(-1)?.instructions.push(instruction);
}
const finalStage = stages.at(-1)!;
const stageNamed = (name: string) => stages.find((s) => s.name === name);
/** A stage and the stages it is built on, itself first. */
const lineage = (stage: Stage): Stage[] => {
  const parent = stageNamed(stage.from);
  return parent ? [stage, ...lineage(parent)] : [stage];
};
const externalImage = (stage: Stage) => lineage(stage).at(-1)!.from;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.getKeyword() === keyword);
const args = (i: Instruction) => i.getArguments().map((a) => a.getValue());
const runText = (stage: Stage) => all(stage, 'RUN').map((i) => args(i).join(' '));
const flag = (i: Instruction, name: string) =>
  (i as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] })
    .getFlags()
    .find((f) => f.getName() === name)
    ?.getValue() ?? undefined;
const execForm = (i: Instruction): string[] => JSON.parse(i.getArgumentsContent() ?? '[]') as string[];
/** The final stage's ENV, as the container sees it. */
const imageEnv: Record<string, string> = Object.fromEntries(
  all(finalStage, 'ENV').flatMap((i) =>
    (i as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] })
      .getProperties()
      .map((p) => [p.getName(), p.getValue() ?? '']),
  ),
);
/** COPY instructions from the build context (not `--from` a stage), with their sources. */
const contextCopies = stages.flatMap((s) =>
  all(s, 'COPY')
    .filter((i) => flag(i, 'from') === undefined)
    .map((i) => ({ stage: s, sources: args(i).slice(0, -1), destination: args(i).at(-1)! })),
);
const healthcheck = all(finalStage, 'HEALTHCHECK')[0];
const healthcheckCommand = (): string[] => {
  const json = /\bCMD\s+(\[[\s\S]*\])\s*$/.exec(healthcheck?.getArgumentsContent() ?? '')?.[1];
  return json ? (JSON.parse(json) as string[]) : [];
};

describe('Dockerfile', () => {
  it('is multi-stage on one Node LTS base pinned by full version', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    const external = [...new Set(stages.filter((s) => !stageNamed(s.from)).map((s) => s.from))];
    expect(external).toHaveLength(1);
    const pinned = /^node:(\d+)\.(\d+)\.(\d+)-(bookworm|trixie)-slim$/.exec(external[0]!);
    expect(pinned, `${external[0]} is not node:X.Y.Z-<debian>-slim`).not.toBeNull();
    const major = Number(pinned![1]);
    // Even majors are the LTS lines; the package supports Node 20.18 and later.
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(22);
  });

  it('installs production dependencies with npm ci --omit=dev on the runtime base, with a toolchain for better-sqlite3', () => {
    const deps = stages.find((s) => runText(s).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)));
    expect(deps, 'a stage runs npm ci --omit=dev').toBeDefined();
    // Same base image as the runtime: the native module matches its libc and architecture.
    expect(externalImage(deps!)).toBe(externalImage(finalStage));
    const toolchain = lineage(deps!).flatMap(runText).join('\n');
    const installs = toolchain.split('\n').filter((r) => r.includes('apt-get install'));
    for (const tool of ['python3', 'make', 'g++'])
      expect(
        installs.some((r) => r.split(' ').includes(tool)),
        tool,
      ).toBe(true);
    const copies = all(finalStage, 'COPY').map((i) => ({ from: flag(i, 'from'), args: args(i) }));
    expect(copies).toContainEqual({ from: deps!.name, args: ['/app/node_modules', './node_modules'] });
    // node_modules come from that stage alone: never the build stage's, which has dev dependencies.
    expect(copies.filter((c) => c.args[0]!.includes('node_modules')).map((c) => c.from)).toEqual([
      deps!.name,
    ]);
    expect(runText(finalStage).some((r) => /\bnpm (ci|install)\b/.test(r))).toBe(false);
  });

  it('compiles in a build stage and runs the compiled server the way npm run start:prod does', () => {
    const build = stages.find((s) => runText(s).some((r) => r.includes('npm run build')));
    expect(build).toBeDefined();
    expect(build).not.toBe(finalStage);
    const distCopy = all(finalStage, 'COPY').find((i) => args(i)[0] === '/app/dist');
    expect(distCopy && flag(distCopy, 'from')).toBe(build!.name);
    expect(execForm(all(finalStage, 'CMD').at(-1)!)).toEqual(pkg.scripts['start:prod']!.split(' '));
  });

  it('runs as the non-root node user under tini', () => {
    expect(args(all(finalStage, 'USER').at(-1)!)).toEqual(['node']);
    const entrypoint = execForm(all(finalStage, 'ENTRYPOINT').at(-1)!);
    expect(entrypoint).toEqual(['/usr/bin/tini', '--']);
    // Not -g: the stdio MCP servers must not get the SIGTERM that starts the drain.
    expect(entrypoint).not.toContain('-g');
    expect(runText(finalStage).some((r) => /apt-get install .*\btini\b/.test(r))).toBe(true);
  });

  it('exposes the port the server listens on, with a HEALTHCHECK of /health that needs no curl', () => {
    expect(all(finalStage, 'EXPOSE').flatMap(args)).toEqual([String(DEFAULTS.port)]);
    expect(imageEnv.PORT).toBe(String(DEFAULTS.port));
    const command = healthcheckCommand();
    expect(command[0]).toBe('node');
    expect(command.join(' ')).toMatch(/['"]\/health['"]/);
    expect(command.join(' ')).not.toMatch(/\b(curl|wget)\b/);
    // The command is run against a live server below (`against a running server`).
  });

  it('configures the server validly, with registry, workflows and data where they are copied and mounted', () => {
    const config = loadConfig(imageEnv);
    const copied = (path: string) =>
      contextCopies.some(
        (c) => c.stage === finalStage && (c.destination === path || c.destination === `${path}/`),
      );
    expect(copied(config.registryPath), `a registry is copied to ${config.registryPath}`).toBe(true);
    expect(copied(config.workflowsDir), `workflows are copied to ${config.workflowsDir}`).toBe(true);
    // The registry is alone in its directory: a mount of that directory replaces it whole.
    expect(dirname(config.registryPath)).not.toBe(config.workflowsDir);
    const dataDir = dirname(config.databaseUrl.replace(/^sqlite:/, ''));
    expect(
      all(finalStage, 'VOLUME').flatMap((i) => JSON.parse(i.getArgumentsContent()!) as string[]),
    ).toEqual([dataDir]);
    expect(runText(finalStage).some((r) => r.includes(`chown node:node ${dataDir}`))).toBe(true);
  });

  it('labels the image with the package version', () => {
    const labels = all(finalStage, 'LABEL').flatMap((i) =>
      (i as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] })
        .getProperties()
        .map((p) => [p.getName(), p.getValue()]),
    );
    expect(labels).toContainEqual(['org.opencontainers.image.version', pkg.version]);
  });

  it('copies from the context only what exists, and no tests, secrets, data or build output', () => {
    for (const { sources } of contextCopies) {
      for (const source of sources) {
        expect(existsSync(join(ROOT, source)), source).toBe(true);
        expect(source).not.toMatch(
          /^(\.\/)?(test|\.git|data|dist|node_modules|coverage)(\/|$)|\.env|\.pem$|\.key$/,
        );
      }
    }
  });
});

describe('.dockerignore', () => {
  const patterns = parseDockerignore(read('.dockerignore'));

  it('keeps dependencies, tests, VCS data, databases, build output and secrets out of the context', () => {
    for (const path of [
      'node_modules/fastify/package.json',
      'test/server-api.test.ts',
      'test/support/server-harness.ts',
      'src/engine/dag.test.ts',
      '.git/HEAD',
      'data/orchestrator.db',
      'dist/main.js',
      '.env',
      '.env.production',
      'prod.env',
      'src/.env',
      'demo/servers/node_modules/x/index.js',
      'server.pem',
      'tls.key',
      'coverage/index.html',
      'k8s/deployment.yaml',
      'credentials.json', // a file nobody listed: the allowlist keeps it out
    ]) {
      expect(isIgnored(patterns, path), path).toBe(true);
    }
  });

  it('lets in every file the Dockerfile copies from the context', () => {
    for (const { sources } of contextCopies) {
      for (const source of sources) {
        for (const file of filesUnder(source).filter((f) => !f.endsWith('.test.ts'))) {
          expect(isIgnored(patterns, file), file).toBe(false);
        }
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

const compose = parseYaml(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Any>;
} & Any;
const services = compose.services as Record<string, Any>;
/** Compose's interpolation, with an empty environment: `${VAR:-default}` is its default. */
const interpolate = (value: string) =>
  value.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_m, name: string, fallback?: string) => {
    if (fallback === undefined) throw new Error(`\${${name}} has no default in docker-compose.yml`);
    return fallback;
  });
const composeEnv = (service: Any): Record<string, string> =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
const ours = (name: string) => String(services[name].image).startsWith('orchestrator-mcp:');
const orchestrators = Object.keys(services).filter((n) => ours(n) && services[n].command === undefined);
const demoMcps = Object.keys(services).filter((n) => ours(n) && services[n].command !== undefined);
const seconds = (duration: string) => {
  const m = /^(\d+)(ms|s|m)$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 } as Record<string, number>)[m[2]!]!;
};
const healthcheckText = (service: Any) => [service.healthcheck?.test ?? []].flat().join(' ');

describe('docker-compose.yml', () => {
  it('builds one image, named after the package version, for every service that runs it; other images are pinned', () => {
    const withBuild = Object.keys(services).filter((n) => services[n].build !== undefined);
    expect(withBuild.sort()).toEqual([...orchestrators, ...demoMcps].sort());
    for (const name of withBuild) {
      expect(services[name].image, name).toBe(IMAGE);
      expect(services[name].build, name).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    }
    for (const [name, service] of Object.entries(services).filter(([n]) => !withBuild.includes(n))) {
      expect(service.image, name).toMatch(/^[\w./-]+:v?\d+\.\d+(\.\d+)?(-[\w.]+)?$/);
    }
  });

  it('waits only on services that have a healthcheck, and only on services of the same profiles', () => {
    let checked = 0;
    for (const [name, service] of Object.entries(services)) {
      const deps = service.depends_on ?? {};
      const entries: [string, Any][] = Array.isArray(deps)
        ? deps.map((d: string) => [d, {}])
        : Object.entries(deps);
      for (const [target, options] of entries) {
        expect(services[target], `${name} depends on ${target}`).toBeDefined();
        if (options.condition === 'service_healthy') {
          expect(healthcheckText(services[target]), `${target} has a healthcheck`).not.toBe('');
          checked++;
        }
        // A dependency on a service of a profile that is off would fail `docker compose up`.
        const targetProfiles: string[] = services[target].profiles ?? [];
        if (targetProfiles.length > 0) {
          const own: string[] = service.profiles ?? [];
          expect(
            own.some((p) => targetProfiles.includes(p)),
            `${name} shares a profile of ${target}`,
          ).toBe(true);
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(orchestrators.length * 3);
    for (const name of orchestrators) {
      for (const mcp of demoMcps)
        expect(services[name].depends_on[mcp], `${name} -> ${mcp}`).toEqual({ condition: 'service_healthy' });
    }
  });

  it('runs each demo MCP server over HTTP on the port its healthcheck checks', () => {
    expect(demoMcps.length).toBe(3);
    for (const name of demoMcps) {
      const [node, file, flagName, port] = services[name].command as string[];
      expect([node, flagName]).toEqual(['node', '--http']);
      expect(existsSync(join(ROOT, file!)), file).toBe(true);
      expect(healthcheckText(services[name])).toContain(`http://127.0.0.1:${port}/health`);
      expect(services[name].expose).toContain(port);
    }
  });

  it('mounts a registry that reaches the demo MCP servers by service name and port', () => {
    for (const name of orchestrators) {
      const config = loadConfig(composeEnv(services[name]));
      const volumes = (services[name].volumes as string[]).map((v) => v.split(':'));
      const registryMount = volumes.find(([, target]) => target === dirname(config.registryPath));
      expect(registryMount, `${name} mounts the registry's directory`).toBeDefined();
      // A directory, never the file: editors replace the file, and a file bind mount would keep the old one.
      expect(volumes.some(([, target]) => target === config.registryPath)).toBe(false);
      const hostDir = join(ROOT, registryMount![0]!);
      expect(statSync(hostDir).isDirectory()).toBe(true);
      const registry = parseRegistry(readFileSync(join(hostDir, basename(config.registryPath)), 'utf8'), {
        env: {},
      });
      const reached = new Set<string>();
      for (const mcp of registry) {
        const url = new URL((mcp.endpoints[0] as HttpEndpointDefinition).url);
        const target = demoMcps.find((s) => s === url.hostname);
        expect(target, `${mcp.name} -> ${url.host} is a compose service`).toBeDefined();
        expect(url.port).toBe((services[target!].command as string[])[3]);
        expect(url.pathname).toBe('/mcp');
        expect(mcp.healthCheck.endpoint).toBe('/health');
        reached.add(target!);
      }
      expect([...reached].sort()).toEqual([...demoMcps].sort());
      const workflowsMount = volumes.find(([, target]) => target === config.workflowsDir);
      expect(workflowsMount?.[0]).toBe('./workflows');
    }
  });

  it('stops orchestrators after their drain, with a valid configuration and a readiness healthcheck', () => {
    for (const name of orchestrators) {
      const config = loadConfig(composeEnv(services[name]));
      expect(seconds(services[name].stop_grace_period), name).toBeGreaterThan(config.shutdownTimeout / 1000);
      expect(healthcheckText(services[name])).toContain(`http://127.0.0.1:${config.port}/ready`);
      expect(services[name].read_only).toBe(true);
      expect(services[name].cap_drop).toEqual(['ALL']);
    }
  });

  it('keeps the SQLite database of the single orchestrator in a named volume', () => {
    const single = orchestrators.filter((n) => !services[n].profiles);
    expect(single).toHaveLength(1);
    const config = loadConfig(composeEnv(services[single[0]!]));
    expect(config.databaseUrl).toMatch(/^sqlite:\//);
    const dataDir = dirname(config.databaseUrl.replace(/^sqlite:/, ''));
    const mount = (services[single[0]!].volumes as string[]).find((v) => v.split(':')[1] === dataDir);
    expect(mount, `a volume at ${dataDir}`).toBeDefined();
    expect(Object.keys(compose.volumes)).toContain(mount!.split(':')[0]);
  });

  it('runs PostgreSQL and two replicas sharing it in the postgres profile', () => {
    const postgres = Object.keys(services).filter(
      (n) => services[n].profiles?.includes('postgres') && /^postgres:/.test(services[n].image),
    );
    expect(postgres).toHaveLength(1);
    const db = composeEnv(services[postgres[0]!]);
    const replicas = orchestrators.filter((n) => services[n].profiles?.includes('postgres'));
    expect(replicas.length).toBeGreaterThanOrEqual(2);
    const ids = new Set<string>();
    for (const name of replicas) {
      const config = loadConfig(composeEnv(services[name]));
      const url = new URL(config.databaseUrl);
      expect(url.protocol).toBe('postgres:');
      expect([url.hostname, url.port]).toEqual([postgres[0], '5432']);
      expect([url.username, decodeURIComponent(url.password), url.pathname.slice(1)]).toEqual([
        db.POSTGRES_USER,
        db.POSTGRES_PASSWORD,
        db.POSTGRES_DB,
      ]);
      expect(services[name].depends_on[postgres[0]!]).toEqual({ condition: 'service_healthy' });
      ids.add(config.instanceId);
    }
    expect(ids.size).toBe(replicas.length);
  });

  it('publishes each host port once and declares every named volume', () => {
    const hostPorts = Object.values(services).flatMap((s: Any) =>
      (s.ports ?? []).map((p: string) => p.split(':')[0]),
    );
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    for (const service of Object.values(services) as Any[]) {
      for (const volume of (service.volumes ?? []) as string[]) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(ROOT, source)), source).toBe(true);
        else expect(Object.keys(compose.volumes), source).toContain(source);
      }
    }
  });

  it('scrapes every orchestrator and loads the alert rules and dashboard in the observability profile', () => {
    const mounts = (name: string) =>
      Object.fromEntries((services[name].volumes as string[]).map((v) => v.split(':').slice(0, 2).reverse()));
    const prometheusMounts = mounts('prometheus');
    const prometheusConfig = parseYaml(
      read(prometheusMounts['/etc/prometheus/prometheus.yml'] as string),
    ) as Any;
    for (const file of prometheusConfig.rule_files as string[]) {
      expect(prometheusMounts[file], `${file} is mounted`).toBe('./deploy/observability/alerts.yml');
    }
    const job = prometheusConfig.scrape_configs[0];
    expect(job.metrics_path).toBe('/metrics');
    const targets = job.static_configs.flatMap((c: Any) => c.targets) as string[];
    expect(targets.sort()).toEqual(
      orchestrators.map((n) => `${n}:${loadConfig(composeEnv(services[n])).port}`).sort(),
    );
    const grafanaMounts = mounts('grafana');
    const provisioning = grafanaMounts['/etc/grafana/provisioning'] as string;
    const provider = parseYaml(read(join(provisioning, 'dashboards/orchestrator-mcp.yml'))).providers[0];
    const dashboardMount = Object.entries(grafanaMounts).find(([, source]) =>
      String(source).endsWith('grafana-dashboard.json'),
    );
    expect(dirname(dashboardMount![0])).toBe(provider.options.path);
    const datasource = parseYaml(read(join(provisioning, 'datasources/prometheus.yml'))).datasources[0];
    expect(datasource.type).toBe('prometheus');
    expect(datasource.url).toBe('http://prometheus:9090');
  });
});

// ---------------------------------------------------------------------------------------------
// Kubernetes

const builds: Record<'base' | 'monitoring' | 'postgres' | 'demoMcps', KubeObject[]> = {
  base: [],
  monitoring: [],
  postgres: [],
  demoMcps: [],
};
const envOf = (container: Any): Record<string, Any> =>
  Object.fromEntries((container.env ?? []).map((e: Any) => [e.name, e]));
const mebibytes = (quantity: string) => {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`unexpected quantity ${quantity}`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
};
/** The container port a Service or probe port (a number or a name) resolves to. */
const resolvePort = (container: Any, port: number | string): number | undefined =>
  typeof port === 'number'
    ? container.ports?.find((p: Any) => p.containerPort === port)?.containerPort
    : container.ports?.find((p: Any) => p.name === port)?.containerPort;

describe('Kubernetes manifests', () => {
  let deployment: KubeObject;
  let pod: Any;
  let container: Any;
  let env: Record<string, Any>;
  /** The server's configuration in the pod: env values, with downward-API and Secret values filled in. */
  let podConfig: ReturnType<typeof loadConfig>;

  beforeAll(async () => {
    const [base, monitoring, postgres, demoMcps] = await Promise.all(
      ['k8s', 'k8s/monitoring', 'k8s/examples/postgres', 'k8s/examples/demo-mcps'].map((dir) =>
        kustomize(join(ROOT, dir)),
      ),
    );
    Object.assign(builds, { base, monitoring, postgres, demoMcps });
    deployment = find(base!, 'Deployment', 'orchestrator-mcp');
    pod = deployment.spec.template;
    container = pod.spec.containers[0];
    env = envOf(container);
    const secret = find(postgres!, 'Secret', env.DATABASE_URL.valueFrom.secretKeyRef.name);
    podConfig = loadConfig({
      ...Object.fromEntries(Object.entries(env).map(([k, e]) => [k, e.value])),
      DATABASE_URL: secret.stringData[env.DATABASE_URL.valueFrom.secretKeyRef.key],
      INSTANCE_ID: 'orchestrator-mcp-7d9f8-abcde',
      KUBERNETES_NAMESPACE: NAMESPACE,
    });
  });

  it('build with kubectl kustomize, and every object validates against the Kubernetes API schema, strictly', () => {
    for (const [name, objects] of Object.entries(builds).filter(([n]) => n !== 'monitoring')) {
      expect(objects.length, name).toBeGreaterThan(0);
      for (const object of objects) expect(validateObject(object), `${name}: ${object.kind}`).toEqual([]);
    }
    expect(builds.base.map((o) => o.kind).sort()).toEqual(
      [
        'ConfigMap',
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Namespace',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
  });

  it('the strict check catches a misspelt field (so the test above can fail)', () => {
    const broken = structuredClone(find(builds.base, 'Deployment'));
    broken.spec.template.spec.containers[0].readinessProbes =
      broken.spec.template.spec.containers[0].readinessProbe;
    expect(validateObject(broken)).toEqual([
      'apps/v1/Deployment orchestrator-mcp: unknown field spec.template.spec.containers[0].readinessProbes',
    ]);
  });

  it('put every object in the namespace, bindings included', () => {
    expect(find(builds.base, 'Namespace').metadata.name).toBe(NAMESPACE);
    for (const object of Object.values(builds)
      .flat()
      .filter((o) => o.kind !== 'Namespace')) {
      expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe(NAMESPACE);
    }
    expect(find(builds.base, 'RoleBinding').subjects.map((s: Any) => s.namespace)).toEqual([NAMESPACE]);
  });

  it('run 3 replicas selected by their own labels, and a Service that reaches only them on the server port', () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(selects(deployment.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    const service = find(builds.base, 'Service', 'orchestrator-mcp');
    expect(selects(service.spec.selector, pod.metadata.labels)).toBe(true);
    for (const { template } of podTemplates([...builds.postgres, ...builds.demoMcps])) {
      expect(selects(service.spec.selector, template.metadata.labels)).toBe(false);
    }
    expect(env.PORT.value).toBe(String(podConfig.port));
    expect(resolvePort(container, 'http')).toBe(podConfig.port);
    expect(all(finalStage, 'EXPOSE').flatMap(args)).toEqual([String(podConfig.port)]);
    for (const port of service.spec.ports)
      expect(resolvePort(container, port.targetPort)).toBe(podConfig.port);
  });

  it('probe liveness on /health, readiness on /ready, start-up on /health, all on the server port', () => {
    expect(container.startupProbe.httpGet.path).toBe('/health');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect(resolvePort(container, container[probe].httpGet.port), probe).toBe(podConfig.port);
    }
    // A start-up window long enough for the registry, the store and resumed executions.
    const startup = container.startupProbe;
    expect(startup.periodSeconds * startup.failureThreshold).toBeGreaterThanOrEqual(30);
  });

  it('mount the registry and workflows ConfigMaps as directories where REGISTRY_PATH and WORKFLOWS_DIR point', () => {
    const mounts = container.volumeMounts as Any[];
    const volumeAt = (path: string) => {
      const mount = mounts.find((m) => m.mountPath === path);
      expect(mount, `a volume mounted at ${path}`).toBeDefined();
      return (pod.spec.volumes as Any[]).find((v) => v.name === mount.name);
    };
    const registryVolume = volumeAt(dirname(podConfig.registryPath));
    const registryMap = find(builds.base, 'ConfigMap', registryVolume.configMap.name);
    expect(Object.keys(registryMap.data)).toEqual([basename(podConfig.registryPath)]);
    expect(
      registryMap.data[basename(podConfig.registryPath)],
      'k8s/config/mcp-registry.json is a copy of deploy/compose/registry/mcp-registry.json',
    ).toBe(read('deploy/compose/registry/mcp-registry.json'));
    expect(parseRegistry(registryMap.data[basename(podConfig.registryPath)], { env: {} })).toHaveLength(3);
    const workflowsMap = find(builds.base, 'ConfigMap', volumeAt(podConfig.workflowsDir).configMap.name);
    // The demo workflows as shipped in workflows/ (copy them to k8s/config/workflows/ when they change).
    expect(workflowsMap.data, 'k8s/config/workflows/ is a copy of workflows/').toEqual(
      workflowFiles('workflows'),
    );
    // Updated in place (no name hash), so the kubelet swaps ..data and the server hot reloads.
    expect(registryMap.metadata.name).toBe('orchestrator-mcp-registry');
    expect(workflowsMap.metadata.name).toBe('orchestrator-mcp-workflows');
  });

  it('never mount with subPath: a subPath mount does not follow ConfigMap updates', () => {
    for (const { owner, template } of podTemplates(Object.values(builds).flat())) {
      for (const c of template.spec.containers) {
        for (const mount of c.volumeMounts ?? []) {
          expect(mount.subPath, `${owner.metadata.name}: ${mount.mountPath}`).toBeUndefined();
          expect(mount.subPathExpr).toBeUndefined();
        }
      }
    }
  });

  it('give the drain more time than SHUTDOWN_TIMEOUT before SIGKILL, preStop included', () => {
    const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
    const preStopSeconds = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
    expect(preStopSeconds).toBeGreaterThan(0);
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(
      podConfig.shutdownTimeout / 1000 + preStopSeconds,
    );
  });

  it('meet the restricted Pod Security Standard the namespace enforces, with writable /tmp only', () => {
    expect(find(builds.base, 'Namespace').metadata.labels['pod-security.kubernetes.io/enforce']).toBe(
      'restricted',
    );
    for (const { owner, template } of podTemplates(Object.values(builds).flat())) {
      const spec = template.spec;
      const at = `${owner.kind} ${owner.metadata.name}`;
      expect(spec.securityContext.runAsNonRoot, at).toBe(true);
      expect(spec.securityContext.seccompProfile.type, at).toBe('RuntimeDefault');
      expect(spec.hostNetwork ?? false).toBe(false);
      expect((spec.volumes ?? []).some((v: Any) => v.hostPath)).toBe(false);
      for (const c of spec.containers) {
        const sc = c.securityContext;
        expect(sc.allowPrivilegeEscalation, at).toBe(false);
        expect(sc.readOnlyRootFilesystem, at).toBe(true);
        expect(sc.capabilities.drop, at).toEqual(['ALL']);
        expect(sc.capabilities.add, at).toBeUndefined();
        expect(sc.privileged ?? false, at).toBe(false);
        // The image's USER is a name (node): the kubelet can only check runAsNonRoot against a number.
        const uid = sc.runAsUser ?? spec.securityContext.runAsUser;
        expect(Number.isInteger(uid) && uid > 0, at).toBe(true);
        if (String(c.image).startsWith('orchestrator-mcp')) expect(uid, at).toBe(1000);
        expect(c.resources.requests.cpu, at).toBeDefined();
        expect(c.resources.requests.memory, at).toBeDefined();
        expect(c.resources.limits.memory, at).toBeDefined();
      }
    }
    const tmp = (container.volumeMounts as Any[]).find((m) => m.mountPath === '/tmp');
    expect((pod.spec.volumes as Any[]).find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    // PostgreSQL holds the data: no other writable mount in the orchestrator.
    const writable = (container.volumeMounts as Any[]).filter((m) => !m.readOnly).map((m) => m.mountPath);
    expect(writable).toEqual(['/tmp']);
  });

  it('read the namespace and pod name from the downward API and DATABASE_URL from a Secret', () => {
    expect(env.KUBERNETES_NAMESPACE.valueFrom.fieldRef.fieldPath).toBe('metadata.namespace');
    expect(env.INSTANCE_ID.valueFrom.fieldRef.fieldPath).toBe('metadata.name');
    expect(env.DATABASE_URL.value).toBeUndefined();
    expect(env.DATABASE_URL.valueFrom.secretKeyRef.optional ?? false).toBe(false);
    expect(podConfig.databaseUrl).toMatch(/^postgres:\/\//);
    expect(podConfig.kubernetesNamespace).toBe(NAMESPACE);
    // The example Secret reaches the example PostgreSQL with its own credentials.
    const url = new URL(podConfig.databaseUrl);
    const service = find(builds.postgres, 'Service', url.hostname);
    expect(service.spec.ports.map((p: Any) => String(p.port))).toContain(url.port);
    const statefulSet = find(builds.postgres, 'StatefulSet');
    expect(selects(service.spec.selector, statefulSet.spec.template.metadata.labels)).toBe(true);
    const credentials = find(
      builds.postgres,
      'Secret',
      statefulSet.spec.template.spec.containers[0].envFrom[0].secretRef.name,
    ).stringData;
    expect([url.username, decodeURIComponent(url.password), url.pathname.slice(1)]).toEqual([
      credentials.POSTGRES_USER,
      credentials.POSTGRES_PASSWORD,
      credentials.POSTGRES_DB,
    ]);
  });

  it('keep V8 heap below the memory limit', () => {
    const heap = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS.value)?.[1]);
    expect(heap).toBeGreaterThan(0);
    expect(heap).toBeLessThan(mebibytes(container.resources.limits.memory) * 0.9);
  });

  it('grant Kubernetes discovery exactly list and watch on the services and endpointslices it watches', () => {
    expect(podConfig.discoveryMethods).toContain('kubernetes');
    const role = find(builds.base, 'Role');
    const granted = (role.rules as Any[])
      .flatMap((r) =>
        r.apiGroups.flatMap((g: string) =>
          r.resources.map((res: string) => `${g}/${res}:${[...r.verbs].sort()}`),
        ),
      )
      .sort();
    expect(granted).toEqual(['/services:list,watch', 'discovery.k8s.io/endpointslices:list,watch']);
    // The same collections the discovery code lists and watches (its API paths).
    const source = read('src/discovery/kubernetes-discovery.ts');
    const watched = [...source.matchAll(/`\/apis?\/(?:([\w.]+)\/)?v\d\w*\/namespaces\/\$\{ns\}\/(\w+)`/g)]
      .map((m) => `${m[1] ?? ''}/${m[2]}:list,watch`)
      .sort();
    expect(watched).toEqual(granted);
    const binding = find(builds.base, 'RoleBinding');
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: role.metadata.name,
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: pod.spec.serviceAccountName, namespace: NAMESPACE },
    ]);
    find(builds.base, 'ServiceAccount', pod.spec.serviceAccountName);
    expect(pod.spec.automountServiceAccountToken).toBe(true);
  });

  it('have a PodDisruptionBudget and an autoscaler for the Deployment', () => {
    const pdb = find(builds.base, 'PodDisruptionBudget');
    expect(selects(pdb.spec.selector.matchLabels, pod.metadata.labels)).toBe(true);
    // Lets a node drain go on one pod at a time.
    if (pdb.spec.maxUnavailable !== undefined) expect(pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
    else expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    const hpa = find(builds.base, 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: deployment.apiVersion,
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.minReplicas).toBeLessThanOrEqual(deployment.spec.replicas);
    expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(deployment.spec.replicas);
    // Utilization is relative to the request: without one the autoscaler cannot compute it.
    for (const metric of hpa.spec.metrics)
      expect(container.resources.requests[metric.resource.name]).toBeDefined();
  });

  it('tell Prometheus where to scrape: pod annotations and a ServiceMonitor on the metrics port and path', () => {
    const annotations = pod.metadata.annotations;
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(Number(annotations['prometheus.io/port'])).toBe(podConfig.port);
    expect(annotations['prometheus.io/path']).toBe('/metrics');
    const service = find(builds.base, 'Service', 'orchestrator-mcp');
    const monitor = find(builds.monitoring, 'ServiceMonitor');
    // By hand: no schema of monitoring.coreos.com/v1 is installed. The fields used, and only known ones.
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(Object.keys(monitor).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(Object.keys(monitor.spec).sort()).toEqual(['endpoints', 'selector']);
    expect(selects(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
    expect(monitor.spec.endpoints.length).toBeGreaterThan(0);
    for (const endpoint of monitor.spec.endpoints) {
      for (const key of Object.keys(endpoint))
        expect(['port', 'path', 'interval', 'scrapeTimeout', 'scheme', 'honorLabels']).toContain(key);
      expect(service.spec.ports.map((p: Any) => p.name)).toContain(endpoint.port);
      expect(endpoint.path).toBe('/metrics');
      expect(endpoint.interval).toMatch(/^\d+s$/);
      expect(seconds(endpoint.scrapeTimeout)).toBeLessThanOrEqual(seconds(endpoint.interval));
    }
  });

  it('ship the alert rules as a PrometheusRule identical to deploy/observability/alerts.yml', () => {
    const rule = find(builds.monitoring, 'PrometheusRule');
    expect(rule.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(Object.keys(rule.spec)).toEqual(['groups']);
    expect(rule.spec).toEqual(parseYaml(read('deploy/observability/alerts.yml')));
    for (const group of rule.spec.groups) {
      expect(typeof group.name).toBe('string');
      for (const r of group.rules) {
        for (const key of Object.keys(r))
          expect(['alert', 'expr', 'for', 'labels', 'annotations']).toContain(key);
        expect(['warning', 'critical']).toContain(r.labels.severity);
        if (r.for !== undefined) expect(r.for).toMatch(/^\d+[smh]$/);
      }
    }
  });

  it('run the image of this version, and demo MCP Services under the names and ports the registry calls', () => {
    for (const { owner, template } of podTemplates([...builds.base, ...builds.demoMcps])) {
      expect(template.spec.containers[0].image, owner.metadata.name).toBe(IMAGE);
    }
    const registry = parseRegistry(read('k8s/config/mcp-registry.json'), { env: {} });
    for (const mcp of registry) {
      const url = new URL((mcp.endpoints[0] as HttpEndpointDefinition).url);
      const service = find(builds.demoMcps, 'Service', url.hostname);
      const port = service.spec.ports.find((p: Any) => String(p.port) === url.port);
      expect(port, `${url.host}`).toBeDefined();
      const workload = podTemplates(builds.demoMcps).find((w) =>
        selects(service.spec.selector, w.template.metadata.labels),
      );
      const c = workload!.template.spec.containers[0];
      const containerPort = resolvePort(c, port.targetPort);
      expect(c.args.slice(-2)).toEqual(['--http', String(containerPort)]);
      expect(existsSync(join(ROOT, c.args[1]))).toBe(true);
      expect(c.readinessProbe.httpGet.path).toBe(mcp.healthCheck.endpoint);
    }
  });
});

describe('deployment commands in the docs', () => {
  it('name real kustomizations, profiles, objects and the image of this version', async () => {
    const base = await kustomize(join(ROOT, 'k8s'));
    const profiles = new Set(Object.values(services).flatMap((service: Any) => service.profiles ?? []));
    let commands = 0;
    for (const doc of ['docs/deployment.md', 'README.md']) {
      const text = read(doc);
      for (const [, dir] of text.matchAll(/kubectl apply -k ([^\s`]+)/g)) {
        expect(existsSync(join(ROOT, dir!, 'kustomization.yaml')), `${doc}: ${dir}`).toBe(true);
        commands++;
      }
      for (const [, profile] of text.matchAll(/--profile (\S+)/g))
        expect(profiles, `${doc}`).toContain(profile);
      for (const [, tag] of text.matchAll(/orchestrator-mcp:(\d+\.\d+\.\d+)/g))
        expect(tag, doc).toBe(pkg.version);
      for (const [, namespace] of text.matchAll(/kubectl -n (\S+)/g)) expect(namespace, doc).toBe(NAMESPACE);
      for (const [, kind, name] of text.matchAll(/\b(deployment|service)\/([a-z0-9-]+)/g)) {
        find(base, kind === 'service' ? 'Service' : 'Deployment', name);
      }
      for (const [, name, port] of text.matchAll(/port-forward service\/([a-z0-9-]+) \d+:(\d+)/g)) {
        expect(
          find(base, 'Service', name).spec.ports.map((p: Any) => String(p.port)),
          doc,
        ).toContain(port);
      }
    }
    expect(commands).toBeGreaterThanOrEqual(3);
  });
});

// ---------------------------------------------------------------------------------------------
// Against a running server: the image's HEALTHCHECK, the probes, and the metrics that alert
// rules and the dashboard use.

/** Starts a demo MCP server over HTTP on a free port; resolves with its /mcp url. */
function startDemoMcp(file: string, started: ChildProcess[]): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, file), '--http', '0'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.push(child);
  return new Promise((resolve, reject) => {
    let text = '';
    child.stderr!.on('data', (chunk) => {
      text += String(chunk);
      const port = /on http:\/\/[^:]+:(\d+)\/mcp/.exec(text)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}/mcp`);
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}): ${text}`)));
  });
}

function runNode(script: string[], env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, script.slice(1), {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    child.once('exit', resolve);
  });
}

describe('against a running server', () => {
  const mcps: ChildProcess[] = [];
  let h: ServerHarness;

  beforeAll(async () => {
    const [contacts, coaching, sms] = await Promise.all(
      ['contacts', 'coaching', 'sms'].map((name) => startDemoMcp(`demo/servers/${name}.mjs`, mcps)),
    );
    // The compose (and Kubernetes) registry as shipped; its ${..._URL:-default} urls point here.
    h = await startServer(JSON.parse(read('deploy/compose/registry/mcp-registry.json')), {
      env: { CONTACTS_MCP_URL: contacts!, COACHING_MCP_URL: coaching!, SMS_MCP_URL: sms! },
      workflows: workflowFiles('k8s/config/workflows'),
    });
  });
  afterAll(async () => {
    await h?.close();
    for (const child of mcps) child.kill('SIGTERM');
  });

  it("passes the image's HEALTHCHECK command while it serves, and fails it where nothing listens", async () => {
    const port = new URL(h.url).port;
    expect(await runNode(healthcheckCommand(), { PORT: port })).toBe(0);
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = String((probe.address() as AddressInfo).port);
    await new Promise((resolve) => probe.close(resolve));
    expect(await runNode(healthcheckCommand(), { PORT: closed })).toBe(1);
  });

  it('answers the paths the Deployment probes and Prometheus scrapes with 200', async () => {
    const objects = await kustomize(join(ROOT, 'k8s'));
    const c = find(objects, 'Deployment').spec.template.spec.containers[0];
    const annotations = find(objects, 'Deployment').spec.template.metadata.annotations;
    const paths = [
      c.startupProbe.httpGet.path,
      c.livenessProbe.httpGet.path,
      c.readinessProbe.httpGet.path,
      annotations['prometheus.io/path'],
    ];
    for (const path of paths) expect((await h.request('GET', path)).status, path).toBe(200);
  });

  it('exports every metric, label and route that the alert rules and the dashboard use', async () => {
    // Executions of every kind: completed, failed after retries, compensated by the saga.
    const runs: [string, Record<string, unknown>, string][] = [
      ['send_coached_sms', { phone: '+15551234567', coach_id: 'coach-123', message: 'hi' }, 'completed'],
      ['send_coached_sms', { phone: '+15551112222', coach_id: 'coach-123', message: 'hi' }, 'failed'],
      [
        'book_coaching_session',
        { user_id: 'user-1', coach_id: 'coach-123', slot: '2026-12-01T18:00', phone: '+15550000000' },
        'compensated',
      ],
    ];
    for (const [workflow, input, status] of runs) {
      const run = await h.json('POST', `/workflows/${workflow}/executions?wait=20000`, { body: { input } });
      expect(run.body.status, workflow).toBe(status);
    }
    for (const mcp of ['google-workspace', 'main-platform', 'textbee'])
      expect((await h.request('GET', `/mcps/${mcp}/health`)).status).toBe(200);
    // A registry change that fails validation: reload and discovery errors.
    writeFileSync(join(h.dir, 'mcp-registry.json'), '{ "mcps": 1 }');
    const exposition = await eventually(async () => {
      const page = parseExposition(await (await h.request('GET', '/metrics')).text());
      expect(page.series.get('orchestrator_discovery_errors_total')).toBeDefined();
      return page;
    });

    const routes = Object.keys(((await h.json('GET', '/docs/json')).body as Any).paths).map((p) =>
      p.replace(/\{(\w+)\}/g, ':$1'),
    );
    const known: Record<string, Set<string>> = {
      route: new Set(routes),
      status: new Set<string>([...EXECUTION_STATUSES, ...STEP_STATUSES]),
    };
    const alerts = parseYaml(read('deploy/observability/alerts.yml')) as Any;
    const dashboard = JSON.parse(read('deploy/observability/grafana-dashboard.json')) as Any;
    const expressions: [string, string][] = [
      ...alerts.groups.flatMap((g: Any) => g.rules.map((r: Any) => [`alert ${r.alert}`, r.expr])),
      ...dashboard.panels.flatMap((p: Any) =>
        (p.targets ?? []).map((t: Any) => [`panel ${p.title}`, t.expr]),
      ),
      ...dashboard.templating.list
        .filter((v: Any) => v.type === 'query')
        .map((v: Any) => {
          const [, metric, label] = /^label_values\((\w+),\s*(\w+)\)$/.exec(v.query.query)!;
          return [`variable ${v.name}`, `${metric}{${label}!=""}`];
        }),
    ];
    expect(expressions.length).toBeGreaterThan(20);
    const used = new Set<string>();
    for (const [where, expr] of expressions) {
      const refs = promqlRefs(expr);
      expect(refs.selectors.length, `${where} selects a metric`).toBeGreaterThan(0);
      const labelsInExpr = new Set<string>(TARGET_LABELS);
      for (const selector of refs.selectors) {
        const family = familyOf(selector.name, exposition);
        expect(family, `${where}: ${selector.name} is exported`).toBeDefined();
        used.add(family!);
        const samples = exposition.series.get(selector.name) ?? [];
        expect(samples.length, `${where}: ${selector.name} has samples after the run`).toBeGreaterThan(0);
        const labels = new Set([...samples.flatMap((s) => Object.keys(s)), ...TARGET_LABELS]);
        for (const label of labels) labelsInExpr.add(label);
        for (const matcher of selector.matchers) {
          expect(labels.has(matcher.label), `${where}: ${selector.name} has label ${matcher.label}`).toBe(
            true,
          );
          const values = known[matcher.label];
          if (values && !matcher.value.startsWith('$')) {
            const alternatives = matcher.op.endsWith('~') ? matcher.value.split('|') : [matcher.value];
            for (const value of alternatives)
              expect(values.has(value), `${where}: ${matcher.label}="${value}"`).toBe(true);
          }
        }
      }
      for (const label of refs.groupingLabels)
        expect(labelsInExpr.has(label), `${where}: grouping label ${label} exists`).toBe(true);
    }
    // The dashboard shows each subject the issue names; the alerts cover each failure it names.
    for (const family of [
      'orchestrator_workflow_executions_total',
      'orchestrator_workflow_duration_seconds',
      'orchestrator_workflows_queued',
      'orchestrator_circuit_breaker_state',
      'orchestrator_mcp_up',
      'http_request_duration_seconds',
      'orchestrator_compensations_total',
    ])
      expect(used.has(family), family).toBe(true);
    const alertNames = alerts.groups.flatMap((g: Any) => g.rules.map((r: Any) => r.alert)) as string[];
    for (const subject of ['CircuitBreakerOpen', 'FailureRatio', 'Queue', 'McpDown', 'CompensationFailed'])
      expect(
        alertNames.some((a) => a.includes(subject)),
        subject,
      ).toBe(true);
  });

  it('catches a metric the server does not export (so the test above can fail)', () => {
    const refs = promqlRefs('sum by (mcp) (rate(orchestrator_mcp_calls_total{outcome="error"}[5m]))');
    expect(refs.selectors.map((s) => s.name)).toEqual(['orchestrator_mcp_calls_total']);
    expect(refs.groupingLabels).toEqual(['mcp']);
    expect(() => promqlRefs('sum(rate(x[5m])')).toThrow(/unclosed/);
    expect(() => promqlRefs('rated(x[5m])')).toThrow(/unknown function rated/);
  });
});
