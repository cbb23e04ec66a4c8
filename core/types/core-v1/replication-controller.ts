/**
 * @module core/v1 ReplicationController (selector and labels defaulted from
 * the template, status and scale subresources) and PodTemplate.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { validateLabels } from "../../api/validation.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { fieldForbidden, fieldInvalidRendered, fieldNotSupported, fieldRequired, goStringMap, nonNegative } from "../field-errors.ts";
import { canonicalizeQuantitiesOrThrow } from "../normalize.ts";
import { asNum, asObj, asStr, cloneJson, ensureObj, getPath, isNil, numAt, type JsonObject } from "../object-access.ts";
import { int32, int64, keyed, kindSchema, obj, ref, str, strMap, time } from "../schema-dsl.ts";
import { ageColumn, column, containerCells, formatLabels, nameColumn, templateContainerColumns } from "../table.ts";
import { objsAt } from "../object-access.ts";
import { CORE } from "./container-schema.ts";
import { defaultPodTemplate } from "./pod-defaults.ts";
import { POD_TEMPLATE_SPEC } from "./pod-spec-schema.ts";
import { validatePodTemplate } from "./pod-validation.ts";

const RC_CONDITION = obj(
  `${CORE}.ReplicationControllerCondition`,
  { lastTransitionTime: time(), message: str(), reason: str(), status: str(), type: str() },
  { required: ["type", "status"] },
);

export const REPLICATION_CONTROLLER_SCHEMA = kindSchema(
  `${CORE}.ReplicationController`,
  { group: "", version: "v1", kind: "ReplicationController" },
  ref(OBJECT_META),
  {
    spec: obj(`${CORE}.ReplicationControllerSpec`, {
      minReadySeconds: int32(),
      replicas: int32(),
      selector: strMap({ mapType: "atomic" }),
      template: ref(POD_TEMPLATE_SPEC),
    }),
    status: obj(
      `${CORE}.ReplicationControllerStatus`,
      {
        availableReplicas: int32(),
        conditions: keyed(RC_CONDITION, ["type"]),
        fullyLabeledReplicas: int32(),
        observedGeneration: int64(),
        readyReplicas: int32(),
        replicas: int32(),
      },
      { required: ["replicas"] },
    ),
  },
);

export const POD_TEMPLATE_SCHEMA = kindSchema(`${CORE}.PodTemplate`, { group: "", version: "v1", kind: "PodTemplate" }, ref(OBJECT_META), {
  template: ref(POD_TEMPLATE_SPEC),
});

/** SetDefaults_ReplicationController plus the template defaults. */
export function defaultReplicationController(o: KubeObject): void {
  canonicalizeQuantitiesOrThrow(REPLICATION_CONTROLLER_SCHEMA, o, "ReplicationController", "v1");
  const spec = ensureObj(o as JsonObject, "spec");
  const labels = asObj(getPath(spec, "template", "metadata", "labels"));
  if (labels) {
    if (Object.keys(asObj(spec.selector) ?? {}).length === 0) spec.selector = cloneJson(labels);
    if (Object.keys(o.metadata.labels ?? {}).length === 0) o.metadata.labels = cloneJson(labels) as Record<string, string>;
  }
  if (isNil(spec.replicas)) spec.replicas = 1;
  if (!isNil(spec.template)) defaultPodTemplate(spec.template);
}

export function validateReplicationController(o: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes = [...nonNegative("spec.minReadySeconds", spec.minReadySeconds)];
  const selector = asObj(spec.selector) ?? {};
  if (Object.keys(selector).length === 0) causes.push(fieldRequired("spec.selector"));
  else causes.push(...validateLabels(selector, "spec.selector"));
  causes.push(...nonNegative("spec.replicas", spec.replicas));
  const template = asObj(spec.template);
  if (!template) {
    causes.push(fieldRequired("spec.template"));
    return causes;
  }
  const labels = asObj(getPath(template, "metadata", "labels")) ?? {};
  if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
    causes.push(fieldInvalidRendered("spec.template.metadata.labels", goStringMap(asObj(getPath(template, "metadata", "labels"))), "`selector` does not match template `labels`"));
  }
  causes.push(...validatePodTemplate(template, "spec.template"));
  const restart = asStr(getPath(template, "spec", "restartPolicy")) ?? "";
  if (restart !== "Always") causes.push(fieldNotSupported("spec.template.spec.restartPolicy", restart, ["Always"]));
  if (!isNil(getPath(template, "spec", "activeDeadlineSeconds"))) {
    causes.push(fieldForbidden("spec.template.spec.activeDeadlineSeconds", "activeDeadlineSeconds in ReplicationController is not Supported"));
  }
  return causes;
}

export const replicationControllerType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "ReplicationController",
  plural: "replicationcontrollers",
  singular: "replicationcontroller",
  shortNames: ["rc"],
  namespaced: true,
  categories: ["all"],
  schema: REPLICATION_CONTROLLER_SCHEMA,
  subresources: { status: true, scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas", labelSelectorPath: ".spec.selector" } },
  selectableFields: { "status.replicas": (o) => String(numAt(o, "status", "replicas")) },
  columns: [
    nameColumn(),
    column("Desired", "integer", "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller", (o) => asNum(getPath(o, "spec", "replicas")) ?? 0),
    column("Current", "integer", "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller", (o) => numAt(o, "status", "replicas")),
    column("Ready", "integer", "The number of ready replicas for this replication controller.", (o) => numAt(o, "status", "readyReplicas")),
    ageColumn(),
    ...templateContainerColumns(),
    column("Selector", "string", "Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors", (o) => formatLabels(getPath(o, "spec", "selector")), 1),
  ],
  strategy: {
    defaults: defaultReplicationController,
    validate: validateReplicationController,
    prepareForCreate(o) {
      o.status = { replicas: 0 };
    },
  },
};

export const podTemplateType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "PodTemplate",
  plural: "podtemplates",
  singular: "podtemplate",
  namespaced: true,
  tracksGeneration: false,
  schema: POD_TEMPLATE_SCHEMA,
  columns: [
    nameColumn(),
    column("Containers", "string", "Names of each container in the template.", (o) => containerCells(objsAt(o, "template", "spec", "containers")).names),
    column("Images", "string", "Images referenced by each container in the template.", (o) => containerCells(objsAt(o, "template", "spec", "containers")).images),
    column("Pod Labels", "string", "The labels for the pod template.", (o) => formatLabels(getPath(o, "template", "metadata", "labels"))),
  ],
  strategy: {
    defaults(o) {
      canonicalizeQuantitiesOrThrow(POD_TEMPLATE_SCHEMA, o, "PodTemplate", "v1");
      defaultPodTemplate(ensureObj(o as JsonObject, "template"));
    },
    validate: (o) => validatePodTemplate(o.template, "template"),
  },
};
