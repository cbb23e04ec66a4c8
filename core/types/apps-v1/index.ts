/**
 * @module The apps/v1 kinds: Deployment, ReplicaSet, DaemonSet, StatefulSet
 * and ControllerRevision, with upstream's defaults, validation, table
 * columns, short names, categories and subresources.
 */
import type { StatusCause } from "../../api/errors.ts";
import { deepEqual } from "../../api/json.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit, TableColumn } from "../../api/registry.ts";
import type { Schema } from "../../api/schema.ts";
import { canonicalizeQuantitiesOrThrow } from "../normalize.ts";
import { asNum, asObj, getPath, numAt, type JsonObject } from "../object-access.ts";
import {
  ageColumn,
  column,
  formatLabelSelector,
  formatLabels,
  labelSelectorString,
  nameColumn,
  templateContainerColumns,
} from "../table.ts";
import { defaultDaemonSet, defaultDeployment, defaultReplicaSet, defaultStatefulSet } from "./defaults.ts";
import {
  CONTROLLER_REVISION_SCHEMA,
  DAEMON_SET_SCHEMA,
  DEPLOYMENT_SCHEMA,
  REPLICA_SET_SCHEMA,
  STATEFUL_SET_SCHEMA,
} from "./schemas.ts";
import { validateDaemonSet, validateDeployment, validateReplicaSet, validateStatefulSet } from "./validation.ts";

