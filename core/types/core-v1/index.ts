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
import { pvcType } from "./pvc.ts";
import { podTemplateType, replicationControllerType } from "./replication-controller.ts";
import { serviceType } from "./service.ts";

/** Every core/v1 kind, in discovery order. */
export function coreV1Types(): ResourceTypeInit[] {
  return [
    configMapType,
    endpointsType,
    eventType,
    namespaceType,
    nodeType,
    pvcType,
    podType,
    podTemplateType,
    replicationControllerType,
    secretType,
    serviceAccountType,
    serviceType,
  ];
}

export { configMapType, secretType, serviceAccountType } from "./config.ts";
export { endpointsType } from "./endpoints.ts";
export { eventType } from "./event.ts";
export { namespaceType } from "./namespace.ts";
export { nodeType } from "./node.ts";
export { BINDING_SCHEMA, EVICTION_SCHEMA, OBJECT_REFERENCE, POD_SCHEMA, podType } from "./pod.ts";
export { pvcType } from "./pvc.ts";
export { podTemplateType, replicationControllerType } from "./replication-controller.ts";
export { serviceType } from "./service.ts";
export { CONTAINER, EPHEMERAL_CONTAINER } from "./container-schema.ts";
export { POD_SPEC, POD_STATUS, POD_TEMPLATE_SPEC } from "./pod-spec-schema.ts";
export { VOLUME } from "./volume-schema.ts";
export { defaultPod, defaultPodSpec, defaultPodTemplate, podQOSClass } from "./pod-defaults.ts";
export { validatePodSpec, validatePodTemplate } from "./pod-validation.ts";
export { podSummary } from "./pod-table.ts";
