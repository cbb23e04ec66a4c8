/**
 * @module Schemas of batch/v1 Job and CronJob (k8s.io/api batch/v1
 * types.go, v1.32), with upstream's list annotations.
 */
import { LABEL_SELECTOR, OBJECT_META } from "../meta-schemas.ts";
import { arr, atomic, bool, int32, int64, kindSchema, obj, ref, set, str, time } from "../schema-dsl.ts";
import { OBJECT_REFERENCE } from "../core-v1/pod.ts";
import { POD_TEMPLATE_SPEC } from "../core-v1/pod-spec-schema.ts";

const BATCH = "io.k8s.api.batch.v1";

function gvk(kind: string) {
  return { group: "batch", version: "v1", kind };
}

const POD_FAILURE_POLICY_RULE = obj(
  `${BATCH}.PodFailurePolicyRule`,
  {
    action: str(),
    onExitCodes: obj(
      `${BATCH}.PodFailurePolicyOnExitCodesRequirement`,
      { containerName: str(), operator: str(), values: set(int32()) },
      { required: ["operator", "values"] },
    ),
    onPodConditions: atomic(
      obj(`${BATCH}.PodFailurePolicyOnPodConditionsPattern`, { status: str(), type: str() }, { required: ["type"] }),
    ),
  },
  { required: ["action"] },
);

const SUCCESS_POLICY_RULE = obj(`${BATCH}.SuccessPolicyRule`, { succeededCount: int32(), succeededIndexes: str() });

export const JOB_SPEC = obj(
  `${BATCH}.JobSpec`,
  {
    activeDeadlineSeconds: int64(),
    backoffLimit: int32(),
    backoffLimitPerIndex: int32(),
    completionMode: str(),
    completions: int32(),
    managedBy: str(),
    manualSelector: bool(),
    maxFailedIndexes: int32(),
    parallelism: int32(),
    podFailurePolicy: obj(`${BATCH}.PodFailurePolicy`, { rules: atomic(POD_FAILURE_POLICY_RULE) }, { required: ["rules"] }),
    podReplacementPolicy: str(),
    selector: ref(LABEL_SELECTOR),
    successPolicy: obj(`${BATCH}.SuccessPolicy`, { rules: atomic(SUCCESS_POLICY_RULE) }, { required: ["rules"] }),
    suspend: bool(),
    template: ref(POD_TEMPLATE_SPEC),
    ttlSecondsAfterFinished: int32(),
  },
  { required: ["template"] },
);

const JOB_CONDITION = obj(
  `${BATCH}.JobCondition`,
  { lastProbeTime: time(), lastTransitionTime: time(), message: str(), reason: str(), status: str(), type: str() },
  { required: ["type", "status"] },
);

const JOB_STATUS = obj(`${BATCH}.JobStatus`, {
  active: int32(),
  completedIndexes: str(),
  completionTime: time(),
  // `+patchMergeKey=type +patchStrategy=merge +listType=atomic`
  conditions: arr(JOB_CONDITION, { listType: "atomic", mergeKey: "type", strategy: "merge" }),
  failed: int32(),
  failedIndexes: str(),
  ready: int32(),
  startTime: time(),
  succeeded: int32(),
  terminating: int32(),
  uncountedTerminatedPods: obj(`${BATCH}.UncountedTerminatedPods`, { failed: set(str()), succeeded: set(str()) }),
});

export const JOB_SCHEMA = kindSchema(`${BATCH}.Job`, gvk("Job"), ref(OBJECT_META), {
  spec: ref(JOB_SPEC),
  status: ref(JOB_STATUS),
});

const JOB_TEMPLATE_SPEC = obj(`${BATCH}.JobTemplateSpec`, { metadata: ref(OBJECT_META), spec: ref(JOB_SPEC) });

const CRON_JOB_SPEC = obj(
  `${BATCH}.CronJobSpec`,
  {
    concurrencyPolicy: str(),
    failedJobsHistoryLimit: int32(),
    jobTemplate: ref(JOB_TEMPLATE_SPEC),
    schedule: str(),
    startingDeadlineSeconds: int64(),
    successfulJobsHistoryLimit: int32(),
    suspend: bool(),
    timeZone: str(),
  },
  { required: ["schedule", "jobTemplate"] },
);

const CRON_JOB_STATUS = obj(`${BATCH}.CronJobStatus`, {
  active: atomic(OBJECT_REFERENCE),
  lastScheduleTime: time(),
  lastSuccessfulTime: time(),
});

export const CRON_JOB_SCHEMA = kindSchema(`${BATCH}.CronJob`, gvk("CronJob"), ref(OBJECT_META), {
  spec: ref(CRON_JOB_SPEC),
  status: ref(CRON_JOB_STATUS),
});