const SCALE = { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas", labelSelectorPath: ".spec.selector" };

function workloadDefaults(schema: Schema, kind: string, fill: (o: JsonObject) => void): (o: KubeObject) => void {
  return (o) => {
    canonicalizeQuantitiesOrThrow(schema, o, kind, "v1");
    fill(o as JsonObject);
  };
}

function specReplicas(o: KubeObject): number {
  return asNum(getPath(o, "spec", "replicas")) ?? 0;
}

const SELECTOR_DESC = "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment. It must match the pod template's labels.";

function deploymentColumns(): TableColumn[] {
  return [
    nameColumn(),
    column("Ready", "string", "Number of the pod with ready state", (o) => `${numAt(o, "status", "readyReplicas")}/${specReplicas(o)}`),
    column(
      "Up-to-date",
      "string",
      "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
      (o) => numAt(o, "status", "updatedReplicas"),
    ),
    column(
      "Available",
      "string",
      "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
      (o) => numAt(o, "status", "availableReplicas"),
    ),
    ageColumn(),
    ...templateContainerColumns(),
    column("Selector", "string", SELECTOR_DESC, (o) => labelSelectorString(getPath(o, "spec", "selector")) ?? "<invalid>", 1),
  ];
}

const RC_DOC = "More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller";

function replicaSetColumns(): TableColumn[] {
  return [
    nameColumn(),
    column(
      "Desired",
      "integer",
      `Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. ${RC_DOC}`,
      specReplicas,
    ),
    column("Current", "integer", `Replicas is the most recently observed number of replicas. ${RC_DOC}`, (o) => numAt(o, "status", "replicas")),
    column("Ready", "integer", "The number of ready replicas for this replica set.", (o) => numAt(o, "status", "readyReplicas")),
    ageColumn(),
    ...templateContainerColumns(),
    column(
      "Selector",
      "string",
      "Selector is a label query over pods that should match the replica count. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
      (o) => formatLabelSelector(getPath(o, "spec", "selector")),
      1,
    ),
  ];
}

function daemonSetColumns(): TableColumn[] {
  const status = (f: string) => (o: KubeObject) => numAt(o, "status", f);
  return [
    nameColumn(),
    column("Desired", "integer", "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/", status("desiredNumberScheduled")),
    column("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/", status("currentNumberScheduled")),
    column("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.", status("numberReady")),
    column("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod", status("updatedNumberScheduled")),
    column("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)", status("numberAvailable")),
    column(
      "Node Selector",
      "string",
      "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
      (o) => formatLabels(getPath(o, "spec", "template", "spec", "nodeSelector")),
    ),
    ageColumn(),
    ...templateContainerColumns(),
    column(
      "Selector",
      "string",
      "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors",
      (o) => formatLabelSelector(getPath(o, "spec", "selector")),
      1,
    ),
  ];
}

function statefulSetColumns(): TableColumn[] {
  return [
    nameColumn(),
    column("Ready", "string", "Number of the pod with ready state", (o) => `${numAt(o, "status", "readyReplicas")}/${specReplicas(o)}`),
    ageColumn(),
    ...templateContainerColumns(),
  ];
}

/** formatResourceName(GroupKind, name): `daemonset.apps/web`. */
function controllerOf(o: KubeObject): string {
  const ref = (o.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref) return "<none>";
  const slash = ref.apiVersion.indexOf("/");
  const group = slash < 0 ? "" : ref.apiVersion.slice(0, slash);
  const gk = group ? `${ref.kind}.${group}` : ref.kind;
  return gk ? `${gk.toLowerCase()}/${ref.name}` : ref.name;
}

export const deploymentType: ResourceTypeInit = {
  group: "apps",
  version: "v1",
  kind: "Deployment",
  plural: "deployments",
  singular: "deployment",
  shortNames: ["deploy"],
  namespaced: true,
  categories: ["all"],
  schema: DEPLOYMENT_SCHEMA,
  columns: deploymentColumns(),
  subresources: { status: true, scale: SCALE },
  strategy: {
    defaults: workloadDefaults(DEPLOYMENT_SCHEMA, "Deployment", defaultDeployment),
    validate: validateDeployment,
    prepareForCreate(o) {
      o.status = {};
    },
    // Upstream: annotation changes bump it too, since they are copied to ReplicaSets.
    // (Status writes, which carry the controller's revision annotation, never move it.)
    generationChanged: (o, old) => !deepEqual(o.spec, old.spec) || !deepEqual(o.metadata.annotations ?? {}, old.metadata.annotations ?? {}),
    // Upstream's deployment status strategy keeps the request's metadata but labels; we take its annotations
    // (the controller writes `deployment.kubernetes.io/revision` together with status).
    prepareForStatusUpdate(obj, proposed) {
      const { annotations: _, ...meta } = obj.metadata;
      obj.metadata = proposed.metadata.annotations ? { ...meta, annotations: proposed.metadata.annotations } : meta;
    },
  },
};

export const replicaSetType: ResourceTypeInit = {
  group: "apps",
  version: "v1",
  kind: "ReplicaSet",
  plural: "replicasets",
  singular: "replicaset",
  shortNames: ["rs"],
  namespaced: true,
  categories: ["all"],
  schema: REPLICA_SET_SCHEMA,
  columns: replicaSetColumns(),
  subresources: { status: true, scale: SCALE },
  selectableFields: { "status.replicas": (o) => String(numAt(o, "status", "replicas")) },
  strategy: {
    defaults: workloadDefaults(REPLICA_SET_SCHEMA, "ReplicaSet", defaultReplicaSet),
    validate: validateReplicaSet,
    prepareForCreate(o) {
      o.status = { replicas: 0 };
    },
  },
};

export const daemonSetType: ResourceTypeInit = {
  group: "apps",
  version: "v1",
  kind: "DaemonSet",
  plural: "daemonsets",
  singular: "daemonset",
  shortNames: ["ds"],
  namespaced: true,
  categories: ["all"],
  schema: DAEMON_SET_SCHEMA,
  columns: daemonSetColumns(),
  subresources: { status: true },
  strategy: {
    defaults: workloadDefaults(DAEMON_SET_SCHEMA, "DaemonSet", defaultDaemonSet),
    validate: validateDaemonSet,
    prepareForCreate(o) {
      o.status = { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
    },
  },
};

export const statefulSetType: ResourceTypeInit = {
  group: "apps",
  version: "v1",
  kind: "StatefulSet",
  plural: "statefulsets",
  singular: "statefulset",
  shortNames: ["sts"],
  namespaced: true,
  categories: ["all"],
  schema: STATEFUL_SET_SCHEMA,
  columns: statefulSetColumns(),
  subresources: { status: true, scale: SCALE },
  strategy: {
    defaults: workloadDefaults(STATEFUL_SET_SCHEMA, "StatefulSet", defaultStatefulSet),
    validate: validateStatefulSet,
    prepareForCreate(o) {
      o.status = { availableReplicas: 0, replicas: 0 };
    },
  },
};

export const controllerRevisionType: ResourceTypeInit = {
  group: "apps",
  version: "v1",
  kind: "ControllerRevision",
  plural: "controllerrevisions",
  singular: "controllerrevision",
  namespaced: true,
  schema: CONTROLLER_REVISION_SCHEMA,
  columns: [
    nameColumn(),
    column("Controller", "string", "Controller of the object", controllerOf),
    column("Revision", "string", "Revision indicates the revision of the state represented by Data.", (o) => asNum(asObj(o)?.revision) ?? 0),
    ageColumn(),
  ],
  strategy: {
    validate(o, old) {
      const causes: StatusCause[] = [];
      const rev = asNum(o.revision);
      if (rev === undefined || rev < 0) {
        causes.push({ reason: "FieldValueInvalid", field: "revision", message: `Invalid value: ${String(o.revision ?? 0)}: must be greater than or equal to 0` });
      }
      if (old && JSON.stringify(o.data ?? null) !== JSON.stringify(old.data ?? null)) {
        causes.push({ reason: "FieldValueInvalid", field: "data", message: "Invalid value: \"...\": field is immutable" });
      }
      return causes;
    },
  },
};

/** Every apps/v1 kind, in discovery order. */
export function appsV1Types(): ResourceTypeInit[] {
  return [controllerRevisionType, daemonSetType, deploymentType, replicaSetType, statefulSetType];
}

