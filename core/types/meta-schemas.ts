/**
 * @module Schemas of k8s.io/apimachinery `meta/v1` shapes shared by every kind:
 * ObjectMeta, ListMeta, OwnerReference, ManagedFieldsEntry, LabelSelector,
 * Condition, Status and DeleteOptions.
 */
import type { Schema } from "../api/schema.ts";
import { atomic, bool, int32, int64, keyed, obj, ref, set, str, strMap, time, type Gvk } from "./schema-dsl.ts";

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

export const FIELDS_V1: Schema = {
  name: `${META}.FieldsV1`,
  description: "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.",
  type: "object",
  "x-kubernetes-preserve-unknown-fields": true,
};

export const MANAGED_FIELDS_ENTRY = obj(`${META}.ManagedFieldsEntry`, {
  apiVersion: str(),
  fieldsType: str(),
  fieldsV1: FIELDS_V1,
  manager: str(),
  operation: str(),
  subresource: str(),
  time: time(),
});

export const OWNER_REFERENCE = obj(
  `${META}.OwnerReference`,
  {
    apiVersion: str(),
    blockOwnerDeletion: bool(),
    controller: bool(),
    kind: str(),
    name: str(),
    uid: str(),
  },
  { required: ["apiVersion", "kind", "name", "uid"], mapType: "atomic" },
);

export const OBJECT_META = obj(`${META}.ObjectMeta`, {
  annotations: strMap(),
  creationTimestamp: time(),
  deletionGracePeriodSeconds: int64(),
  deletionTimestamp: time(),
  finalizers: set(str(), { strategy: "merge" }),
  generateName: str(),
  generation: int64(),
  labels: strMap(),
  managedFields: atomic(MANAGED_FIELDS_ENTRY),
  name: str(),
  namespace: str(),
  ownerReferences: keyed(OWNER_REFERENCE, ["uid"]),
  resourceVersion: str(),
  selfLink: str(),
  uid: str(),
});

export const LIST_META = obj(`${META}.ListMeta`, {
  continue: str(),
  remainingItemCount: int64(),
  resourceVersion: str(),
  selfLink: str(),
});

export const LABEL_SELECTOR_REQUIREMENT = obj(
  `${META}.LabelSelectorRequirement`,
  { key: str(), operator: str(), values: atomic(str()) },
  { required: ["key", "operator"] },
);

export const LABEL_SELECTOR = obj(
  `${META}.LabelSelector`,
  { matchExpressions: atomic(LABEL_SELECTOR_REQUIREMENT), matchLabels: strMap() },
  { mapType: "atomic" },
);

/** metav1.Condition (used by newer APIs; core and apps use their own condition structs). */
export const CONDITION = obj(
  `${META}.Condition`,
  {
    lastTransitionTime: time(),
    message: str(),
    observedGeneration: int64(),
    reason: str(),
    status: str(),
    type: str(),
  },
  { required: ["type", "status", "lastTransitionTime", "reason", "message"] },
);

export const STATUS_CAUSE = obj(`${META}.StatusCause`, { field: str(), message: str(), reason: str() });

export const STATUS_DETAILS = obj(`${META}.StatusDetails`, {
  causes: atomic(STATUS_CAUSE),
  group: str(),
  kind: str(),
  name: str(),
  retryAfterSeconds: int32(),
  uid: str(),
});

export const STATUS = obj(`${META}.Status`, {
  apiVersion: str(),
  code: int32(),
  details: ref(STATUS_DETAILS),
  kind: str(),
  message: str(),
  metadata: ref(LIST_META),
  reason: str(),
  status: str(),
});
STATUS["x-kubernetes-group-version-kind"] = [{ group: "", version: "v1", kind: "Status" }];

export const PRECONDITIONS = obj(`${META}.Preconditions`, { resourceVersion: str(), uid: str() });

/** Group-versions whose DELETE bodies carry a DeleteOptions (upstream lists every served one). */
export const DELETE_OPTIONS_GVKS: Gvk[] = [
  { group: "", version: "v1", kind: "DeleteOptions" },
  { group: "apps", version: "v1", kind: "DeleteOptions" },
  { group: "autoscaling", version: "v1", kind: "DeleteOptions" },
  { group: "autoscaling", version: "v2", kind: "DeleteOptions" },
  { group: "batch", version: "v1", kind: "DeleteOptions" },
  { group: "coordination.k8s.io", version: "v1", kind: "DeleteOptions" },
  { group: "discovery.k8s.io", version: "v1", kind: "DeleteOptions" },
  { group: "events.k8s.io", version: "v1", kind: "DeleteOptions" },
  { group: "meta.k8s.io", version: "v1", kind: "DeleteOptions" },
  { group: "policy", version: "v1", kind: "DeleteOptions" },
  { group: "rbac.authorization.k8s.io", version: "v1", kind: "DeleteOptions" },
  { group: "apiextensions.k8s.io", version: "v1", kind: "DeleteOptions" },
];

export const DELETE_OPTIONS = obj(`${META}.DeleteOptions`, {
  apiVersion: str(),
  dryRun: atomic(str()),
  gracePeriodSeconds: int64(),
  ignoreStoreReadErrorWithClusterBreakingPotential: bool(),
  kind: str(),
  orphanDependents: bool(),
  preconditions: ref(PRECONDITIONS),
  propagationPolicy: str(),
});
DELETE_OPTIONS["x-kubernetes-group-version-kind"] = DELETE_OPTIONS_GVKS.map((g) => ({ ...g }));

/** Description of ObjectMeta.name, used by every Name table column (metav1.ObjectMeta SwaggerDoc). */
export const NAME_DESCRIPTION =
  "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/** Description of ObjectMeta.creationTimestamp, used by every Age table column. */
export const CREATION_TIMESTAMP_DESCRIPTION =
  "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
