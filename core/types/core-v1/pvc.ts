/**
 * @module The core/v1 PersistentVolumeClaim kind (status Pending on create,
 * volumeMode Filesystem, access-mode and storage-request validation, the
 * `kubectl get pvc` columns).
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { fieldNotSupported, fieldRequired, index, key } from "../field-errors.ts";
import { canonicalizeQuantitiesOrThrow } from "../normalize.ts";
import { asArr, asObj, ensureObj, getPath, setDefault, strAt, type JsonObject } from "../object-access.ts";
import { ageColumn, column, nameColumn } from "../table.ts";
import { validateResourceList } from "./common-validation.ts";
import { defaultPvcSpec } from "./pod-defaults.ts";
import { PVC_SCHEMA } from "./pvc-schema.ts";

export const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const SHORT_MODES: [string, string][] = [
  ["ReadWriteOnce", "RWO"],
  ["ReadOnlyMany", "ROX"],
  ["ReadWriteMany", "RWX"],
  ["ReadWriteOncePod", "RWOP"],
];

export function validatePvc(o: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes: StatusCause[] = [];
  const modes = asArr(spec.accessModes);
  if (modes.length === 0) causes.push(fieldRequired("spec.accessModes", "at least 1 access mode is required"));
  modes.forEach((m, i) => {
    if (!ACCESS_MODES.includes(String(m))) causes.push(fieldNotSupported(index("spec.accessModes", i), m, ACCESS_MODES));
  });
  const requests = asObj(getPath(spec, "resources", "requests"));
  if (!requests || requests.storage === undefined) causes.push(fieldRequired(key("spec.resources", "storage")));
  causes.push(...validateResourceList(requests, "spec.resources.requests", { checkNames: false }));
  return causes;
}

/** GetAccessModesAsString: `RWO,ROX,RWX,RWOP` in that order, duplicates dropped. */
export function accessModesString(list: unknown): string {
  const modes = asArr(list).map(String);
  return SHORT_MODES.filter(([long]) => modes.includes(long))
    .map(([, short]) => short)
    .join(",");
}

function accessModes(o: KubeObject): string {
  return accessModesString(getPath(o, "status", "accessModes"));
}

function storageClass(o: KubeObject): string {
  return o.metadata.annotations?.["volume.beta.kubernetes.io/storage-class"] ?? strAt(o, "spec", "storageClassName");
}

export const pvcType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "PersistentVolumeClaim",
  plural: "persistentvolumeclaims",
  singular: "persistentvolumeclaim",
  shortNames: ["pvc"],
  namespaced: true,
  tracksGeneration: false,
  schema: PVC_SCHEMA,
  subresources: { status: true },
  columns: [
    nameColumn(),
    column("Status", "string", "phase represents the current phase of PersistentVolumeClaim.", (o) => (o.metadata.deletionTimestamp ? "Terminating" : strAt(o, "status", "phase"))),
    column("Volume", "string", "volumeName is the binding reference to the PersistentVolume backing this claim.", (o) => strAt(o, "spec", "volumeName")),
    column("Capacity", "string", "capacity represents the actual resources of the underlying volume.", (o) =>
      strAt(o, "spec", "volumeName") === "" ? "" : strAt(o, "status", "capacity", "storage") || "0",
    ),
    column("Access Modes", "string", "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1", (o) =>
      strAt(o, "spec", "volumeName") === "" ? "" : accessModes(o),
    ),
    column("StorageClass", "string", "StorageClass of the pvc", storageClass),
    column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc", (o) => strAt(o, "spec", "volumeAttributesClassName") || "<unset>"),
    ageColumn(),
    column("VolumeMode", "string", "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.", (o) => strAt(o, "spec", "volumeMode") || "<unset>", 1),
  ],
  strategy: {
    defaults(o) {
      canonicalizeQuantitiesOrThrow(PVC_SCHEMA, o, "PersistentVolumeClaim", "v1");
      defaultPvcSpec(ensureObj(o as JsonObject, "spec"));
      const status = asObj(o.status);
      if (status) setDefault(status, "phase", "Pending");
    },
    validate: validatePvc,
    prepareForCreate(o) {
      o.status = { phase: "Pending" };
    },
  },
};
