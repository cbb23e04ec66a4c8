/**
 * @module autoscaling/v1 HorizontalPodAutoscaler. Stored as autoscaling/v2
 * (storage key `horizontalpodautoscalers.autoscaling`, see conversions.ts);
 * validation and the table run on the v2 form, as upstream runs them on the
 * internal type.
 */
import type { ResourceTypeInit } from "../../api/registry.ts";
import { isNil, ensureObj, type JsonObject } from "../object-access.ts";
import { hpaColumns } from "../autoscaling-v2/index.ts";
import { validateHpaV2 } from "../autoscaling-v2/validation.ts";
import { hpaV1ToV2 } from "./hpa-conversion.ts";
import { HPA_V1_SCHEMA } from "./schema.ts";

export const hpaV1Type: ResourceTypeInit = {
  group: "autoscaling",
  version: "v1",
  kind: "HorizontalPodAutoscaler",
  plural: "horizontalpodautoscalers",
  singular: "horizontalpodautoscaler",
  shortNames: ["hpa"],
  namespaced: true,
  categories: ["all"],
  schema: HPA_V1_SCHEMA,
  columns: hpaColumns().map((c) => ({ ...c, cell: (o, now) => c.cell(hpaV1ToV2(o), now) })),
  subresources: { status: true },
  strategy: {
    defaults(o) {
      const spec = ensureObj(o as JsonObject, "spec");
      if (isNil(spec.minReplicas)) spec.minReplicas = 1;
    },
    validate(o) {
      return validateHpaV2(hpaV1ToV2(o));
    },
    prepareForCreate(o) {
      o.status = { currentReplicas: 0, desiredReplicas: 0 };
    },
  },
};

export { HPA_V1_SCHEMA } from "./schema.ts";
export {
  BEHAVIOR_ANNOTATION,
  CONDITIONS_ANNOTATION,
  hpaV1ToV2,
  hpaV2ToV1,
  METRIC_SPECS_ANNOTATION,
  METRIC_STATUSES_ANNOTATION,
} from "./hpa-conversion.ts";
