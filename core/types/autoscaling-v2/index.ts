/**
 * @module autoscaling/v2 HorizontalPodAutoscaler: schema, defaults,
 * validation, the NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE
 * columns, status subresource. autoscaling/v1 (autoscaling-v1/) shares its
 * storage through the conversions in core/types/conversions.ts.
 */
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit, TableColumn } from "../../api/registry.ts";
import { canonicalizeQuantitiesOrThrow } from "../normalize.ts";
import { asNum, asObj, getPath, numAt, objsAt, strAt, type JsonObject } from "../object-access.ts";
import { ageColumn, column, nameColumn } from "../table.ts";
import { defaultHpaV2 } from "./defaults.ts";
import { HPA_V2_SCHEMA } from "./schemas.ts";
import { validateHpaV2 } from "./validation.ts";

/** resource.Quantity's String() through a pointer: `<nil>` when unset. */
function q(v: unknown): string {
  return v === undefined || v === null ? "<nil>" : String(v);
}

/** One TARGETS entry (printers' formatHPAMetrics switch). */
function formatMetric(spec: JsonObject, status: JsonObject | undefined): string {
  const type = spec.type;
  const field = type === "External" ? "external" : type === "Pods" ? "pods" : type === "Object" ? "object" : type === "Resource" ? "resource" : type === "ContainerResource" ? "containerResource" : undefined;
  if (!field) return "<unknown type>";
  const src = asObj(spec[field]) ?? {};
  const target = asObj(src.target) ?? {};
  const cur = asObj(status?.[field]);
  const current = asObj(cur?.current);
  switch (type) {
    case "External":
    case "Object":
      if (target.averageValue !== undefined && target.averageValue !== null) {
        const c = current?.averageValue !== undefined && current.averageValue !== null ? String(current.averageValue) : "<unknown>";
        return `${c}/${q(target.averageValue)} (avg)`;
      }
      return `${cur ? q(current?.value) : "<unknown>"}/${q(target.value)}`;
    case "Pods":
      return `${cur ? q(current?.averageValue) : "<unknown>"}/${q(target.averageValue)}`;
    default: {
      const name = String(src.name ?? "");
      if (target.averageValue !== undefined && target.averageValue !== null) {
        return `${name}: ${cur ? q(current?.averageValue) : "<unknown>"}/${q(target.averageValue)}`;
      }
      const util = asNum(current?.averageUtilization);
      const c = util !== undefined ? `${util}%` : "<unknown>";
      const t = asNum(target.averageUtilization);
      return `${name}: ${c}/${t !== undefined ? `${t}%` : "<auto>"}`;
    }
  }
}

/** formatHPAMetrics: at most two entries, then `+ N more...`; `<none>` without metrics. */
export function formatHpaMetrics(o: KubeObject): string {
  const specs = objsAt(o, "spec", "metrics");
  if (specs.length === 0) return "<none>";
  const statuses = objsAt(o, "status", "currentMetrics");
  const list = specs.map((s, i) => formatMetric(s, statuses[i]));
  const max = 2;
  if (list.length > max) return `${list.slice(0, max).join(", ")} + ${list.length - max} more...`;
  return list.join(", ");
}

const SPEC_DOC = {
  scaleTargetRef: "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.",
  metrics:
    "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond. If not set, the default metric will be set to 80% average CPU utilization.",
  minReplicas:
    "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.",
  maxReplicas: "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.",
  currentReplicas: "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
};

/** The HPA columns, over the v2 shape. */
export function hpaColumns(): TableColumn[] {
  return [
    nameColumn(),
    column("Reference", "string", SPEC_DOC.scaleTargetRef, (o) => `${strAt(o, "spec", "scaleTargetRef", "kind")}/${strAt(o, "spec", "scaleTargetRef", "name")}`),
    column("Targets", "string", SPEC_DOC.metrics, formatHpaMetrics),
    column("MinPods", "string", SPEC_DOC.minReplicas, (o) => {
      const min = asNum(getPath(o, "spec", "minReplicas"));
      return min === undefined ? "<unset>" : String(min);
    }),
    column("MaxPods", "string", SPEC_DOC.maxReplicas, (o) => numAt(o, "spec", "maxReplicas")),
    column("Replicas", "string", SPEC_DOC.currentReplicas, (o) => numAt(o, "status", "currentReplicas")),
    ageColumn(),
  ];
}

export const hpaV2Type: ResourceTypeInit = {
  group: "autoscaling",
  version: "v2",
  kind: "HorizontalPodAutoscaler",
  plural: "horizontalpodautoscalers",
  singular: "horizontalpodautoscaler",
  shortNames: ["hpa"],
  namespaced: true,
  categories: ["all"],
  schema: HPA_V2_SCHEMA,
  columns: hpaColumns(),
  subresources: { status: true },
  strategy: {
    defaults(o) {
      canonicalizeQuantitiesOrThrow(HPA_V2_SCHEMA, o, "HorizontalPodAutoscaler", "v2");
      defaultHpaV2(o as JsonObject);
    },
    validate: validateHpaV2,
    prepareForCreate(o) {
      o.status = { desiredReplicas: 0 };
    },
  },
};

export { HPA_V2_SCHEMA } from "./schemas.ts";
export { DEFAULT_CPU_UTILIZATION, defaultCpuMetrics, defaultHpaV2 } from "./defaults.ts";
export { validateHpaV2 } from "./validation.ts";
