/**
 * @module HorizontalPodAutoscaler validation (kubernetes
 * `pkg/apis/autoscaling/validation`), on the autoscaling/v2 shape (upstream
 * validates the internal type, which is v2-shaped; autoscaling/v1 objects
 * are converted first, so their errors name v2 fields, as upstream's do).
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import { validateName } from "../../api/validation.ts";
import { child, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired, index } from "../field-errors.ts";
import { asArr, asNum, asObj, asStr, isNil, objsAt, type JsonObject } from "../object-access.ts";
import { parseQuantity } from "../quantity.ts";

const MAX_PERIOD_SECONDS = 1800;
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const METRIC_SOURCE_TYPES = ["ContainerResource", "External", "Object", "Pods", "Resource"];
const SOURCE_FIELD: Record<string, string> = {
  Object: "object",
  Pods: "pods",
  Resource: "resource",
  External: "external",
  ContainerResource: "containerResource",
};
const SELECT_POLICIES = ["Disabled", "Max", "Min"];
const POLICY_TYPES = ["Percent", "Pods"];

/** ValidateCrossVersionObjectReference: kind and name required, valid path segments. */
export function validateCrossVersionRef(ref: unknown, path: string): StatusCause[] {
  const r = asObj(ref) ?? {};
  const causes: StatusCause[] = [];
  for (const f of ["kind", "name"]) {
    const v = asStr(r[f]) ?? "";
    if (v === "") causes.push(fieldRequired(child(path, f)));
    else for (const m of validateName(v, "path", false)) causes.push(fieldInvalid(child(path, f), v, m));
  }
  return causes;
}

function isPositiveQuantity(v: unknown): boolean {
  if (typeof v !== "string" && typeof v !== "number") return false;
  const q = parseQuantity(v);
  return !("error" in q) && q.nanos > 0n;
}

function validateMetricTarget(target: JsonObject, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const type = asStr(target.type) ?? "";
  if (type === "") causes.push(fieldRequired(child(path, "type"), "must specify a metric target type"));
  if (type !== "Utilization" && type !== "Value" && type !== "AverageValue") {
    causes.push(fieldInvalid(child(path, "type"), type, "must be either Utilization, Value, or AverageValue"));
  }
  for (const f of ["value", "averageValue"]) {
    if (!isNil(target[f]) && !isPositiveQuantity(target[f])) causes.push(fieldInvalid(child(path, f), String(target[f]), "must be positive"));
  }
  const util = asNum(target.averageUtilization);
  if (util !== undefined && util < 1) causes.push(fieldInvalid(child(path, "averageUtilization"), util, "must be greater than 0"));
  return causes;
}

function validateMetricIdentifier(id: unknown, path: string): StatusCause[] {
  const name = asStr(asObj(id)?.name) ?? "";
  if (name === "") return [fieldRequired(child(path, "name"), "must specify a metric name")];
  return validateName(name, "path", false).map((m) => fieldInvalid(child(path, "name"), name, m));
}

function validateSource(kind: string, src: JsonObject, path: string): StatusCause[] {
  const target = asObj(src.target) ?? {};
  const tp = child(path, "target");
  const causes: StatusCause[] = [];
  switch (kind) {
    case "Resource":
    case "ContainerResource":
      if ((asStr(src.name) ?? "") === "") causes.push(fieldRequired(child(path, "name"), "must specify a resource name"));
      if (kind === "ContainerResource" && (asStr(src.container) ?? "") === "") causes.push(fieldRequired(child(path, "container"), "must specify a container"));
      causes.push(...validateMetricTarget(target, tp));
      if (isNil(target.averageUtilization) && isNil(target.averageValue)) {
        causes.push(fieldRequired(child(tp, "averageUtilization"), "must set either a target raw value or a target utilization"));
      }
      if (!isNil(target.averageUtilization) && !isNil(target.averageValue)) {
        causes.push(fieldForbidden(child(tp, "averageValue"), "may not set both a target raw value and a target utilization"));
      }
      break;
    case "Pods":
      causes.push(...validateMetricIdentifier(src.metric, child(path, "metric")), ...validateMetricTarget(target, tp));
      if (isNil(target.averageValue)) causes.push(fieldRequired(child(tp, "averageValue"), "must specify a positive target averageValue"));
      break;
    case "Object":
      causes.push(...validateCrossVersionRef(src.describedObject, child(path, "describedObject")));
      causes.push(...validateMetricIdentifier(src.metric, child(path, "metric")), ...validateMetricTarget(target, tp));
      if (isNil(target.value) && isNil(target.averageValue)) causes.push(fieldRequired(child(tp, "averageValue"), "must set either a target value or averageValue"));
      break;
    case "External":
      causes.push(...validateMetricIdentifier(src.metric, child(path, "metric")), ...validateMetricTarget(target, tp));
      if (isNil(target.value) && isNil(target.averageValue)) {
        causes.push(fieldRequired(child(tp, "averageValue"), "must set either a target value for metric or a per-pod target"));
      }
      if (!isNil(target.value) && !isNil(target.averageValue)) {
        causes.push(fieldForbidden(child(tp, "value"), "may not set both a target value for metric and a per-pod target"));
      }
      break;
  }
  return causes;
}

