/**
 * @module The core/v1 PersistentVolume kind (cluster-scoped): schema with
 * the PersistentVolumeSource fields (common ones modelled, legacy in-tree
 * ones opaque), upstream's defaults (Retain, Filesystem, phase Pending), the
 * commonly hit validation and the `kubectl get pv` columns.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import type { Schema } from "../../api/schema.ts";
import { isDNS1123Subdomain } from "../../api/validation.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { child, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired, index } from "../field-errors.ts";
import { canonicalizeQuantitiesOrThrow } from "../normalize.ts";
import { asArr, asObj, asStr, ensureObj, getPath, isNil, jsonEqual, setDefault, strAt, type JsonObject } from "../object-access.ts";
import { atomic, bool, kindSchema, obj, opaque, ref, resourceList, str, strMap, time } from "../schema-dsl.ts";
import { ageColumn, column, nameColumn } from "../table.ts";
import { validateResourceList } from "./common-validation.ts";
import { CORE } from "./container-schema.ts";
import { OBJECT_REFERENCE } from "./pod.ts";
import { NODE_SELECTOR } from "./pod-spec-schema.ts";
import { ACCESS_MODES, accessModesString } from "./pvc.ts";
import { HOST_PATH_VOLUME_SOURCE, LEGACY_VOLUME_SOURCES, NFS_VOLUME_SOURCE } from "./volume-schema.ts";

const SECRET_REFERENCE = obj(`${CORE}.SecretReference`, { name: str(), namespace: str() }, { mapType: "atomic" });

const CSI_PV_SOURCE = obj(
  `${CORE}.CSIPersistentVolumeSource`,
  {
    controllerExpandSecretRef: ref(SECRET_REFERENCE),
    controllerPublishSecretRef: ref(SECRET_REFERENCE),
    driver: str(),
    fsType: str(),
    nodeExpandSecretRef: ref(SECRET_REFERENCE),
    nodePublishSecretRef: ref(SECRET_REFERENCE),
    nodeStageSecretRef: ref(SECRET_REFERENCE),
    readOnly: bool(),
    volumeAttributes: strMap(),
    volumeHandle: str(),
  },
  { required: ["driver", "volumeHandle"] },
);

/** Sources whose PersistentVolume type differs from the Volume one (not modelled). */
const PV_ONLY_LEGACY: Record<string, string> = {
  azureFile: "AzureFilePersistentVolumeSource",
  cephfs: "CephFSPersistentVolumeSource",
  cinder: "CinderPersistentVolumeSource",
  flexVolume: "FlexPersistentVolumeSource",
  glusterfs: "GlusterfsPersistentVolumeSource",
  iscsi: "ISCSIPersistentVolumeSource",
  rbd: "RBDPersistentVolumeSource",
  scaleIO: "ScaleIOPersistentVolumeSource",
  storageos: "StorageOSPersistentVolumeSource",
};
const SHARED_LEGACY = ["awsElasticBlockStore", "azureDisk", "fc", "flocker", "gcePersistentDisk", "photonPersistentDisk", "portworxVolume", "quobyte", "vsphereVolume"];

function pvSources(): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const f of SHARED_LEGACY) {
    const s = LEGACY_VOLUME_SOURCES[f];
    if (s) out[f] = s;
  }
  for (const [f, type] of Object.entries(PV_ONLY_LEGACY)) out[f] = opaque(`${CORE}.${type}`);
  out.csi = CSI_PV_SOURCE;
  out.hostPath = HOST_PATH_VOLUME_SOURCE;
  out.local = obj(`${CORE}.LocalVolumeSource`, { fsType: str(), path: str() }, { required: ["path"] });
  out.nfs = NFS_VOLUME_SOURCE;
  return out;
}

const SOURCES = pvSources();
export const PV_SOURCE_FIELDS = Object.keys(SOURCES).sort();

/** `+structType=granular` on claimRef. */
const CLAIM_REF: Schema = { allOf: [OBJECT_REFERENCE], "x-kubernetes-map-type": "granular" };

export const PV_SCHEMA = kindSchema(`${CORE}.PersistentVolume`, { group: "", version: "v1", kind: "PersistentVolume" }, ref(OBJECT_META), {
  spec: obj(`${CORE}.PersistentVolumeSpec`, {
    ...SOURCES,
    accessModes: atomic(str()),
    capacity: resourceList(),
    claimRef: CLAIM_REF,
    mountOptions: atomic(str()),
    nodeAffinity: obj(`${CORE}.VolumeNodeAffinity`, { required: ref(NODE_SELECTOR) }),
    persistentVolumeReclaimPolicy: str(),
    storageClassName: str(),
    volumeAttributesClassName: str(),
    volumeMode: str(),
  }),
  status: obj(`${CORE}.PersistentVolumeStatus`, { lastPhaseTransitionTime: time(), message: str(), phase: str(), reason: str() }),
});

/** SetDefaults_PersistentVolume (+ the hostPath type default). */
export function defaultPv(o: KubeObject): void {
  const spec = ensureObj(o as JsonObject, "spec");
  setDefault(spec, "persistentVolumeReclaimPolicy", "Retain");
  if (isNil(spec.volumeMode)) spec.volumeMode = "Filesystem";
  const hostPath = asObj(spec.hostPath);
  if (hostPath && isNil(hostPath.type)) hostPath.type = "";
  const status = asObj(o.status);
  if (status) setDefault(status, "phase", "Pending");
}

