/**
 * @module Schema of autoscaling/v1 HorizontalPodAutoscaler (k8s.io/api
 * autoscaling/v1 types.go, v1.32), served from the autoscaling/v2 storage.
 */
import { OBJECT_META } from "../meta-schemas.ts";
import { int32, int64, kindSchema, obj, ref, str, time } from "../schema-dsl.ts";

const V1 = "io.k8s.api.autoscaling.v1";

const CROSS_VERSION_REF_V1 = obj(`${V1}.CrossVersionObjectReference`, { apiVersion: str(), kind: str(), name: str() }, { required: ["kind", "name"] });

export const HPA_V1_SCHEMA = kindSchema(
  `${V1}.HorizontalPodAutoscaler`,
  { group: "autoscaling", version: "v1", kind: "HorizontalPodAutoscaler" },
  ref(OBJECT_META),
  {
    spec: obj(
      `${V1}.HorizontalPodAutoscalerSpec`,
      { maxReplicas: int32(), minReplicas: int32(), scaleTargetRef: ref(CROSS_VERSION_REF_V1), targetCPUUtilizationPercentage: int32() },
      { required: ["scaleTargetRef", "maxReplicas"] },
    ),
    status: obj(
      `${V1}.HorizontalPodAutoscalerStatus`,
      { currentCPUUtilizationPercentage: int32(), currentReplicas: int32(), desiredReplicas: int32(), lastScaleTime: time(), observedGeneration: int64() },
      { required: ["currentReplicas", "desiredReplicas"] },
    ),
  },
);
