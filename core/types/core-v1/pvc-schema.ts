/**
 * @module The core/v1 PersistentVolumeClaim object schema (also embedded in
 * StatefulSet `volumeClaimTemplates`).
 */
import { OBJECT_META } from "../meta-schemas.ts";
import { kindSchema, ref } from "../schema-dsl.ts";
import { CORE } from "./container-schema.ts";
import { PVC_SPEC, PVC_STATUS } from "./volume-schema.ts";

export const PVC_SCHEMA = kindSchema(
  `${CORE}.PersistentVolumeClaim`,
  { group: "", version: "v1", kind: "PersistentVolumeClaim" },
  ref(OBJECT_META),
  { spec: ref(PVC_SPEC), status: ref(PVC_STATUS) },
);
