/**
 * @module Descriptor table: k8s.io/api apps/v1 (Deployment, ReplicaSet,
 * DaemonSet, StatefulSet) and batch/v1 (Job, CronJob), plus the core/v1
 * PersistentVolumeClaim used by StatefulSet volume claim templates.
 *
 * Field numbers and JSON names follow the upstream `generated.proto` / Go struct
 * tags; field order is Go struct order. Notation: `../descriptors.ts`.
 */

import type { MessageTable } from "../descriptors.ts";

const TEMPLATE = "core.v1.PodTemplateSpec";
const SELECTOR = "meta.v1.LabelSelector";

export const APPS_V1: MessageTable = {
  "apps.v1.Deployment": "1 metadata meta.v1.ObjectMeta, 2 spec apps.v1.DeploymentSpec, 3 status apps.v1.DeploymentStatus",
  "apps.v1.DeploymentSpec": [
    "1 replicas int32?",
    `2 selector ${SELECTOR}?!`,
    `3 template ${TEMPLATE}`,
    "4 strategy apps.v1.DeploymentStrategy",
    "5 minReadySeconds int32",
    "6 revisionHistoryLimit int32?",
    "7 paused bool",
    "9 progressDeadlineSeconds int32?",
  ].join(", "),
  "apps.v1.DeploymentStrategy": "1 type string, 2 rollingUpdate apps.v1.RollingUpdateDeployment?",
  "apps.v1.RollingUpdateDeployment": "1 maxUnavailable intstr.IntOrString?, 2 maxSurge intstr.IntOrString?",
  "apps.v1.DeploymentStatus": [
    "1 observedGeneration int64",
    "2 replicas int32",
    "3 updatedReplicas int32",
    "7 readyReplicas int32",
    "4 availableReplicas int32",
    "5 unavailableReplicas int32",
    "6 conditions apps.v1.DeploymentCondition[]",
    "8 collisionCount int32?",
  ].join(", "),
  "apps.v1.DeploymentCondition":
    "1 type string!, 2 status string!, 6 lastUpdateTime meta.v1.Time, 7 lastTransitionTime meta.v1.Time, 4 reason string, 5 message string",
  "apps.v1.ReplicaSet": "1 metadata meta.v1.ObjectMeta, 2 spec apps.v1.ReplicaSetSpec, 3 status apps.v1.ReplicaSetStatus",
  "apps.v1.ReplicaSetSpec": `1 replicas int32?, 4 minReadySeconds int32, 2 selector ${SELECTOR}?!, 3 template ${TEMPLATE}`,
  "apps.v1.ReplicaSetStatus":
    "1 replicas int32!, 2 fullyLabeledReplicas int32, 4 readyReplicas int32, 5 availableReplicas int32, 3 observedGeneration int64, 6 conditions apps.v1.ReplicaSetCondition[]",
  "apps.v1.ReplicaSetCondition":
    "1 type string!, 2 status string!, 3 lastTransitionTime meta.v1.Time, 4 reason string, 5 message string",
  "apps.v1.DaemonSet": "1 metadata meta.v1.ObjectMeta, 2 spec apps.v1.DaemonSetSpec, 3 status apps.v1.DaemonSetStatus",
  "apps.v1.DaemonSetSpec": `1 selector ${SELECTOR}?!, 2 template ${TEMPLATE}, 3 updateStrategy apps.v1.DaemonSetUpdateStrategy, 4 minReadySeconds int32, 6 revisionHistoryLimit int32?`,
  "apps.v1.DaemonSetUpdateStrategy": "1 type string, 2 rollingUpdate apps.v1.RollingUpdateDaemonSet?",
  "apps.v1.RollingUpdateDaemonSet": "1 maxUnavailable intstr.IntOrString?, 2 maxSurge intstr.IntOrString?",
  "apps.v1.DaemonSetStatus": [
    "1 currentNumberScheduled int32!",
    "2 numberMisscheduled int32!",
    "3 desiredNumberScheduled int32!",
    "4 numberReady int32!",
    "5 observedGeneration int64",
    "6 updatedNumberScheduled int32",
    "7 numberAvailable int32",
    "8 numberUnavailable int32",
    "9 collisionCount int32?",
    "10 conditions apps.v1.DaemonSetCondition[]",
  ].join(", "),
  "apps.v1.DaemonSetCondition":
    "1 type string!, 2 status string!, 3 lastTransitionTime meta.v1.Time, 4 reason string, 5 message string",
  "apps.v1.StatefulSet":
    "1 metadata meta.v1.ObjectMeta, 2 spec apps.v1.StatefulSetSpec, 3 status apps.v1.StatefulSetStatus",
  "apps.v1.StatefulSetSpec": [
    "1 replicas int32?",
    `2 selector ${SELECTOR}?!`,
    `3 template ${TEMPLATE}`,
    "4 volumeClaimTemplates core.v1.PersistentVolumeClaim[]",
    "5 serviceName string!",
    "6 podManagementPolicy string",
    "7 updateStrategy apps.v1.StatefulSetUpdateStrategy",
    "8 revisionHistoryLimit int32?",
    "9 minReadySeconds int32",
    "10 persistentVolumeClaimRetentionPolicy apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy?",
    "11 ordinals apps.v1.StatefulSetOrdinals?",
  ].join(", "),
  "apps.v1.StatefulSetUpdateStrategy": "1 type string, 2 rollingUpdate apps.v1.RollingUpdateStatefulSetStrategy?",
  "apps.v1.RollingUpdateStatefulSetStrategy": "1 partition int32?, 2 maxUnavailable intstr.IntOrString?",
  "apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy": "1 whenDeleted string, 2 whenScaled string",
  "apps.v1.StatefulSetOrdinals": "1 start int32!",
  "apps.v1.StatefulSetStatus": [
    "1 observedGeneration int64",
    "2 replicas int32!",
    "3 readyReplicas int32",
    "4 currentReplicas int32",
    "5 updatedReplicas int32",
    "6 currentRevision string",
    "7 updateRevision string",
    "9 collisionCount int32?",
    "10 conditions apps.v1.StatefulSetCondition[]",
    "11 availableReplicas int32!",
  ].join(", "),
  "apps.v1.StatefulSetCondition":
    "1 type string!, 2 status string!, 3 lastTransitionTime meta.v1.Time, 4 reason string, 5 message string",
  "core.v1.PersistentVolumeClaim":
    "1 metadata meta.v1.ObjectMeta, 2 spec core.v1.PersistentVolumeClaimSpec, 3 status core.v1.PersistentVolumeClaimStatus",
  "core.v1.PersistentVolumeClaimStatus": [
    "1 phase string",
    "2 accessModes string[]",
    "3 capacity resource.Quantity{}",
    "4 conditions core.v1.PersistentVolumeClaimCondition[]",
    "5 allocatedResources resource.Quantity{}",
    "7 allocatedResourceStatuses string{}",
    "8 currentVolumeAttributesClassName string?",
    "9 modifyVolumeStatus core.v1.ModifyVolumeStatus?",
  ].join(", "),
  "core.v1.PersistentVolumeClaimCondition":
    "1 type string!, 2 status string!, 3 lastProbeTime meta.v1.Time, 4 lastTransitionTime meta.v1.Time, 5 reason string, 6 message string",
  "core.v1.ModifyVolumeStatus": "1 targetVolumeAttributesClassName string, 2 status string!",
};

