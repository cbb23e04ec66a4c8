/**
 * @module The core/v1 Pod kind (schema, strategy, columns, selectable fields)
 * and the request bodies of its `binding` and `eviction` subresources.
 */
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { DELETE_OPTIONS, OBJECT_META } from "../meta-schemas.ts";
import { canonicalizeQuantitiesOrThrow } from "../normalize.ts";
import { asObj, cloneJson, ensureObj, objsAt, strAt, type JsonObject } from "../object-access.ts";
import { kindSchema, obj, ref, str } from "../schema-dsl.ts";
import { CORE } from "./container-schema.ts";
import { defaultPod, podQOSClass } from "./pod-defaults.ts";
import { POD_SPEC, POD_STATUS } from "./pod-spec-schema.ts";
import { podColumns } from "./pod-table.ts";
import { validatePodSpec, validatePodSpecUpdate } from "./pod-validation.ts";

export const OBJECT_REFERENCE = obj(
  `${CORE}.ObjectReference`,
  { apiVersion: str(), fieldPath: str(), kind: str(), name: str(), namespace: str(), resourceVersion: str(), uid: str() },
  { mapType: "atomic" },
);

export const POD_SCHEMA = kindSchema(`${CORE}.Pod`, { group: "", version: "v1", kind: "Pod" }, ref(OBJECT_META), {
  spec: ref(POD_SPEC),
  status: ref(POD_STATUS),
});

/** Body of `POST pods/{name}/binding` (core/v1 Binding). */
export const BINDING_SCHEMA = kindSchema(`${CORE}.Binding`, { group: "", version: "v1", kind: "Binding" }, ref(OBJECT_META), {
  target: ref(OBJECT_REFERENCE),
});
BINDING_SCHEMA.required = ["target"];

/** Body of `POST pods/{name}/eviction` (policy/v1 Eviction). */
export const EVICTION_SCHEMA = kindSchema(
  "io.k8s.api.policy.v1.Eviction",
  { group: "policy", version: "v1", kind: "Eviction" },
  ref(OBJECT_META),
  { deleteOptions: ref(DELETE_OPTIONS) },
);

const SCHEDULING_GATED_CONDITION = {
  type: "PodScheduled",
  status: "False",
  reason: "SchedulingGated",
  message: "Scheduling is blocked due to non-empty scheduling gates",
};

/** Pod status on create: Pending, its QoS class, and the SchedulingGated condition when gated. */
function preparePodForCreate(pod: KubeObject): void {
  defaultPod(pod as JsonObject);
  const spec = asObj(pod.spec) ?? {};
  const status: JsonObject = { phase: "Pending", qosClass: podQOSClass(spec) };
  if (objsAt(spec, "schedulingGates").length > 0) status.conditions = [{ ...SCHEDULING_GATED_CONDITION }];
  pod.status = status;
}

function podIP(o: KubeObject): string {
  const first = objsAt(o, "status", "podIPs")[0];
  return typeof first?.ip === "string" ? first.ip : "";
}

export const podType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "Pod",
  plural: "pods",
  singular: "pod",
  shortNames: ["po"],
  namespaced: true,
  categories: ["all"],
  tracksGeneration: false,
  schema: POD_SCHEMA,
  columns: podColumns(),
  subresources: { status: true },
  selectableFields: {
    "spec.nodeName": (o) => strAt(o, "spec", "nodeName"),
    "spec.restartPolicy": (o) => strAt(o, "spec", "restartPolicy"),
    "spec.schedulerName": (o) => strAt(o, "spec", "schedulerName"),
    "spec.serviceAccountName": (o) => strAt(o, "spec", "serviceAccountName"),
    "spec.hostNetwork": (o) => String(asObj(o.spec)?.hostNetwork === true),
    "status.phase": (o) => strAt(o, "status", "phase"),
    "status.podIP": podIP,
    "status.nominatedNodeName": (o) => strAt(o, "status", "nominatedNodeName"),
  },
  strategy: {
    defaults(o) {
      canonicalizeQuantitiesOrThrow(POD_SCHEMA, o, "Pod", "v1");
      defaultPod(o as JsonObject);
    },
    validate(o, old) {
      const causes = validatePodSpec(o.spec, "spec");
      if (old) causes.push(...validatePodSpecUpdate(o.spec, old.spec));
      return causes;
    },
    prepareForCreate: preparePodForCreate,
    prepareForUpdate(o, old) {
      if (old.status === undefined) delete o.status;
      else o.status = cloneJson(old.status);
      ensureObj(o as JsonObject, "spec");
    },
  },
};
