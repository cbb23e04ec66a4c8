/**
 * @module autoscaling/v1 ↔ autoscaling/v2 HorizontalPodAutoscaler conversion
 * (kubernetes `pkg/apis/autoscaling/v1/conversion.go`). v1 carries one CPU
 * utilization target; everything v2 has beyond it (other metrics, current
 * metrics, behavior, conditions) travels in the `autoscaling.alpha.kubernetes.io/*`
 * annotations of the v1 object, so v2 → v1 → v2 is lossless. Pure: inputs are
 * never changed.
 */
import type { KubeObject } from "../../api/meta.ts";
import { asNum, asObj, cloneJson, isNil, objsAt, type JsonObject } from "../object-access.ts";
import { defaultCpuMetrics, defaultHpaV2 } from "../autoscaling-v2/defaults.ts";

export const METRIC_SPECS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics";
export const METRIC_STATUSES_ANNOTATION = "autoscaling.alpha.kubernetes.io/current-metrics";
export const CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions";
export const BEHAVIOR_ANNOTATION = "autoscaling.alpha.kubernetes.io/behavior";
const ROUND_TRIP_ANNOTATIONS = [METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION, BEHAVIOR_ANNOTATION];

export const HPA_V1 = "autoscaling/v1";
export const HPA_V2 = "autoscaling/v2";

function isCpuUtilizationTarget(m: JsonObject): boolean {
  const r = asObj(m.resource);
  return m.type === "Resource" && r?.name === "cpu" && !isNil(asObj(r.target)?.averageUtilization);
}

/** Copies `keys` that are present (not undefined) from `from` to `to`. */
function copyPresent(from: JsonObject, to: JsonObject, keys: string[]): void {
  for (const k of keys) if (from[k] !== undefined) to[k] = cloneJson(from[k]);
}

/** Metadata without the round-trip annotations (annotations dropped when none remain). */
function metaWithoutRoundTrip(meta: KubeObject["metadata"]): KubeObject["metadata"] {
  const out = cloneJson(meta ?? {});
  if (out.annotations) {
    const a = { ...out.annotations };
    for (const k of ROUND_TRIP_ANNOTATIONS) delete a[k];
    if (Object.keys(a).length === 0) delete out.annotations;
    else out.annotations = a;
  }
  return out;
}

function parseList(s: string | undefined): JsonObject[] | undefined {
  if (s === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return Array.isArray(v) ? (v.map(asObj).filter((x) => x !== undefined) as JsonObject[]) : undefined;
  } catch {
    return undefined;
  }
}

/** An autoscaling/v2 object as autoscaling/v1 shows it. */
export function hpaV2ToV1(src: KubeObject): KubeObject {
  const meta = metaWithoutRoundTrip(src.metadata);
  const annotations: Record<string, string> = { ...(meta.annotations ?? {}) };
  const out: KubeObject = { ...cloneJson(src), apiVersion: HPA_V1, kind: "HorizontalPodAutoscaler", metadata: meta };
  const spec = asObj(src.spec);
  if (spec) {
    const v1: JsonObject = {};
    copyPresent(spec, v1, ["scaleTargetRef", "minReplicas", "maxReplicas"]);
    const metrics = objsAt(spec, "metrics");
    const cpu = metrics.find(isCpuUtilizationTarget);
    if (cpu) v1.targetCPUUtilizationPercentage = asObj(asObj(cpu.resource)?.target)?.averageUtilization;
    const others = metrics.filter((m) => !isCpuUtilizationTarget(m));
    if (others.length > 0) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(others);
    if (asObj(spec.behavior)) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(spec.behavior);
    out.spec = v1;
  }
  const status = asObj(src.status);
  if (status) {
    const v1: JsonObject = {};
    copyPresent(status, v1, ["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"]);
    const current = objsAt(status, "currentMetrics");
    for (const m of current) {
      const util = asNum(asObj(asObj(m.resource)?.current)?.averageUtilization);
      if (m.type === "Resource" && asObj(m.resource)?.name === "cpu" && util !== undefined) v1.currentCPUUtilizationPercentage = util;
    }
    if (current.length > 0) annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(current);
    const conditions = objsAt(status, "conditions");
    if (conditions.length > 0) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(conditions);
    out.status = v1;
  }
  if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
  return out;
}

/**
 * An autoscaling/v1 object in autoscaling/v2 form, with the v2 defaults a
 * read through v2 would apply (no target and no annotated metrics → CPU 80%).
 */
export function hpaV1ToV2(src: KubeObject): KubeObject {
  const annotations = src.metadata?.annotations ?? {};
  const out: KubeObject = { ...cloneJson(src), apiVersion: HPA_V2, kind: "HorizontalPodAutoscaler", metadata: metaWithoutRoundTrip(src.metadata) };
  const spec = asObj(src.spec);
  const v2: JsonObject = {};
  if (spec) copyPresent(spec, v2, ["scaleTargetRef", "minReplicas", "maxReplicas"]);
  const cpuTarget = asNum(spec?.targetCPUUtilizationPercentage);
  const cpuMetrics: JsonObject[] =
    cpuTarget === undefined ? [] : [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: cpuTarget } } }];
  const others = parseList(annotations[METRIC_SPECS_ANNOTATION]);
  const metrics = others ? [...others, ...cpuMetrics] : cpuMetrics;
  v2.metrics = metrics.length > 0 ? metrics : defaultCpuMetrics();
  const behaviorText = annotations[BEHAVIOR_ANNOTATION];
  if (behaviorText !== undefined) {
    try {
      const behavior = asObj(JSON.parse(behaviorText) as unknown);
      if (behavior && Object.keys(behavior).length > 0) v2.behavior = behavior;
    } catch {
      // ignored, as upstream does
    }
  }
  out.spec = v2;
  const status = asObj(src.status);
  if (status) {
    const s: JsonObject = {};
    copyPresent(status, s, ["observedGeneration", "lastScaleTime", "currentReplicas", "desiredReplicas"]);
    const cpu = asNum(status.currentCPUUtilizationPercentage);
    if (cpu !== undefined) s.currentMetrics = [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: cpu } } }];
    const current = parseList(annotations[METRIC_STATUSES_ANNOTATION]);
    if (current) s.currentMetrics = current;
    const conditions = parseList(annotations[CONDITIONS_ANNOTATION]);
    if (conditions) s.conditions = conditions;
    out.status = s;
  } else delete out.status;
  defaultHpaV2(out as JsonObject);
  return out;
}
