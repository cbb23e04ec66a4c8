/**
 * @module batch/v1 defaulting (kubernetes `pkg/apis/batch/v1/defaults.go`)
 * and the Job strategy's selector generation (`pkg/registry/batch/job/strategy.go`).
 * Defaults are idempotent.
 */
import { defaultPodTemplate } from "../core-v1/pod-defaults.ts";
import { asObj, ensureObj, isNil, objsAt, setDefault, type JsonObject } from "../object-access.ts";

export const LEGACY_JOB_NAME_LABEL = "job-name";
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
export const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";
export const CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";

const MAX_INT32 = 2147483647;

/** `labels := spec.template.labels; if labels != nil && len(job.labels) == 0 { job.labels = labels }`. */
export function copyTemplateLabels(job: JsonObject): void {
  const labels = asObj(asObj(asObj(asObj(job.spec)?.template)?.metadata)?.labels);
  if (!labels) return;
  const meta = ensureObj(job, "metadata");
  if (Object.keys(asObj(meta.labels) ?? {}).length === 0) meta.labels = { ...labels };
}

/** SetDefaults_Job, then the pod template defaults. */
export function defaultJob(job: JsonObject): void {
  const spec = ensureObj(job, "spec");
  if (isNil(spec.completions) && isNil(spec.parallelism)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  if (isNil(spec.parallelism)) spec.parallelism = 1;
  if (isNil(spec.backoffLimit)) spec.backoffLimit = isNil(spec.backoffLimitPerIndex) ? 6 : MAX_INT32;
  copyTemplateLabels(job);
  if (isNil(spec.completionMode)) spec.completionMode = "NonIndexed";
  if (isNil(spec.suspend)) spec.suspend = false;
  const pfp = asObj(spec.podFailurePolicy);
  for (const rule of objsAt(pfp, "rules")) for (const pattern of objsAt(rule, "onPodConditions")) setDefault(pattern, "status", "True");
  if (isNil(spec.podReplacementPolicy)) spec.podReplacementPolicy = pfp ? "Failed" : "TerminatingOrFailed";
  if (isNil(spec.manualSelector)) spec.manualSelector = false;
  defaultPodTemplate(ensureObj(spec, "template"));
}

/** SetDefaults_CronJob; the job template gets only pod template defaults (SetDefaults_Job is not applied to it). */
export function defaultCronJob(cj: JsonObject): void {
  const spec = ensureObj(cj, "spec");
  setDefault(spec, "concurrencyPolicy", "Allow");
  if (isNil(spec.suspend)) spec.suspend = false;
  if (isNil(spec.successfulJobsHistoryLimit)) spec.successfulJobsHistoryLimit = 3;
  if (isNil(spec.failedJobsHistoryLimit)) spec.failedJobsHistoryLimit = 1;
  const jobTemplate = ensureObj(spec, "jobTemplate");
  const meta = ensureObj(jobTemplate, "metadata");
  if (meta.creationTimestamp === undefined) meta.creationTimestamp = null;
  defaultPodTemplate(ensureObj(ensureObj(jobTemplate, "spec"), "template"));
}

/**
 * generateSelector: `job-name` labels and `controller-uid` labels on the pod
 * template (user-set ones are kept; conflicts fail validation), and
 * `batch.kubernetes.io/controller-uid` in `spec.selector.matchLabels`.
 * `uid` stands in for the Job's metadata.uid (see README: the store assigns
 * the real uid after the strategy runs).
 */
export function generateSelector(job: JsonObject, uid: string): void {
  const spec = ensureObj(job, "spec");
  const templateMeta = ensureObj(ensureObj(spec, "template"), "metadata");
  const labels = ensureObj(templateMeta, "labels");
  const name = String(asObj(job.metadata)?.name ?? "");
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(k in labels)) labels[k] = name;
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(k in labels)) labels[k] = uid;
  const selector = ensureObj(spec, "selector");
  const matchLabels = ensureObj(selector, "matchLabels");
  if (!(CONTROLLER_UID_LABEL in matchLabels)) matchLabels[CONTROLLER_UID_LABEL] = uid;
}
