/**
 * @module Built-in kinds: the declarations (schema, defaults, validation,
 * table columns, selectable fields, subresources, names) of core/v1, apps/v1,
 * batch/v1, autoscaling/v2+v1, policy/v1, rbac.authorization.k8s.io/v1,
 * coordination.k8s.io/v1, discovery.k8s.io/v1, networking.k8s.io/v1,
 * scheduling.k8s.io/v1 and events.k8s.io/v1; the storage conversions of
 * resources served in two shapes (conversions.ts); plus shared schemas and
 * helpers the server needs (Binding, Eviction, Scale, DeleteOptions, Status,
 * humanDuration). See README.md.
 */
import type { ResourceTypeInit } from "../api/registry.ts";
import { appsV1Types } from "./apps-v1/index.ts";
import { hpaV1Type } from "./autoscaling-v1/index.ts";
import { hpaV2Type } from "./autoscaling-v2/index.ts";
import { batchV1Types } from "./batch-v1/index.ts";
import { coordinationV1Types } from "./coordination-v1/index.ts";
import { coreV1Types } from "./core-v1/index.ts";
import { discoveryV1Types } from "./discovery-v1/index.ts";
import { eventsV1Types } from "./events-v1/index.ts";
import { networkingV1Types } from "./networking-v1/index.ts";
import { policyV1Types } from "./policy-v1/index.ts";
import { rbacV1Types } from "./rbac-v1/index.ts";
import { schedulingV1Types } from "./scheduling-v1/index.ts";

/** autoscaling: v2 (the storage and preferred version) first, then v1. */
export function autoscalingTypes(): ResourceTypeInit[] {
  return [hpaV2Type, hpaV1Type];
}

/**
 * Every built-in kind, in registration order: core, apps, batch, autoscaling,
 * policy, rbac, coordination, discovery, networking, scheduling, events.k8s.io.
 * The declarations are shared module constants: treat them as read-only.
 * events.k8s.io/v1 events must share the `events` storage key (see
 * `storageKeyOverrides` and `conversions`).
 */
export function builtinTypes(): ResourceTypeInit[] {
  return [
    ...coreV1Types(),
    ...appsV1Types(),
    ...batchV1Types(),
    ...autoscalingTypes(),
    ...policyV1Types(),
    ...rbacV1Types(),
    ...coordinationV1Types(),
    ...discoveryV1Types(),
    ...networkingV1Types(),
    ...schedulingV1Types(),
    ...eventsV1Types(),
  ];
}

export { appsV1Types } from "./apps-v1/index.ts";
export { coreV1Types } from "./core-v1/index.ts";
export { batchV1Types, cronJobType, jobType } from "./batch-v1/index.ts";
export { hpaV1Type, hpaV1ToV2, hpaV2ToV1 } from "./autoscaling-v1/index.ts";
export { hpaV2Type } from "./autoscaling-v2/index.ts";
export { EVICTION_SCHEMA, pdbType, policyV1Types } from "./policy-v1/index.ts";
export { clusterRoleBindingType, clusterRoleType, rbacV1Types, roleBindingType, roleType } from "./rbac-v1/index.ts";
export {
  AUTHORIZATION_GROUP,
  authorizationV1Types,
  localSubjectAccessReviewType,
  selfSubjectAccessReviewType,
  selfSubjectRulesReviewType,
  subjectAccessReviewType,
} from "./authorization-v1/index.ts";
export { coordinationV1Types, leaseType } from "./coordination-v1/index.ts";
export { discoveryV1Types, endpointSliceType } from "./discovery-v1/index.ts";
export { ingressClassType, ingressType, networkingV1Types, networkPolicyType } from "./networking-v1/index.ts";
export { priorityClassType, schedulingV1Types } from "./scheduling-v1/index.ts";
export { coreEventToEventsV1, eventsV1EventType, eventsV1ToCoreEvent, eventsV1Types } from "./events-v1/index.ts";
export {
  conversions,
  EVENTS_STORAGE_KEY,
  HPA_STORAGE_KEY,
  storageKeyOverrides,
  UnknownVersionError,
  type StorageConversion,
} from "./conversions.ts";
export { BINDING_SCHEMA, OBJECT_REFERENCE, POD_SPEC, POD_TEMPLATE_SPEC, podSummary } from "./core-v1/index.ts";
export { SCALE_SCHEMA } from "./scale.ts";
export {
  CONDITION,
  CREATION_TIMESTAMP_DESCRIPTION,
  DELETE_OPTIONS,
  LABEL_SELECTOR,
  LIST_META,
  NAME_DESCRIPTION,
  OBJECT_META,
  OWNER_REFERENCE,
  STATUS,
} from "./meta-schemas.ts";
export { humanDuration, shortHumanDuration, timeSince } from "./duration.ts";
export { canonicalQuantity, compareQuantity, formatQuantity, parseQuantity, type Quantity } from "./quantity.ts";
export { canonicalizeQuantities } from "./normalize.ts";
export { formatLabelSelector, formatLabels, labelSelectorString } from "./table.ts";
export * as dsl from "./schema-dsl.ts";
