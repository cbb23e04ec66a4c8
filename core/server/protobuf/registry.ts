/**
 * @module The descriptor registry: every table merged and parsed once, plus
 * the (apiVersion, kind) → top-level message mapping.
 */

import { parseMessage, type MessageDescriptor, type MessageTable } from "./descriptors.ts";
import { SPECIAL_TYPES } from "./special.ts";
import { APPS_V1, BATCH_V1 } from "./tables/apps-batch-v1.ts";
import { CORE_V1_CONTAINER } from "./tables/core-v1-container.ts";
import { CORE_V1_OBJECTS } from "./tables/core-v1-objects.ts";
import { CORE_V1_POD } from "./tables/core-v1-pod.ts";
import { CORE_V1_VOLUMES } from "./tables/core-v1-volumes.ts";
import { META_V1 } from "./tables/meta-v1.ts";
import { AUTHENTICATION_V1, NETWORKING_V1, POLICY_V1, RBAC_V1, SCHEDULING_V1 } from "./tables/other-groups-v1.ts";

const TABLES: readonly MessageTable[] = [
  META_V1,
  CORE_V1_OBJECTS,
  CORE_V1_POD,
  CORE_V1_CONTAINER,
  CORE_V1_VOLUMES,
  APPS_V1,
  BATCH_V1,
  RBAC_V1,
  POLICY_V1,
  NETWORKING_V1,
  SCHEDULING_V1,
  AUTHENTICATION_V1,
];

/** A decodable top-level kind. */
export interface SupportedKind {
  readonly apiVersion: string;
  readonly kind: string;
  readonly message: string;
}

const KINDS_BY_GROUP_VERSION: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  v1: {
    Namespace: "core.v1.Namespace",
    ConfigMap: "core.v1.ConfigMap",
    Secret: "core.v1.Secret",
    Service: "core.v1.Service",
    ServiceAccount: "core.v1.ServiceAccount",
    Pod: "core.v1.Pod",
    PodTemplate: "core.v1.PodTemplate",
    ResourceQuota: "core.v1.ResourceQuota",
    LimitRange: "core.v1.LimitRange",
    Binding: "core.v1.Binding",
    Endpoints: "core.v1.Endpoints",
    Event: "core.v1.Event",
    ReplicationController: "core.v1.ReplicationController",
    PersistentVolumeClaim: "core.v1.PersistentVolumeClaim",
  },
  "apps/v1": {
    Deployment: "apps.v1.Deployment",
    ReplicaSet: "apps.v1.ReplicaSet",
    DaemonSet: "apps.v1.DaemonSet",
    StatefulSet: "apps.v1.StatefulSet",
  },
  "batch/v1": { Job: "batch.v1.Job", CronJob: "batch.v1.CronJob" },
  "rbac.authorization.k8s.io/v1": {
    Role: "rbac.v1.Role",
    RoleBinding: "rbac.v1.RoleBinding",
    ClusterRole: "rbac.v1.ClusterRole",
    ClusterRoleBinding: "rbac.v1.ClusterRoleBinding",
  },
  "policy/v1": { PodDisruptionBudget: "policy.v1.PodDisruptionBudget", Eviction: "policy.v1.Eviction" },
  "networking.k8s.io/v1": {
    Ingress: "networking.v1.Ingress",
    IngressClass: "networking.v1.IngressClass",
    NetworkPolicy: "networking.v1.NetworkPolicy",
  },
  "scheduling.k8s.io/v1": { PriorityClass: "scheduling.v1.PriorityClass" },
  "authentication.k8s.io/v1": {
    TokenRequest: "authentication.v1.TokenRequest",
    TokenReview: "authentication.v1.TokenReview",
  },
  "meta.k8s.io/v1": { DeleteOptions: "meta.v1.DeleteOptions", CreateOptions: "meta.v1.CreateOptions" },
};

/**
 * Option kinds upstream registers into every group-version (metav1.AddToGroupVersion),
 * so a typed client sends e.g. `apps/v1, Kind=DeleteOptions`.
 */
const OPTION_KINDS: Readonly<Record<string, string>> = {
  DeleteOptions: "meta.v1.DeleteOptions",
  CreateOptions: "meta.v1.CreateOptions",
};

/** Every (apiVersion, kind) with a table, in a stable order. */
export const SUPPORTED_KINDS: readonly SupportedKind[] = Object.entries(KINDS_BY_GROUP_VERSION).flatMap(
  ([apiVersion, kinds]) => Object.entries(kinds).map(([kind, message]) => ({ apiVersion, kind, message })),
);

let registry: Map<string, MessageDescriptor> | undefined;

/** All message descriptors, parsed on first use. */
export function messages(): ReadonlyMap<string, MessageDescriptor> {
  if (!registry) {
    const built = new Map<string, MessageDescriptor>();
    for (const table of TABLES) {
      for (const [name, spec] of Object.entries(table)) {
        if (built.has(name)) throw new Error(`protobuf table: ${name} defined twice`);
        built.set(name, parseMessage(name, spec));
      }
    }
    registry = built;
  }
  return registry;
}

/** True for a name that is a table message or a special wrapper. */
export function isKnownMessage(name: string): boolean {
  return messages().has(name) || SPECIAL_TYPES.has(name);
}

/** The top-level message for an envelope's (apiVersion, kind), if any. */
export function messageForKind(apiVersion: string, kind: string): string | undefined {
  const byKind = Object.hasOwn(KINDS_BY_GROUP_VERSION, apiVersion) ? KINDS_BY_GROUP_VERSION[apiVersion] : undefined;
  if (byKind && Object.hasOwn(byKind, kind)) return byKind[kind];
  return Object.hasOwn(OPTION_KINDS, kind) && apiVersion !== "" ? OPTION_KINDS[kind] : undefined;
}