const RECLAIM_POLICIES = ["Delete", "Recycle", "Retain"];

function sourceView(spec: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const f of PV_SOURCE_FIELDS) if (spec[f] !== undefined) out[f] = spec[f];
  return out;
}

/** ValidatePersistentVolume (commonly hit rules) and the update rules. */
export function validatePv(o: KubeObject, old?: KubeObject): StatusCause[] {
  const spec = asObj(o.spec) ?? {};
  const causes: StatusCause[] = [];
  const modes = asArr(spec.accessModes);
  if (modes.length === 0) causes.push(fieldRequired("spec.accessModes"));
  modes.forEach((m, i) => {
    if (!ACCESS_MODES.includes(String(m))) causes.push(fieldNotSupported(index("spec.accessModes", i), m, ACCESS_MODES));
  });
  const capacity = asObj(spec.capacity) ?? {};
  const keys = Object.keys(capacity);
  if (keys.length === 0) causes.push(fieldRequired("spec.capacity"));
  if (!("storage" in capacity) || keys.length > 1) causes.push(fieldNotSupported("spec.capacity", capacity, ["storage"]));
  causes.push(...validateResourceList(capacity, "spec.capacity", { checkNames: false }));
  const sources = PV_SOURCE_FIELDS.filter((f) => !isNil(spec[f]));
  if (sources.length === 0) causes.push(fieldRequired("spec", "must specify a volume type"));
  for (const f of sources.slice(1)) causes.push(fieldForbidden(child("spec", f), "may not specify more than 1 volume type"));
  for (const f of ["hostPath", "local"]) {
    const src = asObj(spec[f]);
    if (src && (asStr(src.path) ?? "") === "") causes.push(fieldRequired(child("spec", f, "path")));
  }
  const nfs = asObj(spec.nfs);
  if (nfs) for (const f of ["server", "path"]) if ((asStr(nfs[f]) ?? "") === "") causes.push(fieldRequired(child("spec.nfs", f)));
  const policy = asStr(spec.persistentVolumeReclaimPolicy) ?? "";
  if (!RECLAIM_POLICIES.includes(policy)) causes.push(fieldNotSupported("spec.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES));
  const mode = spec.volumeMode;
  if (!isNil(mode) && mode !== "Block" && mode !== "Filesystem") causes.push(fieldNotSupported("spec.volumeMode", mode, ["Block", "Filesystem"]));
  const sc = asStr(spec.storageClassName);
  if (sc) for (const m of isDNS1123Subdomain(sc)) causes.push(fieldInvalid("spec.storageClassName", sc, m));
  if (old) {
    const oldSpec = asObj(old.spec) ?? {};
    if (!jsonEqual(sourceView(spec), sourceView(oldSpec))) {
      causes.push(fieldForbidden("spec.persistentvolumesource", "spec.persistentvolumesource is immutable after creation"));
    }
    if (!jsonEqual(spec.volumeMode ?? null, oldSpec.volumeMode ?? null)) causes.push(fieldInvalid("volumeMode", spec.volumeMode ?? null, "field is immutable"));
  }
  return causes;
}

function pvStorageClass(o: KubeObject): string {
  return o.metadata.annotations?.["volume.beta.kubernetes.io/storage-class"] ?? strAt(o, "spec", "storageClassName");
}

export const persistentVolumeType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "PersistentVolume",
  plural: "persistentvolumes",
  singular: "persistentvolume",
  shortNames: ["pv"],
  namespaced: false,
  tracksGeneration: false,
  schema: PV_SCHEMA,
  subresources: { status: true },
  selectableFields: { name: (o) => o.metadata.name ?? "" },
  columns: [
    nameColumn(),
    column("Capacity", "string", "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity", (o) => String(getPath(o, "spec", "capacity", "storage") ?? "0")),
    column("Access Modes", "string", "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes", (o) => accessModesString(getPath(o, "spec", "accessModes"))),
    column("Reclaim Policy", "string", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming", (o) => strAt(o, "spec", "persistentVolumeReclaimPolicy")),
    column("Status", "string", "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase", (o) => (o.metadata.deletionTimestamp ? "Terminating" : strAt(o, "status", "phase"))),
    column("Claim", "string", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding", (o) => {
      const ref = asObj(getPath(o, "spec", "claimRef"));
      return ref ? `${String(ref.namespace ?? "")}/${String(ref.name ?? "")}` : "";
    }),
    column("StorageClass", "string", "StorageClass of the pv", pvStorageClass),
    column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv", (o) => {
      const v = getPath(o, "spec", "volumeAttributesClassName");
      return typeof v === "string" ? v : "<unset>";
    }),
    column("Reason", "string", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.", (o) => strAt(o, "status", "reason")),
    ageColumn(),
    column("VolumeMode", "string", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.", (o) => strAt(o, "spec", "volumeMode") || "<unset>", 1),
  ],
  strategy: {
    defaults(o) {
      canonicalizeQuantitiesOrThrow(PV_SCHEMA, o, "PersistentVolume", "v1");
      defaultPv(o);
    },
    validate: validatePv,
    prepareForCreate(o) {
      o.status = { phase: "Pending", lastPhaseTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z") };
    },
  },
};
