/**
 * @module core/v1 Volume and its sources, plus PersistentVolumeClaimSpec
 * (shared by ephemeral volumes, StatefulSet claim templates and the
 * PersistentVolumeClaim kind). Legacy in-tree cloud/storage plugins are
 * accepted as opaque objects (fields not checked), everything in common use
 * is modelled field by field.
 */
import type { Schema } from "../../api/schema.ts";
import { LABEL_SELECTOR, OBJECT_META } from "../meta-schemas.ts";
import { atomic, bool, int32, int64, keyed, obj, opaque, quantity, ref, resourceList, str, strMap, time } from "../schema-dsl.ts";
import { CORE, LOCAL_OBJECT_REFERENCE, OBJECT_FIELD_SELECTOR, RESOURCE_FIELD_SELECTOR } from "./container-schema.ts";

const KEY_TO_PATH = obj(`${CORE}.KeyToPath`, { key: str(), mode: int32(), path: str() }, { required: ["key", "path"] });

const DOWNWARD_API_VOLUME_FILE = obj(
  `${CORE}.DownwardAPIVolumeFile`,
  { fieldRef: ref(OBJECT_FIELD_SELECTOR), mode: int32(), path: str(), resourceFieldRef: ref(RESOURCE_FIELD_SELECTOR) },
  { required: ["path"] },
);

const SECRET_PROJECTION = obj(`${CORE}.SecretProjection`, { items: atomic(KEY_TO_PATH), name: str({ default: "" }), optional: bool() });
const CONFIG_MAP_PROJECTION = obj(`${CORE}.ConfigMapProjection`, { items: atomic(KEY_TO_PATH), name: str({ default: "" }), optional: bool() });
const DOWNWARD_API_PROJECTION = obj(`${CORE}.DownwardAPIProjection`, { items: atomic(DOWNWARD_API_VOLUME_FILE) });
const SERVICE_ACCOUNT_TOKEN_PROJECTION = obj(
  `${CORE}.ServiceAccountTokenProjection`,
  { audience: str(), expirationSeconds: int64(), path: str() },
  { required: ["path"] },
);
const CLUSTER_TRUST_BUNDLE_PROJECTION = obj(
  `${CORE}.ClusterTrustBundleProjection`,
  { labelSelector: ref(LABEL_SELECTOR), name: str(), optional: bool(), path: str(), signerName: str() },
  { required: ["path"] },
);

const VOLUME_PROJECTION = obj(`${CORE}.VolumeProjection`, {
  clusterTrustBundle: ref(CLUSTER_TRUST_BUNDLE_PROJECTION),
  configMap: ref(CONFIG_MAP_PROJECTION),
  downwardAPI: ref(DOWNWARD_API_PROJECTION),
  secret: ref(SECRET_PROJECTION),
  serviceAccountToken: ref(SERVICE_ACCOUNT_TOKEN_PROJECTION),
});

export const TYPED_LOCAL_OBJECT_REFERENCE = obj(
  `${CORE}.TypedLocalObjectReference`,
  { apiGroup: str(), kind: str(), name: str() },
  { required: ["kind", "name"], mapType: "atomic" },
);

const TYPED_OBJECT_REFERENCE = obj(
  `${CORE}.TypedObjectReference`,
  { apiGroup: str(), kind: str(), name: str(), namespace: str() },
  { required: ["kind", "name"] },
);

export const PVC_SPEC = obj(`${CORE}.PersistentVolumeClaimSpec`, {
  accessModes: atomic(str()),
  dataSource: ref(TYPED_LOCAL_OBJECT_REFERENCE),
  dataSourceRef: ref(TYPED_OBJECT_REFERENCE),
  resources: obj(`${CORE}.VolumeResourceRequirements`, { limits: resourceList(), requests: resourceList() }),
  selector: ref(LABEL_SELECTOR),
  storageClassName: str(),
  volumeAttributesClassName: str(),
  volumeMode: str(),
  volumeName: str(),
});

const PVC_CONDITION = obj(
  `${CORE}.PersistentVolumeClaimCondition`,
  { lastProbeTime: time(), lastTransitionTime: time(), message: str(), reason: str(), status: str(), type: str() },
  { required: ["type", "status"] },
);

export const PVC_STATUS = obj(`${CORE}.PersistentVolumeClaimStatus`, {
  accessModes: atomic(str()),
  allocatedResourceStatuses: strMap({ mapType: "granular" }),
  allocatedResources: resourceList(),
  capacity: resourceList(),
  conditions: keyed(PVC_CONDITION, ["type"]),
  currentVolumeAttributesClassName: str(),
  modifyVolumeStatus: obj(
    `${CORE}.ModifyVolumeStatus`,
    { status: str(), targetVolumeAttributesClassName: str() },
    { required: ["status"] },
  ),
  phase: str(),
});

