/**
 * @module autoscaling/v2 HorizontalPodAutoscaler defaulting (kubernetes
 * `pkg/apis/autoscaling/v2/defaults.go`): minReplicas 1, a CPU 80%
 * utilization metric when none is given, and a specified `behavior` filled
 * with the default scale-up/scale-down rules. Idempotent.
 */
import { asObj, ensureObj, isNil, type JsonObject } from "../object-access.ts";

/** autoscaling.DefaultCPUUtilization. */
export const DEFAULT_CPU_UTILIZATION = 80;

/** The metric list an HPA without metrics gets. */
export function defaultCpuMetrics(): JsonObject[] {
  return [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
}

function defaultScaleUpRules(): JsonObject {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ],
  };
}

function defaultScaleDownRules(): JsonObject {
  // stabilizationWindowSeconds stays unset: the controller's --horizontal-pod-autoscaler-downscale-stabilization applies.
  return { selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] };
}

/** copyHPAScalingRules: the user's non-nil fields over the defaults. */
function fillRules(from: unknown, defaults: JsonObject): JsonObject {
  const f = asObj(from);
  if (!f) return defaults;
  for (const k of ["selectPolicy", "stabilizationWindowSeconds", "policies"]) if (!isNil(f[k])) defaults[k] = f[k];
  return defaults;
}

/** SetDefaults_HorizontalPodAutoscaler (+ SetDefaults_HorizontalPodAutoscalerBehavior). */
export function defaultHpaV2(hpa: JsonObject): void {
  const spec = ensureObj(hpa, "spec");
  if (isNil(spec.minReplicas)) spec.minReplicas = 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) spec.metrics = defaultCpuMetrics();
  const behavior = asObj(spec.behavior);
  if (behavior) {
    behavior.scaleUp = fillRules(behavior.scaleUp, defaultScaleUpRules());
    behavior.scaleDown = fillRules(behavior.scaleDown, defaultScaleDownRules());
  }
}
