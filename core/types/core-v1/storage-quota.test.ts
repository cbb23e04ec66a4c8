/** @module Tests for the core/v1 ResourceQuota, LimitRange and PersistentVolume kinds: defaults, validation, columns. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { admitCreate, admitUpdate, describeCauses } from "../test-helpers.ts";
import { persistentVolumeType } from "./persistent-volume.ts";
import { limitRangeType, resourceQuotaType } from "./resource-quota.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const cells = (t: ResourceTypeInit, o: unknown) => (t.columns ?? []).map((c) => c.cell(o as KubeObject, NOW));
const meta = { name: "x", namespace: "default", creationTimestamp: "2024-06-01T11:00:00Z" };

describe("ResourceQuota", () => {
  test("canonical quantities, empty status, validation", () => {
    const { obj, causes } = admitCreate(resourceQuotaType, { metadata: meta, spec: { hard: { pods: 10, "requests.cpu": 0.5, "count/deployments.apps": "2" } } });
    expect(causes).toEqual([]);
    expect((obj.spec as { hard: unknown }).hard).toEqual({ pods: "10", "requests.cpu": "500m", "count/deployments.apps": "2" });
    expect(obj.status).toEqual({});
    expect(describeCauses(admitCreate(resourceQuotaType, { metadata: meta, spec: { hard: { gpus: "1", cpu: "-1" }, scopes: ["Sometimes"] } }).causes)).toEqual([
      'spec.hard[gpus]: Invalid value: "gpus": must be a standard resource for quota',
      'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0',
      'spec.scopes[0]: Invalid value: "Sometimes": unsupported scope',
    ]);
  });

  test("NAME AGE REQUEST LIMIT", () => {
    const o = { metadata: meta, status: { hard: { pods: "10", "limits.cpu": "2", "requests.memory": "1Gi" }, used: { pods: "3", "limits.cpu": "500m" } } };
    expect(cells(resourceQuotaType, o)).toEqual(["x", "60m", "pods: 3/10, requests.memory: 0/1Gi", "limits.cpu: 500m/2"]);
  });
});

describe("LimitRange", () => {
  test("container defaults from max and default", () => {
    const { obj, causes } = admitCreate(limitRangeType, { metadata: meta, spec: { limits: [{ type: "Container", max: { cpu: "2" }, min: { memory: "64Mi" }, default: { memory: "256Mi" } }] } });
    expect(causes).toEqual([]);
    expect((obj.spec as { limits: unknown[] }).limits[0]).toEqual({
      type: "Container",
      max: { cpu: "2" },
      min: { memory: "64Mi" },
      default: { memory: "256Mi", cpu: "2" },
      defaultRequest: { memory: "256Mi", cpu: "2" },
    });
  });

  test("ordering and Pod-type checks; CREATED AT column", () => {
    const body = { metadata: meta, spec: { limits: [{ type: "Container", min: { cpu: "2" }, max: { cpu: "1" } }, { type: "Pod", default: { cpu: "1" } }, { type: "Pod" }] } };
    expect(describeCauses(admitCreate(limitRangeType, body).causes)).toEqual([
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
      'spec.limits[0].defaultRequest[cpu]: Invalid value: "1": min value 2 is greater than default request value 1',
      'spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1',
      "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'",
      'spec.limits[2].type: Duplicate value: "Pod"',
    ]);
    expect(cells(limitRangeType, { metadata: meta })).toEqual(["x", "2024-06-01T11:00:00Z"]);
  });
});

describe("PersistentVolume", () => {
  const pv = (spec: Record<string, unknown>) => ({ metadata: { name: "pv1", creationTimestamp: "2024-06-01T11:00:00Z" }, spec });

  test("defaults and initial status", () => {
    const { obj, causes } = admitCreate(persistentVolumeType, pv({ capacity: { storage: "1024Mi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/data" } }));
    expect(causes).toEqual([]);
    expect(obj.spec).toEqual({
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      hostPath: { path: "/data", type: "" },
      persistentVolumeReclaimPolicy: "Retain",
      volumeMode: "Filesystem",
    });
    expect((obj.status as Record<string, unknown>).phase).toBe("Pending");
    expect((obj.status as Record<string, unknown>).lastPhaseTransitionTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test("validation", () => {
    expect(describeCauses(admitCreate(persistentVolumeType, pv({ persistentVolumeReclaimPolicy: "Keep" })).causes)).toEqual([
      "spec.accessModes: Required value",
      "spec.capacity: Required value",
      'spec.capacity: Unsupported value: {}: supported values: "storage"',
      "spec: Required value: must specify a volume type",
      'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"',
    ]);
    const two = pv({ capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/a" }, nfs: { server: "s", path: "/p" } });
    expect(describeCauses(admitCreate(persistentVolumeType, two).causes)).toEqual(["spec.nfs: Forbidden: may not specify more than 1 volume type"]);
  });

  test("the volume source is immutable", () => {
    const old = admitCreate(persistentVolumeType, pv({ capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/a" } })).obj;
    const next = structuredClone(old);
    (next.spec as { hostPath: { path: string } }).hostPath.path = "/b";
    expect(describeCauses(admitUpdate(persistentVolumeType, next, old).causes)).toEqual([
      "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation",
    ]);
  });

  test("kubectl get pv columns", () => {
    const o = admitCreate(persistentVolumeType, pv({ capacity: { storage: "5Gi" }, accessModes: ["ReadWriteOnce", "ReadOnlyMany"], nfs: { server: "s", path: "/p" }, storageClassName: "slow", claimRef: { namespace: "default", name: "data" } })).obj;
    o.status = { phase: "Bound" };
    expect(cells(persistentVolumeType, o)).toEqual(["pv1", "5Gi", "RWO,ROX", "Retain", "Bound", "default/data", "slow", "<unset>", "", "60m", "Filesystem"]);
    expect(persistentVolumeType.selectableFields?.name?.(o)).toBe("pv1");
  });
});
