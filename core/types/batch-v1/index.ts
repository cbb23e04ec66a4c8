/**
 * @module The batch/v1 kinds: Job (generated selector, status subresource)
 * and CronJob, with upstream's defaults, validation, table columns, short
 * names and categories.
 */
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit, TableColumn } from "../../api/registry.ts";
import { humanDuration, parseTime, timeSince } from "../duration.ts";
import { canonicalizeQuantitiesOrThrow } from "../normalize.ts";
import { arrAt, asNum, asObj, getPath, numAt, objsAt, strAt, type JsonObject } from "../object-access.ts";
import { ageColumn, column, containerCells, formatLabelSelector, nameColumn } from "../table.ts";
import { copyTemplateLabels, defaultCronJob, defaultJob, generateSelector } from "./defaults.ts";
import { CRON_JOB_SCHEMA, JOB_SCHEMA } from "./schemas.ts";
import { validateCronJob, validateJob } from "./validation.ts";

const SELECTOR_DESC =
  "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";

function hasCondition(o: KubeObject, type: string): boolean {
  const c = objsAt(o, "status", "conditions").find((x) => x.type === type);
  return c?.status === "True";
}

function jobStatus(o: KubeObject): string {
  if (hasCondition(o, "Complete")) return "Complete";
  if (hasCondition(o, "Failed")) return "Failed";
  if (o.metadata.deletionTimestamp) return "Terminating";
  if (hasCondition(o, "Suspended")) return "Suspended";
  if (hasCondition(o, "FailureTarget")) return "FailureTarget";
  return "Running";
}

function jobCompletions(o: KubeObject): string {
  const succeeded = numAt(o, "status", "succeeded");
  const completions = asNum(getPath(o, "spec", "completions"));
  if (completions !== undefined) return `${succeeded}/${completions}`;
  const parallelism = asNum(getPath(o, "spec", "parallelism")) ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(o: KubeObject, now: number): string {
  const start = parseTime(getPath(o, "status", "startTime"));
  if (start === undefined) return "";
  const end = parseTime(getPath(o, "status", "completionTime"));
  return humanDuration((end ?? now) - start);
}

function containerColumns(containers: (o: KubeObject) => JsonObject[], selector: (o: KubeObject) => unknown): TableColumn[] {
  return [
    column("Containers", "string", "Names of each container in the template.", (o) => containerCells(containers(o)).names, 1),
    column("Images", "string", "Images referenced by each container in the template.", (o) => containerCells(containers(o)).images, 1),
    column("Selector", "string", SELECTOR_DESC, (o) => formatLabelSelector(selector(o)), 1),
  ];
}

function jobColumns(): TableColumn[] {
  return [
    nameColumn(),
    column("Status", "string", "Status of the job.", jobStatus),
    column(
      "Completions",
      "string",
      "The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.",
      jobCompletions,
    ),
    column("Duration", "string", "Time required to complete the job.", jobDuration),
    ageColumn(),
    ...containerColumns(
      (o) => objsAt(o, "spec", "template", "spec", "containers"),
      (o) => getPath(o, "spec", "selector"),
    ),
  ];
}

function cronJobColumns(): TableColumn[] {
  return [
    nameColumn(),
    column("Schedule", "string", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.", (o) => strAt(o, "spec", "schedule")),
    column(
      "Timezone",
      "string",
      "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones",
      (o) => {
        const tz = getPath(o, "spec", "timeZone");
        return typeof tz === "string" ? tz : "<none>";
      },
    ),
    column(
      "Suspend",
      "boolean",
      "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.",
      (o) => {
        const s = getPath(o, "spec", "suspend");
        return typeof s === "boolean" ? (s ? "True" : "False") : "<unset>";
      },
    ),
    column("Active", "integer", "A list of pointers to currently running jobs.", (o) => arrAt(o, "status", "active").length),
    column("Last Schedule", "string", "Information when was the last time the job was successfully scheduled.", (o, now) => {
      const t = getPath(o, "status", "lastScheduleTime");
      return typeof t === "string" && t !== "" ? timeSince(t, now) : "<none>";
    }),
    ageColumn(),
    ...containerColumns(
      (o) => objsAt(o, "spec", "jobTemplate", "spec", "template", "spec", "containers"),
      (o) => getPath(o, "spec", "jobTemplate", "spec", "selector"),
    ),
  ];
}

/**
 * The uid put in a new Job's `controller-uid` labels and selector: the
 * object's `metadata.uid` when the server filled it before the strategy ran
 * (upstream's FillObjectMetaSystemFields), else a fresh random uuid. The
 * store assigns `metadata.uid` later, so today the two differ (README).
 */
function controllerUid(o: KubeObject): string {
  const uid = o.metadata.uid;
  return typeof uid === "string" && uid !== "" ? uid : crypto.randomUUID();
}

export const jobType: ResourceTypeInit = {
  group: "batch",
  version: "v1",
  kind: "Job",
  plural: "jobs",
  singular: "job",
  namespaced: true,
  categories: ["all"],
  schema: JOB_SCHEMA,
  columns: jobColumns(),
  subresources: { status: true },
  selectableFields: { "status.successful": (o) => String(numAt(o, "status", "succeeded")) },
  strategy: {
    defaults(o) {
      canonicalizeQuantitiesOrThrow(JOB_SCHEMA, o, "Job", "v1");
      defaultJob(o as JsonObject);
    },
    validate: validateJob,
    prepareForCreate(o) {
      o.status = {};
      const job = o as JsonObject;
      // Decoding defaults run before the strategy upstream: the label copy sees the user's template labels.
      copyTemplateLabels(job);
      if (asObj(o.spec)?.manualSelector !== true) generateSelector(job, controllerUid(o));
    },
  },
};

export const cronJobType: ResourceTypeInit = {
  group: "batch",
  version: "v1",
  kind: "CronJob",
  plural: "cronjobs",
  singular: "cronjob",
  shortNames: ["cj"],
  namespaced: true,
  categories: ["all"],
  schema: CRON_JOB_SCHEMA,
  columns: cronJobColumns(),
  subresources: { status: true },
  strategy: {
    defaults(o) {
      canonicalizeQuantitiesOrThrow(CRON_JOB_SCHEMA, o, "CronJob", "v1");
      defaultCronJob(o as JsonObject);
    },
    validate: validateCronJob,
    prepareForCreate(o) {
      o.status = {};
    },
  },
};

/** Every batch/v1 kind, in discovery order. */
export function batchV1Types(): ResourceTypeInit[] {
  return [cronJobType, jobType];
}

export { CRON_JOB_SCHEMA, JOB_SCHEMA, JOB_SPEC } from "./schemas.ts";
export { cronParseError } from "./cron.ts";
