/**
 * @module The core/v1 ("legacy" group) kinds and the shared schemas other
 * groups build on (PodSpec, PodTemplateSpec, Container, Volume, ObjectReference).
 */
import type { ResourceTypeInit } from "../../api/registry.ts";
import { configMapType, secretType, serviceAccountType } from "./config.ts";
import { endpointsType } from "./endpoints.ts";
import { eventType } from "./event.ts";
import { namespaceType } from "./namespace.ts";
import { nodeType } from "./node.ts";
import { podType } from "./pod.ts";
import { persistentVolumeType } from "./persistent-volume.ts";
import { pvcType } from "./pvc.ts";
import { podTemplateType, replicationControllerType } from "./replication-controller.ts";
import { limitRangeType, resourceQuotaType } from "./resource-quota.ts";
import { serviceType } from "./service.ts";

/** Every core/v1 kind, in discovery order. */
export function coreV1Types(): ResourceTypeInit[] {
  return [
    configMapType,
    endpointsType,
    eventType,
    limitRangeType,
    namespaceType,
    nodeType,
    pvcType,
    persistentVolumeType,
    podType,
    podTemplateType,
    replicationControllerType,
    resourceQuotaType,
    secretType,
    serviceAccountType,
    serviceType,
  ];
}

export { configMapType, secretType, serviceAccountType } from "./config.ts";
export { endpointsType } from "./endpoints.ts";
export { EVENT_SCHEMA, EVENT_SOURCE, eventType, legacyValidateEvent } from "./event.ts";
export { namespaceType } from "./namespace.ts";
export { nodeType } from "./node.ts";
export { BINDING_SCHEMA, EVICTION_SCHEMA, OBJECT_REFERENCE, POD_SCHEMA, podType } from "./pod.ts";
export { persistentVolumeType, PV_SCHEMA } from "./persistent-volume.ts";
export { pvcType } from "./pvc.ts";
export { LIMIT_RANGE_SCHEMA, limitRangeType, RESOURCE_QUOTA_SCHEMA, resourceQuotaType } from "./resource-quota.ts";
export { podTemplateType, replicationControllerType } from "./replication-controller.ts";
export { serviceType } from "./service.ts";
export { CONTAINER, EPHEMERAL_CONTAINER } from "./container-schema.ts";
export { POD_SPEC, POD_STATUS, POD_TEMPLATE_SPEC } from "./pod-spec-schema.ts";
export { VOLUME } from "./volume-schema.ts";
export { defaultPod, defaultPodSpec, defaultPodTemplate, podQOSClass } from "./pod-defaults.ts";
export { validatePodSpec, validatePodTemplate } from "./pod-validation.ts";
export { podSummary } from "./pod-table.ts";
