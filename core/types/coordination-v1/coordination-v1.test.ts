/** @module Tests for coordination.k8s.io/v1 Lease: validation and the HOLDER column. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import { admitCreate, describeCauses } from "../test-helpers.ts";
import { leaseType } from "./index.ts";

describe("Lease", () => {
  test("validation", () => {
    const body = { metadata: { name: "l", namespace: "kube-system" }, spec: { leaseDurationSeconds: 0, leaseTransitions: -1, preferredHolder: "a" } };
    expect(describeCauses(admitCreate(leaseType, body).causes)).toEqual([
      "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
      "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
      "spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined",
    ]);
  });

  test("NAME HOLDER AGE; no generation", () => {
    const o = { metadata: { name: "kube-scheduler", creationTimestamp: "2024-06-01T11:00:00Z" }, spec: { holderIdentity: "node-1_abc" } };
    expect((leaseType.columns ?? []).map((c) => c.cell(o as KubeObject, Date.parse("2024-06-01T12:00:00Z")))).toEqual(["kube-scheduler", "node-1_abc", "60m"]);
    expect(leaseType.tracksGeneration).toBe(false);
  });
});
