/**
 * @module Which resources exist, for the controllers that act on every kind
 * (garbage collector, namespace controller).
 *
 * Resources come from the Client's discovery (`/api`, `/apis`), so CRDs and
 * kinds added by plugins are included. The built-in table below only seeds
 * `KindMap` (ownerReferences may name any served version) and is checked
 * against the kernel's registry by a test.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client, ResourceRef } from "../../../core/client/types.ts";

export interface ResourceInfo {
  readonly ref: ResourceRef;
  readonly kind: string;
  /** `group/version` (or `v1`) the ref uses. */
  readonly apiVersion: string;
  readonly namespaced: boolean;
}

function info(apiVersion: string, kind: string, resource: string, namespaced = true): ResourceInfo {
  const i = apiVersion.indexOf("/");
  const group = i < 0 ? "" : apiVersion.slice(0, i);
  const version = i < 0 ? apiVersion : apiVersion.slice(i + 1);
  return { ref: { group, version, resource, ...(namespaced ? {} : { namespaced: false }) }, kind, apiVersion, namespaced };
}

/** One entry per built-in group/resource, at the version Skiff prefers. */
export const BUILTIN_RESOURCES: readonly ResourceInfo[] = [
  info("v1", "ConfigMap", "configmaps"),
  info("v1", "Endpoints", "endpoints"),
  info("v1", "Event", "events"),
  info("v1", "LimitRange", "limitranges"),
  info("v1", "Namespace", "namespaces", false),
  info("v1", "Node", "nodes", false),
  info("v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
  info("v1", "PersistentVolume", "persistentvolumes", false),
  info("v1", "Pod", "pods"),
  info("v1", "PodTemplate", "podtemplates"),
  info("v1", "ReplicationController", "replicationcontrollers"),
  info("v1", "ResourceQuota", "resourcequotas"),
  info("v1", "Secret", "secrets"),
  info("v1", "ServiceAccount", "serviceaccounts"),
  info("v1", "Service", "services"),
  info("apps/v1", "ControllerRevision", "controllerrevisions"),
  info("apps/v1", "DaemonSet", "daemonsets"),
  info("apps/v1", "Deployment", "deployments"),
  info("apps/v1", "ReplicaSet", "replicasets"),
  info("apps/v1", "StatefulSet", "statefulsets"),
  info("batch/v1", "CronJob", "cronjobs"),
  info("batch/v1", "Job", "jobs"),
  info("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
  info("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
  info("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false),
  info("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false),
  info("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
  info("rbac.authorization.k8s.io/v1", "Role", "roles"),
  info("coordination.k8s.io/v1", "Lease", "leases"),
  info("discovery.k8s.io/v1", "EndpointSlice", "endpointslices"),
  info("networking.k8s.io/v1", "IngressClass", "ingressclasses", false),
  info("networking.k8s.io/v1", "Ingress", "ingresses"),
  info("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
  info("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", false),
  info("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", false),
];

/** Other served versions of built-in kinds (an ownerReference may name any of them). */
const ALIASES: readonly ResourceInfo[] = [
  info("autoscaling/v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
  info("events.k8s.io/v1", "Event", "events"),
];

interface Crd extends KubeObject {
  spec?: {
    group?: string;
    scope?: string;
    names?: { plural?: string; kind?: string };
    versions?: { name: string; served?: boolean; storage?: boolean }[];
  };
}

/** The resources of a CRD: its storage version first (the one to watch), then the other served ones. */
export function crdResources(crd: KubeObject): ResourceInfo[] {
  const spec = (crd as Crd).spec;
  const group = spec?.group;
  const plural = spec?.names?.plural;
  const kind = spec?.names?.kind;
  if (!group || !plural || !kind) return [];
  const served = (spec.versions ?? []).filter((v) => v.served !== false).sort((a, b) => Number(b.storage === true) - Number(a.storage === true));
  return served.map((v) => info(`${group}/${v.name}`, kind, plural, spec.scope !== "Cluster"));
}

/** Every served resource that can be listed, watched and deleted, in every served version (preferred first). */
export async function discoverAll(client: Client): Promise<ResourceInfo[]> {
  const out: ResourceInfo[] = [];
  for (const r of await client.discover()) {
    if (!["list", "watch", "delete"].every((v) => r.verbs.includes(v))) continue;
    const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    out.push(info(apiVersion, r.kind, r.resource, r.namespaced));
  }
  return out;
}

/**
 * One entry per group/resource, at its preferred version: built-in kinds,
 * CRDs and kinds added by plugins alike (through the Client's discovery).
 */
export async function discoverResources(client: Client): Promise<ResourceInfo[]> {
  const seen = new Set<string>();
  const out: ResourceInfo[] = [];
  for (const r of await discoverAll(client)) {
    const key = `${r.ref.group}/${r.ref.resource}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/** Finds the resource for an ownerReference's apiVersion and kind. */
export class KindMap {
  readonly #m = new Map<string, ResourceInfo>();
  constructor(infos: readonly ResourceInfo[] = []) {
    for (const i of [...BUILTIN_RESOURCES, ...ALIASES, ...infos]) this.add(i);
  }
  add(i: ResourceInfo): void {
    this.#m.set(`${i.apiVersion}|${i.kind}`, i);
  }
  get(apiVersion: string, kind: string): ResourceInfo | undefined {
    return this.#m.get(`${apiVersion}|${kind}`);
  }
}
