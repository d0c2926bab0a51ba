/**
 * Kubernetes manifests, checked offline: `kubectl kustomize` builds them,
 * kubernetes-models validates each object against the API's OpenAPI schema,
 * and a strict pass rejects fields the API does not know (the schemas allow
 * unknown fields, so a typo such as `readinessProbes` would pass them and be
 * dropped silently by the API server, as `kubectl apply --validate=strict`
 * would have told). The strict pass walks the attribute maps of
 * @kubernetes/client-node's generated models.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; the tests check their shape.
type Untyped = any;

/** A Kubernetes object as read from YAML. */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: Untyped };
  [k: string]: Untyped;
};

const run = promisify(execFile);

/** `kubectl kustomize DIR`, parsed: every document, none empty. */
export async function kustomize(dir: string): Promise<KubeObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${dir}: ${doc.errors[0]!.message}`);
    return doc.toJS() as KubeObject;
  });
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

/** The kinds these manifests may use, by `apiVersion/kind`, with their schema-checked model. */
export const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler as unknown as ModelClass,
} as unknown as Record<string, ModelClass>;

/**
 * Problems of one object: schema errors (kubernetes-models) and unknown
 * fields (strict). Empty when valid.
 */
export function validateObject(object: KubeObject): string[] {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS[key];
  if (!Model) return [`${key}: no schema known for this apiVersion and kind`];
  const problems: string[] = [];
  try {
    new Model(structuredClone(object) as never).validate();
  } catch (error) {
    problems.push(`${key} ${object.metadata.name}: ${(error as Error).message}`);
  }
  const version = object.apiVersion.split('/').at(-1)!;
  const typeName = `V${version.slice(1)}${object.kind}`;
  for (const path of unknownFields(object, typeName, ''))
    problems.push(`${key} ${object.metadata.name}: unknown field ${path}`);
  return problems;
}

type AttributeMap = { baseName: string; type: string }[];
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap }>;

/** Paths of fields that the client-node model of `type` does not know, recursively. */
export function unknownFields(value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [];
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    return Object.entries(value as object).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`));
  }
  const attributes = models[type]?.getAttributeTypeMap?.();
  if (!attributes || typeof value !== 'object') return []; // string, number, IntOrString, any...
  const known = new Map(attributes.map((a) => [a.baseName, a.type]));
  return Object.entries(value as object).flatMap(([k, v]) => {
    const at = path ? `${path}.${k}` : k;
    const t = known.get(k);
    return t === undefined ? [at] : unknownFields(v, t, at);
  });
}

/** The first object of `kind` (and `name`, when given); throws when there is none. */
export function find(objects: KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ''} in the build`);
  return found;
}

/** Whether every `matchLabels` pair is among `labels`. */
export function selects(matchLabels: Record<string, string>, labels: Record<string, string>): boolean {
  const pairs = Object.entries(matchLabels ?? {});
  return pairs.length > 0 && pairs.every(([k, v]) => labels?.[k] === v);
}

/** The pod templates of workload objects (Deployment, StatefulSet), with their owner. */
export function podTemplates(objects: KubeObject[]): { owner: KubeObject; template: KubeObject['spec'] }[] {
  return objects
    .filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .map((owner) => ({ owner, template: owner.spec.template }));
}
