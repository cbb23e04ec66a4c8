/**
 * @module batch/v1 validation (kubernetes `pkg/apis/batch/validation`): the
 * commonly hit Job and CronJob checks with upstream's messages — counts,
 * restart policy, completion mode, pod replacement policy, selector vs
 * template labels, the generated selector, schedule syntax, time zones,
 * immutable fields on update.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import { goQuote, isDNS1123Label } from "../../api/validation.ts";
import {
  child,
  fieldInvalid,
  fieldInvalidRendered,
  fieldNotSupported,
  fieldRequired,
  goStringMap,
  key,
  nonNegative,
} from "../field-errors.ts";
import { asNum, asObj, asStr, getPath, isNil, jsonEqual, type JsonObject } from "../object-access.ts";
import { compileSelector, goLabelSelector, selectorMatches } from "../selector-match.ts";
import { validateLabelSelector } from "../core-v1/common-validation.ts";
import { validatePodTemplate } from "../core-v1/pod-validation.ts";
import { cronParseError, isKnownTimeZone } from "./cron.ts";
import { CONTROLLER_UID_LABEL, LEGACY_CONTROLLER_UID_LABEL } from "./defaults.ts";

const MAX_PARALLELISM_INDEXED = 100000;
const COMPLETION_MODES = ["NonIndexed", "Indexed"];
const REPLACEMENT_POLICIES = ["Failed", "TerminatingOrFailed"];

function nonNegatives(spec: JsonObject, path: string, fields: string[]): StatusCause[] {
  return fields.flatMap((f) => nonNegative(child(path, f), spec[f]));
}

/** validateJobSpec: the rules shared by Jobs and CronJob job templates. */
function validateJobSpecCommon(spec: JsonObject, path: string): StatusCause[] {
  const causes = nonNegatives(spec, path, ["parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished", "backoffLimitPerIndex", "maxFailedIndexes"]);
  if (!isNil(spec.maxFailedIndexes) && isNil(spec.backoffLimitPerIndex)) {
    causes.push(fieldRequired(child(path, "backoffLimitPerIndex"), "when maxFailedIndexes is specified"));
  }
  const mode = spec.completionMode;
  if (!isNil(mode)) {
    if (!COMPLETION_MODES.includes(String(mode))) causes.push(fieldNotSupported(child(path, "completionMode"), mode, COMPLETION_MODES));
    if (mode === "Indexed") {
      if (isNil(spec.completions)) causes.push(fieldRequired(child(path, "completions"), "when completion mode is Indexed"));
      const par = asNum(spec.parallelism);
      if (par !== undefined && par > MAX_PARALLELISM_INDEXED) {
        causes.push(fieldInvalid(child(path, "parallelism"), par, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`));
      }
    }
  }
  if (isNil(mode) || mode === "NonIndexed") {
    for (const f of ["backoffLimitPerIndex", "maxFailedIndexes"]) {
      if (!isNil(spec[f])) causes.push(fieldInvalid(child(path, f), spec[f], "requires indexed completion mode"));
    }
  }
  const rp = spec.podReplacementPolicy;
  if (!isNil(rp)) {
    if (!isNil(spec.podFailurePolicy)) {
      if (rp !== "Failed") causes.push(fieldNotSupported(child(path, "podReplacementPolicy"), rp, ["Failed"]));
    } else if (!REPLACEMENT_POLICIES.includes(String(rp))) {
      causes.push(fieldNotSupported(child(path, "podReplacementPolicy"), rp, REPLACEMENT_POLICIES));
    }
  }
  const templatePath = child(path, "template");
  causes.push(...validatePodTemplate(spec.template, templatePath));
  const restart = asStr(getPath(spec.template, "spec", "restartPolicy")) ?? "";
  const restartPath = child(templatePath, "spec", "restartPolicy");
  if (restart === "Always" || restart === "") causes.push(fieldRequired(restartPath, 'valid values: "OnFailure", "Never"'));
  else if (restart !== "OnFailure" && restart !== "Never") causes.push(fieldNotSupported(restartPath, restart, ["OnFailure", "Never"]));
  else if (!isNil(spec.podFailurePolicy) && restart !== "Never") {
    causes.push(fieldInvalid(restartPath, restart, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return causes;
}

/** ValidateJobSpec: the common rules plus a required, matching selector. */
function validateJobSpec(spec: JsonObject): StatusCause[] {
  const causes = validateJobSpecCommon(spec, "spec");
  if (isNil(spec.selector)) causes.push(fieldRequired("spec.selector"));
  else causes.push(...validateLabelSelector(spec.selector, "spec.selector"));
  const compiled = compileSelector(spec.selector);
  const labels = getPath(spec.template, "metadata", "labels");
  if (compiled && !selectorMatches(compiled, labels)) {
    causes.push(fieldInvalidRendered("spec.template.metadata.labels", goStringMap(asObj(labels)), "`selector` does not match template `labels`"));
  }
  return causes;
}

/**
 * validateGeneratedSelector. Upstream compares the controller-uid labels with
 * metadata.uid; here the uid the strategy generated is the one in
 * `spec.selector.matchLabels` (see README), so the template labels must carry it.
 */
function validateGeneratedSelector(spec: JsonObject): StatusCause[] {
  if (spec.manualSelector === true) return [];
  const labelsPath = "spec.template.metadata.labels";
  const labels = asObj(getPath(spec.template, "metadata", "labels"));
  if (!labels) return [fieldRequired(labelsPath, "job generated selector requires labels")];
  const uid = asStr(getPath(spec.selector, "matchLabels", CONTROLLER_UID_LABEL));
  if (uid === undefined) {
    return [fieldInvalidRendered("spec.selector", goLabelSelector(spec.selector), "`selector` not auto-generated")];
  }
  const causes: StatusCause[] = [];
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) {
    if (labels[k] !== uid) causes.push(fieldInvalid(key(labelsPath, k), labels[k] ?? "", `must be '${uid}'`));
  }
  return causes;
}

/** Scheduling directives a suspended, never-started Job may change in its template. */
function schedulingView(template: unknown, mutable: boolean): unknown {
  const t = structuredClone(asObj(template) ?? {});
  if (!mutable) return t;
  const meta = asObj(t.metadata);
  if (meta) {
    delete meta.labels;
    delete meta.annotations;
  }
  const spec = asObj(t.spec);
  if (spec) for (const f of ["nodeSelector", "tolerations", "affinity", "schedulingGates"]) delete spec[f];
  return t;
}

function immutable(path: string, now: unknown, before: unknown): StatusCause[] {
  return jsonEqual(now ?? null, before ?? null) ? [] : [fieldInvalid(path, now ?? null, "field is immutable")];
}

function validateJobSpecUpdate(job: KubeObject, old: KubeObject): StatusCause[] {
  const spec = asObj(job.spec) ?? {};
  const oldSpec = asObj(old.spec) ?? {};
  const causes: StatusCause[] = [];
  if (spec.completionMode === "Indexed") {
    if (!jsonEqual(spec.completions, oldSpec.completions) && !isNil(spec.completions) && spec.completions !== spec.parallelism) {
      causes.push(fieldInvalid("spec.completions", spec.completions, "can only be modified in tandem with spec.parallelism"));
    }
  } else causes.push(...immutable("spec.completions", spec.completions, oldSpec.completions));
  if (!jsonEqual(spec.selector, oldSpec.selector)) {
    causes.push(fieldInvalidRendered("spec.selector", goLabelSelector(spec.selector), "field is immutable"));
  }
  const mutableScheduling = oldSpec.suspend === true && isNil(getPath(old, "status", "startTime"));
  if (!jsonEqual(schedulingView(spec.template, mutableScheduling), schedulingView(oldSpec.template, mutableScheduling))) {
    causes.push(fieldInvalid("spec.template", spec.template, "field is immutable"));
  }
  for (const f of ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy", "successPolicy"]) {
    causes.push(...immutable(child("spec", f), spec[f], oldSpec[f]));
  }
  return causes;
}

/** ValidateJob on create (generated selector, indexed pod hostnames), ValidateJobUpdate's spec rules on update. */
export function validateJob(job: KubeObject, old?: KubeObject): StatusCause[] {
  const spec = asObj(job.spec) ?? {};
  const causes = [...(old ? [] : validateGeneratedSelector(spec)), ...validateJobSpec(spec)];
  const completions = asNum(spec.completions);
  if (!old && spec.completionMode === "Indexed" && completions !== undefined && completions > 0) {
    const name = job.metadata.name ?? "";
    const hostname = `${name}-${completions - 1}`;
    if (isDNS1123Label(hostname).length > 0) {
      causes.push(fieldInvalid("metadata.name", name, `will not able to create pod with invalid DNS label: ${hostname}`));
    }
  }
  if (old) causes.push(...validateJobSpecUpdate(job, old));
  return causes;
}

const CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"];
const TZ_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

function validateTimeZone(tz: unknown, path: string): StatusCause[] {
  if (isNil(tz)) return [];
  const s = String(tz);
  if (s === "") return [fieldInvalid(path, s, "timeZone must be nil or non-empty string")];
  for (const part of s.split("/")) {
    if (part === "." || part === ".." || part.startsWith("-") || !TZ_PART.test(part)) return [fieldInvalid(path, s, `unknown time zone ${s}`)];
  }
  if (s.toLowerCase() === "local") {
    return [fieldInvalid(path, s, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")];
  }
  return isKnownTimeZone(s) ? [] : [fieldInvalid(path, s, `unknown time zone ${s}`)];
}

function validateSchedule(schedule: string, oldSchedule: string | undefined, timeZone: unknown): StatusCause[] {
  const path = "spec.schedule";
  const causes: StatusCause[] = [];
  const err = cronParseError(schedule);
  if (err !== undefined) causes.push(fieldInvalid(path, schedule, err));
  const allowTZ = oldSchedule?.includes("TZ") ?? false;
  if (allowTZ && schedule.includes("TZ") && !isNil(timeZone)) {
    causes.push(fieldInvalid(path, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
  } else if (!allowTZ && schedule.includes("TZ")) {
    causes.push(fieldInvalid(path, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
  }
  return causes;
}

/** ValidateCronJobCreate / ValidateCronJobUpdate (the job template is validated like a Job spec without a selector). */
export function validateCronJob(cj: KubeObject, old?: KubeObject): StatusCause[] {
  const spec = asObj(cj.spec) ?? {};
  const oldSpec = asObj(old?.spec);
  const causes: StatusCause[] = [];
  const schedule = asStr(spec.schedule) ?? "";
  if (schedule === "") causes.push(fieldRequired("spec.schedule"));
  else causes.push(...validateSchedule(schedule, oldSpec ? (asStr(oldSpec.schedule) ?? "") : undefined, spec.timeZone));
  causes.push(...nonNegative("spec.startingDeadlineSeconds", spec.startingDeadlineSeconds));
  if (!oldSpec || !jsonEqual(oldSpec.timeZone ?? null, spec.timeZone ?? null)) causes.push(...validateTimeZone(spec.timeZone, "spec.timeZone"));
  const policy = asStr(spec.concurrencyPolicy) ?? "";
  if (policy === "") causes.push(fieldRequired("spec.concurrencyPolicy"));
  else if (!CONCURRENCY_POLICIES.includes(policy)) causes.push(fieldNotSupported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES));
  const jobSpec = asObj(getPath(spec, "jobTemplate", "spec")) ?? {};
  causes.push(...validateJobSpecCommon(jobSpec, "spec.jobTemplate.spec"));
  if (!isNil(jobSpec.selector)) {
    causes.push(fieldInvalidRendered("spec.jobTemplate.spec.selector", goLabelSelector(jobSpec.selector), "`selector` will be auto-generated"));
  }
  if (jobSpec.manualSelector === true) {
    causes.push({ reason: "FieldValueNotSupported", field: "spec.jobTemplate.spec.manualSelector", message: `Unsupported value: true: supported values: ${goQuote("nil")}, ${goQuote("false")}` });
  }
  causes.push(...nonNegative("spec.successfulJobsHistoryLimit", spec.successfulJobsHistoryLimit));
  causes.push(...nonNegative("spec.failedJobsHistoryLimit", spec.failedJobsHistoryLimit));
  const name = cj.metadata.name ?? "";
  if (!old && name.length > 52) causes.push(fieldInvalid("metadata.name", name, "must be no more than 52 characters"));
  return causes;
}
