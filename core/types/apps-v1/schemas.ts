/**
 * @module apps/v1 schemas: Deployment, ReplicaSet, DaemonSet, StatefulSet and
 * ControllerRevision (k8s.io/api apps/v1 types.go, v1.32).
 */
import { LABEL_SELECTOR, OBJECT_META } from "../meta-schemas.ts";
import { atomic, bool, int32, int64, intOrString, keyed, kindSchema, obj, ref, RAW_EXTENSION, str, time } from "../schema-dsl.ts";
import { POD_TEMPLATE_SPEC } from "../core-v1/pod-spec-schema.ts";
import { PVC_SCHEMA } from "../core-v1/pvc-schema.ts";

const APPS = "io.k8s.api.apps.v1";

function condition(name: string, withUpdateTime = false) {
  return obj(
    `${APPS}.${name}`,
    {
      ...(withUpdateTime ? { lastUpdateTime: time() } : {}),
      lastTransitionTime: time(),
      message: str(),
      reason: str(),
      status: str(),
      type: str(),
    },
    { required: ["type", "status"] },
  );
}

function gvk(kind: string) {
  return { group: "apps", version: "v1", kind };
}

export const DEPLOYMENT_SPEC = obj(
  `${APPS}.DeploymentSpec`,
  {
    minReadySeconds: int32(),
    paused: bool(),
    progressDeadlineSeconds: int32(),
    replicas: int32(),
    revisionHistoryLimit: int32(),
    selector: ref(LABEL_SELECTOR),
    strategy: obj(
      `${APPS}.DeploymentStrategy`,
      {
        rollingUpdate: obj(`${APPS}.RollingUpdateDeployment`, { maxSurge: intOrString(), maxUnavailable: intOrString() }),
        type: str(),
      },
      { strategy: "retainKeys" },
    ),
    template: ref(POD_TEMPLATE_SPEC),
  },
  { required: ["selector", "template"] },
);

const DEPLOYMENT_STATUS = obj(`${APPS}.DeploymentStatus`, {
  availableReplicas: int32(),
  collisionCount: int32(),
  conditions: keyed(condition("DeploymentCondition", true), ["type"]),
  observedGeneration: int64(),
  readyReplicas: int32(),
  replicas: int32(),
  unavailableReplicas: int32(),
  updatedReplicas: int32(),
});

export const DEPLOYMENT_SCHEMA = kindSchema(`${APPS}.Deployment`, gvk("Deployment"), ref(OBJECT_META), {
  spec: ref(DEPLOYMENT_SPEC),
  status: ref(DEPLOYMENT_STATUS),
});

const REPLICA_SET_SPEC = obj(
  `${APPS}.ReplicaSetSpec`,
  { minReadySeconds: int32(), replicas: int32(), selector: ref(LABEL_SELECTOR), template: ref(POD_TEMPLATE_SPEC) },
  { required: ["selector"] },
);

const REPLICA_SET_STATUS = obj(
  `${APPS}.ReplicaSetStatus`,
  {
    availableReplicas: int32(),
    conditions: keyed(condition("ReplicaSetCondition"), ["type"]),
    fullyLabeledReplicas: int32(),
    observedGeneration: int64(),
    readyReplicas: int32(),
    replicas: int32(),
  },
  { required: ["replicas"] },
);

export const REPLICA_SET_SCHEMA = kindSchema(`${APPS}.ReplicaSet`, gvk("ReplicaSet"), ref(OBJECT_META), {
  spec: ref(REPLICA_SET_SPEC),
  status: ref(REPLICA_SET_STATUS),
});

const DAEMON_SET_SPEC = obj(
  `${APPS}.DaemonSetSpec`,
  {
    minReadySeconds: int32(),
    revisionHistoryLimit: int32(),
    selector: ref(LABEL_SELECTOR),
    template: ref(POD_TEMPLATE_SPEC),
    updateStrategy: obj(`${APPS}.DaemonSetUpdateStrategy`, {
      rollingUpdate: obj(`${APPS}.RollingUpdateDaemonSet`, { maxSurge: intOrString(), maxUnavailable: intOrString() }),
      type: str(),
    }),
  },
  { required: ["selector", "template"] },
);

const DAEMON_SET_STATUS = obj(
  `${APPS}.DaemonSetStatus`,
  {
    collisionCount: int32(),
    conditions: keyed(condition("DaemonSetCondition"), ["type"]),
    currentNumberScheduled: int32(),
    desiredNumberScheduled: int32(),
    numberAvailable: int32(),
    numberMisscheduled: int32(),
    numberReady: int32(),
    numberUnavailable: int32(),
    observedGeneration: int64(),
    updatedNumberScheduled: int32(),
  },
  { required: ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"] },
);

export const DAEMON_SET_SCHEMA = kindSchema(`${APPS}.DaemonSet`, gvk("DaemonSet"), ref(OBJECT_META), {
  spec: ref(DAEMON_SET_SPEC),
  status: ref(DAEMON_SET_STATUS),
});

const STATEFUL_SET_SPEC = obj(
  `${APPS}.StatefulSetSpec`,
  {
    minReadySeconds: int32(),
    ordinals: obj(`${APPS}.StatefulSetOrdinals`, { start: int32() }),
    persistentVolumeClaimRetentionPolicy: obj(`${APPS}.StatefulSetPersistentVolumeClaimRetentionPolicy`, {
      whenDeleted: str(),
      whenScaled: str(),
    }),
    podManagementPolicy: str(),
    replicas: int32(),
    revisionHistoryLimit: int32(),
    selector: ref(LABEL_SELECTOR),
    serviceName: str(),
    template: ref(POD_TEMPLATE_SPEC),
    updateStrategy: obj(`${APPS}.StatefulSetUpdateStrategy`, {
      rollingUpdate: obj(`${APPS}.RollingUpdateStatefulSetStrategy`, { maxUnavailable: intOrString(), partition: int32() }),
      type: str(),
    }),
    volumeClaimTemplates: atomic(PVC_SCHEMA),
  },
  { required: ["selector", "template"] },
);

const STATEFUL_SET_STATUS = obj(
  `${APPS}.StatefulSetStatus`,
  {
    availableReplicas: int32(),
    collisionCount: int32(),
    conditions: keyed(condition("StatefulSetCondition"), ["type"]),
    currentReplicas: int32(),
    currentRevision: str(),
    observedGeneration: int64(),
    readyReplicas: int32(),
    replicas: int32(),
    updateRevision: str(),
    updatedReplicas: int32(),
  },
  { required: ["replicas"] },
);

export const STATEFUL_SET_SCHEMA = kindSchema(`${APPS}.StatefulSet`, gvk("StatefulSet"), ref(OBJECT_META), {
  spec: ref(STATEFUL_SET_SPEC),
  status: ref(STATEFUL_SET_STATUS),
});

export const CONTROLLER_REVISION_SCHEMA = kindSchema(`${APPS}.ControllerRevision`, gvk("ControllerRevision"), ref(OBJECT_META), {
  data: RAW_EXTENSION,
  revision: int64(),
});
CONTROLLER_REVISION_SCHEMA.required = ["revision"];
