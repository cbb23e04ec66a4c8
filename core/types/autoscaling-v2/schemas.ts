/**
 * @module Schemas of autoscaling/v2 HorizontalPodAutoscaler (k8s.io/api
 * autoscaling/v2 types.go, v1.32).
 */
import { LABEL_SELECTOR, OBJECT_META } from "../meta-schemas.ts";
import { atomic, int32, int64, keyed, kindSchema, obj, quantity, ref, str, time } from "../schema-dsl.ts";

const V2 = "io.k8s.api.autoscaling.v2";

const CROSS_VERSION_REF = obj(`${V2}.CrossVersionObjectReference`, { apiVersion: str(), kind: str(), name: str() }, { required: ["kind", "name"] });
const METRIC_IDENTIFIER = obj(`${V2}.MetricIdentifier`, { name: str(), selector: ref(LABEL_SELECTOR) }, { required: ["name"] });
const METRIC_TARGET = obj(
  `${V2}.MetricTarget`,
  { averageUtilization: int32(), averageValue: quantity(), type: str(), value: quantity() },
  { required: ["type"] },
);
const METRIC_VALUE_STATUS = obj(`${V2}.MetricValueStatus`, { averageUtilization: int32(), averageValue: quantity(), value: quantity() });

const METRIC_SPEC = obj(
  `${V2}.MetricSpec`,
  {
    containerResource: obj(
      `${V2}.ContainerResourceMetricSource`,
      { container: str(), name: str(), target: ref(METRIC_TARGET) },
      { required: ["name", "target", "container"] },
    ),
    external: obj(`${V2}.ExternalMetricSource`, { metric: ref(METRIC_IDENTIFIER), target: ref(METRIC_TARGET) }, { required: ["metric", "target"] }),
    object: obj(
      `${V2}.ObjectMetricSource`,
      { describedObject: ref(CROSS_VERSION_REF), metric: ref(METRIC_IDENTIFIER), target: ref(METRIC_TARGET) },
      { required: ["describedObject", "target", "metric"] },
    ),
    pods: obj(`${V2}.PodsMetricSource`, { metric: ref(METRIC_IDENTIFIER), target: ref(METRIC_TARGET) }, { required: ["metric", "target"] }),
    resource: obj(`${V2}.ResourceMetricSource`, { name: str(), target: ref(METRIC_TARGET) }, { required: ["name", "target"] }),
    type: str(),
  },
  { required: ["type"] },
);

const METRIC_STATUS = obj(
  `${V2}.MetricStatus`,
  {
    containerResource: obj(
      `${V2}.ContainerResourceMetricStatus`,
      { container: str(), current: ref(METRIC_VALUE_STATUS), name: str() },
      { required: ["name", "current", "container"] },
    ),
    external: obj(`${V2}.ExternalMetricStatus`, { current: ref(METRIC_VALUE_STATUS), metric: ref(METRIC_IDENTIFIER) }, { required: ["metric", "current"] }),
    object: obj(
      `${V2}.ObjectMetricStatus`,
      { current: ref(METRIC_VALUE_STATUS), describedObject: ref(CROSS_VERSION_REF), metric: ref(METRIC_IDENTIFIER) },
      { required: ["metric", "current", "describedObject"] },
    ),
    pods: obj(`${V2}.PodsMetricStatus`, { current: ref(METRIC_VALUE_STATUS), metric: ref(METRIC_IDENTIFIER) }, { required: ["metric", "current"] }),
    resource: obj(`${V2}.ResourceMetricStatus`, { current: ref(METRIC_VALUE_STATUS), name: str() }, { required: ["name", "current"] }),
    type: str(),
  },
  { required: ["type"] },
);

const SCALING_POLICY = obj(
  `${V2}.HPAScalingPolicy`,
  { periodSeconds: int32(), type: str(), value: int32() },
  { required: ["type", "value", "periodSeconds"] },
);

const SCALING_RULES = obj(`${V2}.HPAScalingRules`, {
  policies: atomic(SCALING_POLICY),
  selectPolicy: str(),
  stabilizationWindowSeconds: int32(),
});

const HPA_CONDITION = obj(
  `${V2}.HorizontalPodAutoscalerCondition`,
  { lastTransitionTime: time(), message: str(), reason: str(), status: str(), type: str() },
  { required: ["type", "status"] },
);

const HPA_V2_SPEC = obj(
  `${V2}.HorizontalPodAutoscalerSpec`,
  {
    behavior: obj(`${V2}.HorizontalPodAutoscalerBehavior`, { scaleDown: ref(SCALING_RULES), scaleUp: ref(SCALING_RULES) }),
    maxReplicas: int32(),
    metrics: atomic(METRIC_SPEC),
    minReplicas: int32(),
    scaleTargetRef: ref(CROSS_VERSION_REF),
  },
  { required: ["scaleTargetRef", "maxReplicas"] },
);

const HPA_V2_STATUS = obj(
  `${V2}.HorizontalPodAutoscalerStatus`,
  {
    conditions: keyed(HPA_CONDITION, ["type"]),
    currentMetrics: atomic(METRIC_STATUS),
    currentReplicas: int32(),
    desiredReplicas: int32(),
    lastScaleTime: time(),
    observedGeneration: int64(),
  },
  { required: ["desiredReplicas"] },
);

export const HPA_V2_SCHEMA = kindSchema(
  `${V2}.HorizontalPodAutoscaler`,
  { group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler" },
  ref(OBJECT_META),
  { spec: ref(HPA_V2_SPEC), status: ref(HPA_V2_STATUS) },
);
