/**
 * @module autoscaling/v1 Scale: the body of every `…/scale` subresource.
 */
import { OBJECT_META } from "./meta-schemas.ts";
import { int32, kindSchema, obj, ref, str } from "./schema-dsl.ts";

const AUTOSCALING = "io.k8s.api.autoscaling.v1";

export const SCALE_SCHEMA = kindSchema(`${AUTOSCALING}.Scale`, { group: "autoscaling", version: "v1", kind: "Scale" }, ref(OBJECT_META), {
  spec: obj(`${AUTOSCALING}.ScaleSpec`, { replicas: int32() }),
  status: obj(`${AUTOSCALING}.ScaleStatus`, { replicas: int32(), selector: str() }, { required: ["replicas"] }),
});
