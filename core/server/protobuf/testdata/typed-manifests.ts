/**
 * @module Manifests for kinds kubectl never sends as protobuf (Pod, workload
 * controllers with status). `capture.ts` pipes each through
 * `kubectl set image --local -o json`, which decodes it into the typed Go
 * object and prints Go's JSON for it: the reference shape the tables must
 * reproduce (checked by `typed-json.test.ts` via a protobuf round trip).
 */

import { RICH_POD_SPEC } from "./rich-cronjob.ts";

const T1 = "2026-01-01T00:00:00Z";
const T2 = "2026-01-02T03:04:05Z";
const selector = { matchLabels: { app: "x" } };
const template = { metadata: { labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "busybox" }] } };

const managedFields = [
  {
    manager: "kubectl-client-side-apply",
    operation: "Update",
    apiVersion: "v1",
    time: T1,
    fieldsType: "FieldsV1",
    fieldsV1: { "f:metadata": { "f:labels": { ".": {}, "f:app": {} } } },
  },
];

const containerStatus = {
  name: "main",
  state: { running: { startedAt: T1 } },
  lastState: { terminated: { exitCode: 137, reason: "OOMKilled", startedAt: T1, finishedAt: T2, containerID: "containerd://abc" } },
  ready: true,
  restartCount: 1,
  image: "nginx:1.27",
  imageID: "docker.io/library/nginx@sha256:0",
  containerID: "containerd://def",
  started: true,
};

/** name → manifest. */
export const TYPED_MANIFESTS: Record<string, unknown> = {
  pod: {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "rich",
      generateName: "rich-",
      namespace: "default",
      uid: "66666666-6666-6666-6666-666666666666",
      resourceVersion: "42",
      generation: 3,
      creationTimestamp: T1,
      deletionTimestamp: T2,
      deletionGracePeriodSeconds: 30,
      labels: { app: "rich", "z-last": "1", "a-first": "2" },
      annotations: { note: "hi" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "7", controller: true, blockOwnerDeletion: false }],
      finalizers: ["example.com/f"],
      managedFields,
    },
    spec: { ...RICH_POD_SPEC, restartPolicy: "Always", nodeName: "n1" },
    status: {
      phase: "Running",
      conditions: [
        { type: "Ready", status: "True", lastProbeTime: null, lastTransitionTime: T1 },
        { type: "PodScheduled", status: "True", lastTransitionTime: T2, reason: "r", message: "m" },
      ],
      hostIP: "10.0.0.1",
      hostIPs: [{ ip: "10.0.0.1" }],
      podIP: "10.1.0.5",
      podIPs: [{ ip: "10.1.0.5" }, { ip: "fd00::5" }],
      startTime: T1,
      initContainerStatuses: [{ ...containerStatus, name: "init", state: { terminated: { exitCode: 0, reason: "Completed" } } }],
      containerStatuses: [containerStatus],
      qosClass: "Burstable",
    },
  },
  deployment: {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "d", labels: { app: "x" } },
    spec: {
      replicas: 0,
      selector,
      template,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: 1 } },
      minReadySeconds: 5,
      revisionHistoryLimit: 0,
      paused: true,
      progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 2,
      availableReplicas: 2,
      unavailableReplicas: 1,
      conditions: [{ type: "Available", status: "True", lastUpdateTime: T1, lastTransitionTime: T2, reason: "MinimumReplicasAvailable", message: "ok" }],
      collisionCount: 0,
    },
  },
  statefulset: {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "s" },
    spec: {
      selector,
      template,
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], storageClassName: "", resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" },
        },
      ],
      podManagementPolicy: "Parallel",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0, maxUnavailable: 2 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" },
      ordinals: { start: 0 },
    },
    status: { replicas: 1, readyReplicas: 1, currentRevision: "s-1", collisionCount: 0 },
  },
  daemonset: {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "ds" },
    spec: { selector, template, updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10 },
    status: { currentNumberScheduled: 1, numberMisscheduled: 0, desiredNumberScheduled: 1, numberReady: 1, conditions: [] },
  },
  replicaset: {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "rs" },
    spec: { replicas: 2, selector, template },
    status: { replicas: 2, conditions: [{ type: "ReplicaFailure", status: "False", lastTransitionTime: T1 }] },
  },
  replicationcontroller: {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name: "rc" },
    spec: { replicas: 1, selector: { app: "x" }, template },
    status: { replicas: 1 },
  },
  job: {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "j" },
    spec: { template: { ...template, spec: { ...template.spec, restartPolicy: "Never" } }, manualSelector: true, selector },
    status: {
      conditions: [{ type: "Complete", status: "True", lastProbeTime: T1, lastTransitionTime: T1 }],
      startTime: T1,
      completionTime: T2,
      succeeded: 1,
      uncountedTerminatedPods: {},
      ready: 0,
      terminating: 0,
    },
  },
  cronjob: {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "cj" },
    spec: {
      schedule: "@hourly",
      timeZone: "Etc/UTC",
      startingDeadlineSeconds: 0,
      concurrencyPolicy: "Forbid",
      suspend: true,
      jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: "OnFailure" } } } },
      successfulJobsHistoryLimit: 0,
    },
    status: { active: [{ kind: "Job", namespace: "default", name: "cj-1", uid: "8", apiVersion: "batch/v1" }], lastScheduleTime: T1 },
  },
};