export const BATCH_V1: MessageTable = {
  "batch.v1.Job": "1 metadata meta.v1.ObjectMeta, 2 spec batch.v1.JobSpec, 3 status batch.v1.JobStatus",
  "batch.v1.JobSpec": [
    "1 parallelism int32?",
    "2 completions int32?",
    "3 activeDeadlineSeconds int64?",
    "11 podFailurePolicy batch.v1.PodFailurePolicy?",
    "16 successPolicy batch.v1.SuccessPolicy?",
    "7 backoffLimit int32?",
    "12 backoffLimitPerIndex int32?",
    "13 maxFailedIndexes int32?",
    `4 selector ${SELECTOR}?`,
    "5 manualSelector bool?",
    `6 template ${TEMPLATE}`,
    "8 ttlSecondsAfterFinished int32?",
    "9 completionMode string?",
    "10 suspend bool?",
    "14 podReplacementPolicy string?",
    "15 managedBy string?",
  ].join(", "),
  "batch.v1.PodFailurePolicy": "1 rules batch.v1.PodFailurePolicyRule[]!",
  "batch.v1.PodFailurePolicyRule":
    "1 action string!, 2 onExitCodes batch.v1.PodFailurePolicyOnExitCodesRequirement?, 3 onPodConditions batch.v1.PodFailurePolicyOnPodConditionsPattern[]",
  "batch.v1.PodFailurePolicyOnExitCodesRequirement": "1 containerName string?, 2 operator string!, 3 values int32[]!",
  "batch.v1.PodFailurePolicyOnPodConditionsPattern": "1 type string!, 2 status string!",
  "batch.v1.SuccessPolicy": "1 rules batch.v1.SuccessPolicyRule[]!",
  "batch.v1.SuccessPolicyRule": "1 succeededIndexes string?, 2 succeededCount int32?",
  "batch.v1.JobStatus": [
    "1 conditions batch.v1.JobCondition[]",
    "2 startTime meta.v1.Time?",
    "3 completionTime meta.v1.Time?",
    "4 active int32",
    "5 succeeded int32",
    "6 failed int32",
    "11 terminating int32?",
    "7 completedIndexes string",
    "10 failedIndexes string?",
    "8 uncountedTerminatedPods batch.v1.UncountedTerminatedPods?",
    "9 ready int32?",
  ].join(", "),
  "batch.v1.UncountedTerminatedPods": "1 succeeded string[], 2 failed string[]",
  "batch.v1.JobCondition":
    "1 type string!, 2 status string!, 3 lastProbeTime meta.v1.Time, 4 lastTransitionTime meta.v1.Time, 5 reason string, 6 message string",
  "batch.v1.JobTemplateSpec": "1 metadata meta.v1.ObjectMeta, 2 spec batch.v1.JobSpec",
  "batch.v1.CronJob": "1 metadata meta.v1.ObjectMeta, 2 spec batch.v1.CronJobSpec, 3 status batch.v1.CronJobStatus",
  "batch.v1.CronJobSpec": [
    "1 schedule string!",
    "8 timeZone string?",
    "2 startingDeadlineSeconds int64?",
    "3 concurrencyPolicy string",
    "4 suspend bool?",
    "5 jobTemplate batch.v1.JobTemplateSpec",
    "6 successfulJobsHistoryLimit int32?",
    "7 failedJobsHistoryLimit int32?",
  ].join(", "),
  "batch.v1.CronJobStatus":
    "1 active core.v1.ObjectReference[], 4 lastScheduleTime meta.v1.Time?, 5 lastSuccessfulTime meta.v1.Time?",
};
