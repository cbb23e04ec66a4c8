/** @module Tests for batch/v1: Job/CronJob defaults as a 1.32 server stores them, selector generation, validation messages, cron syntax, table rows. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { admitCreate, admitUpdate, describeCauses } from "../test-helpers.ts";
import { cronParseError } from "./cron.ts";
import { cronJobType, jobType } from "./index.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");

function cells(type: ResourceTypeInit, o: unknown): unknown[] {
  return (type.columns ?? []).map((c) => c.cell(o as KubeObject, NOW));
}

function job(spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "default", ...meta },
    spec: {
      template: { spec: { containers: [{ name: "pi", image: "perl:5.34" }], restartPolicy: "Never" } },
      ...spec,
    },
  };
}

const TEMPLATE_SPEC = {
  containers: [
    {
      image: "perl:5.34",
      imagePullPolicy: "IfNotPresent",
      name: "pi",
      resources: {},
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
    },
  ],
  dnsPolicy: "ClusterFirst",
  restartPolicy: "Never",
  schedulerName: "default-scheduler",
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

describe("Job defaults and generated selector", () => {
  test("kubectl create job: spec, labels and status as a 1.32 server stores them", () => {
    const { obj, causes } = admitCreate(jobType, job());
    expect(causes).toEqual([]);
    const spec = obj.spec as Record<string, unknown>;
    const uid = String((spec.selector as { matchLabels: Record<string, string> }).matchLabels["batch.kubernetes.io/controller-uid"]);
    expect(uid).toMatch(/^[0-9a-f-]{36}$/);
    const labels = {
      "batch.kubernetes.io/controller-uid": uid,
      "batch.kubernetes.io/job-name": "pi",
      "controller-uid": uid,
      "job-name": "pi",
    };
    expect(spec).toEqual({
      backoffLimit: 6,
      completionMode: "NonIndexed",
      completions: 1,
      manualSelector: false,
      parallelism: 1,
      podReplacementPolicy: "TerminatingOrFailed",
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": uid } },
      suspend: false,
      template: { metadata: { creationTimestamp: null, labels }, spec: TEMPLATE_SPEC },
    });
    expect(obj.metadata.labels).toEqual(labels);
    expect(obj.status).toEqual({});
  });

  test("a server-assigned metadata.uid is used for the controller-uid labels", () => {
    const { obj } = admitCreate(jobType, job({}, { uid: "0f6c2d4e-1111-2222-3333-444455556666" }));
    expect((obj.spec as { selector: unknown }).selector).toEqual({ matchLabels: { "batch.kubernetes.io/controller-uid": "0f6c2d4e-1111-2222-3333-444455556666" } });
  });

  test("user template labels are copied to the job before the generated ones are added", () => {
    const body = job();
    (body.spec.template as Record<string, unknown>).metadata = { labels: { app: "pi" } };
    const { obj, causes } = admitCreate(jobType, body);
    expect(causes).toEqual([]);
    expect(obj.metadata.labels).toEqual({ app: "pi" });
  });

  test("parallelism alone leaves completions unset; podFailurePolicy switches the replacement policy", () => {
    const body = job({
      parallelism: 3,
      podFailurePolicy: { rules: [{ action: "FailJob", onPodConditions: [{ type: "DisruptionTarget" }] }] },
    });
    const { obj, causes } = admitCreate(jobType, body);
    expect(causes).toEqual([]);
    const spec = obj.spec as Record<string, unknown>;
    expect(spec.completions).toBeUndefined();
    expect(spec.podReplacementPolicy).toBe("Failed");
    expect(spec.podFailurePolicy).toEqual({ rules: [{ action: "FailJob", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] }] });
  });

  test("backoffLimitPerIndex makes backoffLimit MaxInt32; defaulting is idempotent", () => {
    const { obj } = admitCreate(jobType, job({ completionMode: "Indexed", completions: 3, backoffLimitPerIndex: 1 }));
    expect((obj.spec as Record<string, unknown>).backoffLimit).toBe(2147483647);
    const again = structuredClone(obj);
    jobType.strategy?.defaults?.(again);
    expect(again).toEqual(obj);
  });

  test("manualSelector: true generates nothing and requires a selector", () => {
    const { obj, causes } = admitCreate(jobType, job({ manualSelector: true }));
    expect((obj.spec as Record<string, unknown>).selector).toBeUndefined();
    expect(describeCauses(causes)).toEqual([
      "spec.selector: Required value",
      "spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`",
    ]);
  });
});

describe("Job validation", () => {
  test("default restartPolicy Always is rejected with upstream's message", () => {
    const body = job();
    delete (body.spec.template.spec as Record<string, unknown>).restartPolicy;
    expect(describeCauses(admitCreate(jobType, body).causes)).toEqual([
      'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
  });

  test("negative counts, bad completion mode and replacement policy", () => {
    const { causes } = admitCreate(jobType, job({ parallelism: -1, backoffLimit: -2, completionMode: "Weird", podReplacementPolicy: "Sometimes" }));
    expect(describeCauses(causes)).toEqual([
      "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
      "spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0",
      'spec.completionMode: Unsupported value: "Weird": supported values: "NonIndexed", "Indexed"',
      'spec.podReplacementPolicy: Unsupported value: "Sometimes": supported values: "Failed", "TerminatingOrFailed"',
    ]);
  });

  test("Indexed requires completions", () => {
    const { causes } = admitCreate(jobType, job({ completionMode: "Indexed", parallelism: 2 }));
    expect(describeCauses(causes)).toEqual(["spec.completions: Required value: when completion mode is Indexed"]);
  });

  test("a conflicting user controller-uid label fails", () => {
    const body = job();
    (body.spec.template as Record<string, unknown>).metadata = { labels: { "controller-uid": "mine" } };
    const { causes } = admitCreate(jobType, body);
    expect(describeCauses(causes)[0]).toMatch(/^spec\.template\.metadata\.labels\[controller-uid\]: Invalid value: "mine": must be '[0-9a-f-]{36}'$/);
  });

  test("template and completions are immutable; suspended jobs may change scheduling directives", () => {
    const old = admitCreate(jobType, job()).obj;
    const next = structuredClone(old);
    const spec = next.spec as { completions: number; template: { spec: { containers: { image: string }[]; nodeSelector?: unknown } } };
    spec.completions = 2;
    (spec.template.spec.containers[0] as { image: string }).image = "perl:5.36";
    const causes = admitUpdate(jobType, next, old).causes;
    expect(causes.map((c) => c.field)).toEqual(["spec.completions", "spec.template"]);
    expect(causes[0]?.message).toBe("Invalid value: 2: field is immutable");

    const suspendedOld = admitCreate(jobType, job({ suspend: true })).obj;
    const moved = structuredClone(suspendedOld);
    (moved.spec as typeof spec).template.spec.nodeSelector = { zone: "a" };
    expect(admitUpdate(jobType, moved, suspendedOld).causes).toEqual([]);
  });
});

describe("Job table", () => {
  test("STATUS COMPLETIONS DURATION AGE + wide", () => {
    const o = admitCreate(jobType, job()).obj;
    o.metadata.creationTimestamp = "2024-06-01T11:00:00Z";
    o.status = { startTime: "2024-06-01T11:00:00Z", completionTime: "2024-06-01T11:00:09Z", succeeded: 1, conditions: [{ type: "Complete", status: "True" }] };
    const row = cells(jobType, o);
    expect(row.slice(0, 7)).toEqual(["pi", "Complete", "1/1", "9s", "60m", "pi", "perl:5.34"]);
    expect(row[7]).toMatch(/^batch\.kubernetes\.io\/controller-uid=[0-9a-f-]{36}$/);
    expect(jobType.columns?.map((c) => [c.name, c.priority])).toEqual([
      ["Name", 0],
      ["Status", 0],
      ["Completions", 0],
      ["Duration", 0],
      ["Age", 0],
      ["Containers", 1],
      ["Images", 1],
      ["Selector", 1],
    ]);
  });

  test("running job with parallelism and no completions", () => {
    const o = admitCreate(jobType, job({ parallelism: 3 })).obj;
    o.status = { startTime: "2024-06-01T11:58:00Z" };
    expect(cells(jobType, o).slice(1, 4)).toEqual(["Running", "0/1 of 3", "2m"]);
    o.metadata.deletionTimestamp = "2024-06-01T12:00:00Z";
    expect(cells(jobType, o)[1]).toBe("Terminating");
  });
});

function cronJob(spec: Record<string, unknown> = {}, name = "hello") {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name, namespace: "default" },
    spec: {
      schedule: "*/1 * * * *",
      jobTemplate: { spec: { template: { spec: { containers: [{ name: "hello", image: "busybox:1.36" }], restartPolicy: "OnFailure" } } } },
      ...spec,
    },
  };
}

