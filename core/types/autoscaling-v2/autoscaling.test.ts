/** @module Tests for HorizontalPodAutoscaler: v2 defaults, validation, TARGETS formatting, the v1 view and v1 ↔ v2 storage conversion round trips. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { admitCreate, describeCauses } from "../test-helpers.ts";
import { conversions, HPA_STORAGE_KEY } from "../conversions.ts";
import { hpaV1Type } from "../autoscaling-v1/index.ts";
import { BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION } from "../autoscaling-v1/hpa-conversion.ts";
import { hpaV2Type } from "./index.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");

function cells(type: ResourceTypeInit, o: unknown): unknown[] {
  return (type.columns ?? []).map((c) => c.cell(o as KubeObject, NOW));
}

function hpa(spec: Record<string, unknown> = {}) {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web", namespace: "default" },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, maxReplicas: 10, ...spec },
  };
}

const CPU80 = [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }];

describe("autoscaling/v2 defaults", () => {
  test("minReplicas 1, CPU 80% when no metrics, no behavior unless given; status desiredReplicas 0", () => {
    const { obj, causes } = admitCreate(hpaV2Type, hpa());
    expect(causes).toEqual([]);
    expect(obj.spec).toEqual({ maxReplicas: 10, metrics: CPU80, minReplicas: 1, scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" } });
    expect(obj.status).toEqual({ desiredReplicas: 0 });
  });

  test("a given behavior is completed with the default rules", () => {
    const { obj } = admitCreate(hpaV2Type, hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 300 } } }));
    expect((obj.spec as Record<string, unknown>).behavior).toEqual({
      scaleDown: { stabilizationWindowSeconds: 300, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [
          { type: "Pods", value: 4, periodSeconds: 15 },
          { type: "Percent", value: 100, periodSeconds: 15 },
        ],
      },
    });
    const again = structuredClone(obj);
    hpaV2Type.strategy?.defaults?.(again);
    expect(again).toEqual(obj);
  });

  test("quantities are canonical", () => {
    const { obj } = admitCreate(hpaV2Type, hpa({ metrics: [{ type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "1024Mi" } } }] }));
    expect((obj.spec as { metrics: { resource: { target: unknown } }[] }).metrics[0]?.resource.target).toEqual({ type: "AverageValue", averageValue: "1Gi" });
  });
});

describe("autoscaling/v2 validation", () => {
  test("replica bounds", () => {
    expect(describeCauses(admitCreate(hpaV2Type, hpa({ minReplicas: 5, maxReplicas: 2 })).causes)).toEqual([
      "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`",
    ]);
    expect(describeCauses(admitCreate(hpaV2Type, hpa({ minReplicas: 0, maxReplicas: 0 })).causes)).toEqual([
      "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
      "spec.maxReplicas: Invalid value: 0: must be greater than 0",
    ]);
  });

  test("scaleTargetRef required fields stop further checks", () => {
    expect(describeCauses(admitCreate(hpaV2Type, hpa({ scaleTargetRef: { kind: "Deployment" }, metrics: [{ type: "Nope" }] })).causes)).toEqual([
      "spec.scaleTargetRef.name: Required value",
    ]);
  });

  test("metric sources", () => {
    const { causes } = admitCreate(
      hpaV2Type,
      hpa({
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization" } } },
          { type: "Pods", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
          { type: "External", external: { metric: { name: "queue" }, target: { type: "Value", value: "-1" } } },
        ],
      }),
    );
    expect(describeCauses(causes)).toEqual([
      "spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization",
      "spec.metrics[1].pods: Required value: must populate information for the given metric source",
      'spec.metrics[2].external.target.value: Invalid value: "-1": must be positive',
    ]);
  });

  test("behavior policies", () => {
    const { causes } = admitCreate(hpaV2Type, hpa({ behavior: { scaleUp: { selectPolicy: "Most", policies: [{ type: "Pods", value: 0, periodSeconds: 3600 }] } } }));
    expect(describeCauses(causes)).toEqual([
      'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Most": supported values: "Disabled", "Max", "Min"',
      "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero",
      "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 3600: must be less than or equal to 1800",
    ]);
  });
});

describe("HPA table", () => {
  test("NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE", () => {
    const o = admitCreate(hpaV2Type, hpa()).obj;
    o.metadata.creationTimestamp = "2024-06-01T11:00:00Z";
    expect(cells(hpaV2Type, o)).toEqual(["web", "Deployment/web", "cpu: <unknown>/80%", "1", 10, 0, "60m"]);
    o.status = { currentReplicas: 3, desiredReplicas: 3, currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 42 } } }] };
    expect(cells(hpaV2Type, o)[2]).toBe("cpu: 42%/80%");
    expect(hpaV2Type.columns?.map((c) => c.name)).toEqual(["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"]);
  });

  test("more than two metrics, pods and external averages", () => {
    const o = hpa({
      metrics: [
        { type: "Pods", pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "10" } } },
        { type: "External", external: { metric: { name: "q" }, target: { type: "AverageValue", averageValue: "30" } } },
        ...CPU80,
      ],
    });
    expect(cells(hpaV2Type, o)[2]).toBe("<unknown>/10, <unknown>/30 (avg) + 1 more...");
    expect(cells(hpaV2Type, hpa({ minReplicas: undefined, metrics: [] }))[2]).toBe("<none>");
  });
});

describe("autoscaling/v1 view", () => {
  function v1(spec: Record<string, unknown> = {}) {
    return { ...hpa(spec), apiVersion: "autoscaling/v1", spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, maxReplicas: 10, ...spec } };
  }

  test("defaults minReplicas, validates through v2 (upstream paths), prints like v2", () => {
    const { obj, causes } = admitCreate(hpaV1Type, v1({ targetCPUUtilizationPercentage: 0 }));
    expect((obj.spec as Record<string, unknown>).minReplicas).toBe(1);
    expect(obj.status).toEqual({ currentReplicas: 0, desiredReplicas: 0 });
    expect(describeCauses(causes)).toEqual(["spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0"]);
    const ok = admitCreate(hpaV1Type, v1({ targetCPUUtilizationPercentage: 50 })).obj;
    expect(cells(hpaV1Type, ok).slice(0, 6)).toEqual(["web", "Deployment/web", "cpu: <unknown>/50%", "1", 10, 0]);
  });
});

describe("v1 ↔ v2 storage conversion", () => {
  const conv = conversions[HPA_STORAGE_KEY];
  if (!conv) throw new Error("no HPA conversion");

  test("table entry", () => {
    expect(conv.storageVersion).toBe("autoscaling/v2");
    expect(conv.servedVersions).toEqual(["autoscaling/v2", "autoscaling/v1"]);
    expect(() => conv.fromStorage(hpa() as KubeObject, "autoscaling/v9")).toThrow("no conversion for apiVersion autoscaling/v9");
  });

  test("v1 → storage → v1 round trip, and what storage holds", () => {
    const written = admitCreate(hpaV1Type, { ...hpa(), apiVersion: "autoscaling/v1", spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, maxReplicas: 4, targetCPUUtilizationPercentage: 60 } }).obj;
    written.status = { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 70, lastScaleTime: "2024-06-01T11:00:00Z" };
    const stored = conv.toStorage(written);
    expect(stored.apiVersion).toBe("autoscaling/v2");
    expect(stored.spec).toEqual({
      scaleTargetRef: { kind: "Deployment", name: "web" },
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } }],
    });
    expect(stored.status).toEqual({
      lastScaleTime: "2024-06-01T11:00:00Z",
      currentReplicas: 2,
      desiredReplicas: 3,
      currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 70 } } }],
    });
    const back = conv.fromStorage(stored, "autoscaling/v1");
    expect(back).toEqual({ ...written, metadata: { ...written.metadata, annotations: { [METRIC_STATUSES_ANNOTATION]: JSON.stringify((stored.status as { currentMetrics: unknown }).currentMetrics) } } });
    // the current-metrics annotation is the only addition, and it round-trips back to the same storage object
    expect(conv.toStorage(back)).toEqual(stored);
    expect(written.apiVersion).toBe("autoscaling/v1");
  });

  test("a v1 object without a target reads back with the default 80%", () => {
    const stored = conv.toStorage({ apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", metadata: { name: "x" }, spec: { scaleTargetRef: { kind: "Deployment", name: "x" }, maxReplicas: 2 } });
    expect((stored.spec as { metrics: unknown }).metrics).toEqual(CPU80);
    expect((conv.fromStorage(stored, "autoscaling/v1").spec as Record<string, unknown>).targetCPUUtilizationPercentage).toBe(80);
  });

  test("v2 → storage → v2 is identity; v2 → v1 → v2 keeps other metrics, behavior and conditions in annotations", () => {
    const full = admitCreate(
      hpaV2Type,
      hpa({
        metrics: [
          { type: "Pods", pods: { metric: { name: "rps" }, target: { type: "AverageValue", averageValue: "10" } } },
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 120 } },
      }),
    ).obj;
    full.metadata.annotations = { team: "web" };
    full.status = {
      currentReplicas: 2,
      desiredReplicas: 2,
      currentMetrics: [{ type: "Pods", pods: { metric: { name: "rps" }, current: { averageValue: "7" } } }],
      conditions: [{ type: "AbleToScale", status: "True", reason: "ReadyForNewScale", lastTransitionTime: "2024-06-01T11:00:00Z" }],
    };
    expect(conv.fromStorage(conv.toStorage(full), "autoscaling/v2")).toEqual(full);
    const asV1 = conv.fromStorage(full, "autoscaling/v1");
    expect(asV1.spec).toEqual({ scaleTargetRef: full.spec && (full.spec as Record<string, unknown>).scaleTargetRef, minReplicas: 1, maxReplicas: 10, targetCPUUtilizationPercentage: 50 });
    expect(Object.keys(asV1.metadata.annotations ?? {}).sort()).toEqual(
      [BEHAVIOR_ANNOTATION, CONDITIONS_ANNOTATION, METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, "team"].sort(),
    );
    expect(JSON.parse(asV1.metadata.annotations?.[METRIC_SPECS_ANNOTATION] ?? "")).toEqual([(full.spec as { metrics: unknown[] }).metrics[0]]);
    expect(conv.toStorage(asV1)).toEqual(full);
    expect(full.apiVersion).toBe("autoscaling/v2");
  });
});