function validateMetricSpec(m: JsonObject, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const type = asStr(m.type) ?? "";
  if (type === "") causes.push(fieldRequired(child(path, "type"), "must specify a metric source type"));
  if (!METRIC_SOURCE_TYPES.includes(type)) causes.push(fieldNotSupported(child(path, "type"), type, METRIC_SOURCE_TYPES));
  const present = Object.entries(SOURCE_FIELD).filter(([, f]) => !isNil(m[f]));
  const first = present[0];
  if (first) causes.push(...validateSource(first[0], asObj(m[first[1]]) ?? {}, child(path, first[1])));
  const expected = SOURCE_FIELD[type];
  if (expected === undefined) causes.push(fieldNotSupported(child(path, "type"), type, METRIC_SOURCE_TYPES));
  else if (isNil(m[expected])) causes.push(fieldRequired(child(path, expected), "must populate information for the given metric source"));
  if (present.length !== 1) {
    for (const [, f] of present) if (f !== expected) causes.push(fieldForbidden(child(path, f), "must populate the given metric source only"));
  }
  return causes;
}

function validateScalingRules(rules: unknown, path: string): StatusCause[] {
  const r = asObj(rules);
  if (!r) return [];
  const causes: StatusCause[] = [];
  const sws = asNum(r.stabilizationWindowSeconds);
  if (sws !== undefined && sws < 0) causes.push(fieldInvalid(child(path, "stabilizationWindowSeconds"), sws, "must be greater than or equal to zero"));
  if (sws !== undefined && sws > MAX_STABILIZATION_WINDOW_SECONDS) {
    causes.push(fieldInvalid(child(path, "stabilizationWindowSeconds"), sws, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  }
  if (!isNil(r.selectPolicy) && !SELECT_POLICIES.includes(String(r.selectPolicy))) {
    causes.push(fieldNotSupported(child(path, "selectPolicy"), r.selectPolicy, SELECT_POLICIES));
  }
  const policiesPath = child(path, "policies");
  const policies = asArr(r.policies);
  if (policies.length === 0) causes.push(fieldRequired(policiesPath, "must specify at least one Policy"));
  policies.forEach((raw, i) => {
    const p = asObj(raw) ?? {};
    const pp = index(policiesPath, i);
    if (!POLICY_TYPES.includes(String(p.type ?? ""))) causes.push(fieldNotSupported(child(pp, "type"), p.type ?? "", POLICY_TYPES));
    const value = asNum(p.value) ?? 0;
    if (value <= 0) causes.push(fieldInvalid(child(pp, "value"), value, "must be greater than zero"));
    const period = asNum(p.periodSeconds) ?? 0;
    if (period <= 0) causes.push(fieldInvalid(child(pp, "periodSeconds"), period, "must be greater than zero"));
    if (period > MAX_PERIOD_SECONDS) causes.push(fieldInvalid(child(pp, "periodSeconds"), period, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return causes;
}

/** ValidateHorizontalPodAutoscaler (spec rules; metadata is the store's). */
export function validateHpaV2(o: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes: StatusCause[] = [];
  const min = asNum(spec.minReplicas);
  const max = asNum(spec.maxReplicas) ?? 0;
  if (min !== undefined && min < 1) causes.push(fieldInvalid("spec.minReplicas", min, "must be greater than or equal to 1"));
  if (max < 1) causes.push(fieldInvalid("spec.maxReplicas", max, "must be greater than 0"));
  if (min !== undefined && max < min) causes.push(fieldInvalid("spec.maxReplicas", max, "must be greater than or equal to `minReplicas`"));
  const refErrs = validateCrossVersionRef(spec.scaleTargetRef, "spec.scaleTargetRef");
  if (refErrs.length > 0) return [...causes, ...refErrs];
  const metricErrs = objsAt(spec, "metrics").flatMap((m, i) => validateMetricSpec(m, index("spec.metrics", i)));
  if (metricErrs.length > 0) return [...causes, ...metricErrs];
  const behavior = asObj(spec.behavior);
  if (behavior) {
    causes.push(...validateScalingRules(behavior.scaleUp, "spec.behavior.scaleUp"), ...validateScalingRules(behavior.scaleDown, "spec.behavior.scaleDown"));
  }
  return causes;
}