describe("CronJob", () => {
  test("defaults as a 1.32 server stores them (job template gets pod defaults only)", () => {
    const { obj, causes } = admitCreate(cronJobType, cronJob());
    expect(causes).toEqual([]);
    const spec = obj.spec as Record<string, unknown>;
    const { jobTemplate, ...rest } = spec;
    expect(rest).toEqual({
      concurrencyPolicy: "Allow",
      failedJobsHistoryLimit: 1,
      schedule: "*/1 * * * *",
      successfulJobsHistoryLimit: 3,
      suspend: false,
    });
    const jt = jobTemplate as { metadata: unknown; spec: Record<string, unknown> };
    expect(jt.metadata).toEqual({ creationTimestamp: null });
    expect(Object.keys(jt.spec)).toEqual(["template"]);
    expect(obj.status).toEqual({});
  });

  test("schedule, policy, selector and name length errors", () => {
    const body = cronJob({ schedule: "61 * * *", concurrencyPolicy: "Sometimes", timeZone: "Mars/Olympus" }, "x".repeat(53));
    (body.spec.jobTemplate.spec as Record<string, unknown>).selector = { matchLabels: { a: "b" } };
    expect(describeCauses(admitCreate(cronJobType, body).causes)).toEqual([
      'spec.schedule: Invalid value: "61 * * *": expected exactly 5 fields, found 4: [61 * * *]',
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
      'spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated',
      `metadata.name: Invalid value: "${"x".repeat(53)}": must be no more than 52 characters`,
    ]);
  });

  test("TZ in schedule and restartPolicy in the job template", () => {
    const body = cronJob({ schedule: "TZ=UTC 0 * * * *" });
    delete (body.spec.jobTemplate.spec.template.spec as Record<string, unknown>).restartPolicy;
    expect(describeCauses(admitCreate(cronJobType, body).causes)).toEqual([
      'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
      'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
  });

  test("columns NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE", () => {
    const o = admitCreate(cronJobType, cronJob({ timeZone: "Europe/Berlin" })).obj;
    o.metadata.creationTimestamp = "2024-06-01T10:00:00Z";
    o.status = { active: [{ name: "hello-1" }], lastScheduleTime: "2024-06-01T11:59:00Z" };
    expect(cells(cronJobType, o)).toEqual(["hello", "*/1 * * * *", "Europe/Berlin", "False", 1, "60s", "120m", "hello", "busybox:1.36", "<none>"]);
    expect(cronJobType.columns?.slice(0, 7).map((c) => c.name)).toEqual(["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age"]);
    const fresh = admitCreate(cronJobType, cronJob()).obj;
    expect(cells(cronJobType, fresh).slice(2, 6)).toEqual(["<none>", "False", 0, "<none>"]);
  });
});

describe("cron syntax (robfig/cron ParseStandard)", () => {
  const cases: [string, string | undefined][] = [
    ["*/5 * * * *", undefined],
    ["0 0 * * MON-FRI", undefined],
    ["0 0 1 jan,jul ?", undefined],
    ["@hourly", undefined],
    ["@every 1h30m", undefined],
    ["CRON_TZ=Europe/Paris 0 6 * * *", undefined],
    ["", "empty spec string"],
    ["@often", "unrecognized descriptor: @often"],
    ["60 * * * *", "end of range (60) above maximum (59): 60"],
    ["* * 0 * *", "beginning of range (0) below minimum (1): 0"],
    ["5-2 * * * *", "beginning of range (5) beyond end of range (2): 5-2"],
    ["*/0 * * * *", "step of range should be a positive number: */0"],
    ["a * * * *", 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'],
    ["1-2-3 * * * *", "too many hyphens: 1-2-3"],
  ];
  for (const [spec, err] of cases) test(JSON.stringify(spec), () => expect(cronParseError(spec)).toBe(err));
});
