/**
 * @module The resources the built-in controllers read and write, and the
 * small object shapes they look at. Objects stay plain JSON (`KubeObject`);
 * these interfaces only name the fields a controller touches.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import type { LabelSelectorObject } from "../../../core/api/selectors.ts";
import type { ResourceRef } from "../../../core/client/types.ts";

export const PODS: ResourceRef = { group: "", version: "v1", resource: "pods" };
export const REPLICA_SETS: ResourceRef = { group: "apps", version: "v1", resource: "replicasets" };
export const REPLICATION_CONTROLLERS: ResourceRef = { group: "", version: "v1", resource: "replicationcontrollers" };
export const DEPLOYMENTS: ResourceRef = { group: "apps", version: "v1", resource: "deployments" };
export const NAMESPACES: ResourceRef = { group: "", version: "v1", resource: "namespaces", namespaced: false };
export const EVENTS: ResourceRef = { group: "", version: "v1", resource: "events" };
export const LEASES: ResourceRef = { group: "coordination.k8s.io", version: "v1", resource: "leases" };
export const CRDS: ResourceRef = { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", namespaced: false };

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[]; [k: string]: unknown };
  spec?: Record<string, unknown>;
}

export interface Pod extends KubeObject {
  spec?: { nodeName?: string; [k: string]: unknown };
  status?: {
    phase?: string;
    conditions?: Condition[];
    containerStatuses?: { restartCount?: number }[];
    [k: string]: unknown;
  };
}

export interface ReplicaStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

/** A ReplicaSet (apps/v1) or a ReplicationController (v1): `spec.selector` differs in shape. */
export interface ReplicaOwner extends KubeObject {
  spec?: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: LabelSelectorObject | Record<string, string>;
    template?: PodTemplate;
  };
  status?: ReplicaStatus;
}

export interface ReplicaSet extends ReplicaOwner {
  spec?: ReplicaOwner["spec"] & { selector?: LabelSelectorObject };
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: Condition[];
}

export interface Deployment extends KubeObject {
  spec?: {
    replicas?: number;
    selector?: LabelSelectorObject;
    template?: PodTemplate;
    strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    paused?: boolean;
    progressDeadlineSeconds?: number;
  };
  status?: DeploymentStatus;
}

/** RFC 3339 with second precision, as metav1.Time serializes. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** RFC 3339 with microseconds, as metav1.MicroTime serializes. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/** A time field as epoch milliseconds (NaN when absent or malformed). */
export function timeOf(s: string | null | undefined): number {
  return s ? Date.parse(s) : NaN;
}

/** A create refused because the namespace is terminating (upstream NamespaceTerminatingCause). */
export function isNamespaceTerminating(e: unknown): boolean {
  const err = e as { reason?: string; message?: string; details?: { causes?: { reason?: string }[] } } | undefined;
  if (err?.reason !== "Forbidden") return false;
  if (err.details?.causes?.some((c) => c.reason === "NamespaceTerminating")) return true;
  return /because it is being terminated/.test(err.message ?? "");
}