const PVC_TEMPLATE = obj(
  `${CORE}.PersistentVolumeClaimTemplate`,
  { metadata: ref(OBJECT_META), spec: ref(PVC_SPEC) },
  { required: ["spec"] },
);

/** The names of all volume source fields (exactly one must be set on a Volume). */
export const VOLUME_SOURCE_FIELDS = [
  "awsElasticBlockStore",
  "azureDisk",
  "azureFile",
  "cephfs",
  "cinder",
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "fc",
  "flexVolume",
  "flocker",
  "gcePersistentDisk",
  "gitRepo",
  "glusterfs",
  "hostPath",
  "image",
  "iscsi",
  "nfs",
  "persistentVolumeClaim",
  "photonPersistentDisk",
  "portworxVolume",
  "projected",
  "quobyte",
  "rbd",
  "scaleIO",
  "secret",
  "storageos",
  "vsphereVolume",
] as const;

const LEGACY_SOURCES: Record<string, string> = {
  awsElasticBlockStore: "AWSElasticBlockStoreVolumeSource",
  azureDisk: "AzureDiskVolumeSource",
  azureFile: "AzureFileVolumeSource",
  cephfs: "CephFSVolumeSource",
  cinder: "CinderVolumeSource",
  fc: "FCVolumeSource",
  flexVolume: "FlexVolumeSource",
  flocker: "FlockerVolumeSource",
  gcePersistentDisk: "GCEPersistentDiskVolumeSource",
  gitRepo: "GitRepoVolumeSource",
  glusterfs: "GlusterfsVolumeSource",
  iscsi: "ISCSIVolumeSource",
  photonPersistentDisk: "PhotonPersistentDiskVolumeSource",
  portworxVolume: "PortworxVolumeSource",
  quobyte: "QuobyteVolumeSource",
  rbd: "RBDVolumeSource",
  scaleIO: "ScaleIOVolumeSource",
  storageos: "StorageOSVolumeSource",
  vsphereVolume: "VsphereVirtualDiskVolumeSource",
};

/** The opaque legacy sources of a Volume, by field (PersistentVolume reuses those of the same type). */
export const LEGACY_VOLUME_SOURCES: Record<string, Schema> = Object.fromEntries(
  Object.entries(LEGACY_SOURCES).map(([field, type]) => [field, opaque(`${CORE}.${type}`)]),
);

export const HOST_PATH_VOLUME_SOURCE = obj(`${CORE}.HostPathVolumeSource`, { path: str(), type: str() }, { required: ["path"] });
export const NFS_VOLUME_SOURCE = obj(`${CORE}.NFSVolumeSource`, { path: str(), readOnly: bool(), server: str() }, { required: ["server", "path"] });

export const VOLUME = obj(
  `${CORE}.Volume`,
  {
    name: str(),
    ...LEGACY_VOLUME_SOURCES,
    configMap: obj(`${CORE}.ConfigMapVolumeSource`, {
      defaultMode: int32(),
      items: atomic(KEY_TO_PATH),
      name: str({ default: "" }),
      optional: bool(),
    }),
    csi: obj(
      `${CORE}.CSIVolumeSource`,
      {
        driver: str(),
        fsType: str(),
        nodePublishSecretRef: ref(LOCAL_OBJECT_REFERENCE),
        readOnly: bool(),
        volumeAttributes: strMap(),
      },
      { required: ["driver"] },
    ),
    downwardAPI: obj(`${CORE}.DownwardAPIVolumeSource`, { defaultMode: int32(), items: atomic(DOWNWARD_API_VOLUME_FILE) }),
    emptyDir: obj(`${CORE}.EmptyDirVolumeSource`, { medium: str(), sizeLimit: quantity() }),
    ephemeral: obj(`${CORE}.EphemeralVolumeSource`, { volumeClaimTemplate: ref(PVC_TEMPLATE) }),
    hostPath: HOST_PATH_VOLUME_SOURCE,
    image: obj(`${CORE}.ImageVolumeSource`, { pullPolicy: str(), reference: str() }),
    nfs: NFS_VOLUME_SOURCE,
    persistentVolumeClaim: obj(
      `${CORE}.PersistentVolumeClaimVolumeSource`,
      { claimName: str(), readOnly: bool() },
      { required: ["claimName"] },
    ),
    projected: obj(`${CORE}.ProjectedVolumeSource`, { defaultMode: int32(), sources: atomic(VOLUME_PROJECTION) }),
    secret: obj(`${CORE}.SecretVolumeSource`, {
      defaultMode: int32(),
      items: atomic(KEY_TO_PATH),
      optional: bool(),
      secretName: str(),
    }),
  },
  { required: ["name"] },
);

/** `spec.volumes`: `+patchMergeKey=name +patchStrategy=merge,retainKeys +listType=map +listMapKey=name`. */
export const VOLUMES = keyed(VOLUME, ["name"], { strategy: "merge,retainKeys" });
