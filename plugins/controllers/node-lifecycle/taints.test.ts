import { describe, expect, test } from "bun:test";
import { conditionTaints, defaultTolerations, evictionTime, NOT_READY, readinessTaint, reconcileTaints, tolerates, UNREACHABLE } from "./taints.ts";

describe("tolerates", () => {
  const taint = { key: UNREACHABLE, effect: "NoExecute" };
  const cases: [string, object, boolean][] = [
    ["Exists on the key", { key: UNREACHABLE, operator: "Exists" }, true],
    ["Exists on everything", { operator: "Exists" }, true],
    ["other key", { key: NOT_READY, operator: "Exists" }, false],
    ["other effect", { key: UNREACHABLE, operator: "Exists", effect: "NoSchedule" }, false],
    ["Equal with matching empty value", { key: UNREACHABLE, operator: "Equal", value: "" }, true],
    ["Equal with other value", { key: UNREACHABLE, value: "x" }, false],
  ];
  for (const [name, t, want] of cases) test(name, () => expect(tolerates(t, taint)).toBe(want));
});

test("evictionTime: not tolerated → now; the earliest expiry; tolerated forever → never", () => {
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  const taints = [{ key: UNREACHABLE, effect: "NoExecute", timeAdded: "2026-01-01T00:00:00Z" }];
  expect(evictionTime(taints, [], t0)).toBe(0);
  expect(evictionTime(taints, [{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 }], t0)).toBe(t0 + 30_000);
  expect(evictionTime(taints, [{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute" }], t0)).toBeNull();
  expect(evictionTime([{ key: "x", effect: "NoSchedule" }], [], t0)).toBeNull();
});

test("reconcileTaints keeps foreign taints and timeAdded, reports no change as null", () => {
  const now = "2026-01-01T00:00:10Z";
  const current = [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }, { key: UNREACHABLE, effect: "NoExecute", timeAdded: "2026-01-01T00:00:00Z" }];
  expect(reconcileTaints(current, [{ key: UNREACHABLE, effect: "NoExecute" }], now)).toBeNull();
  expect(reconcileTaints(current, [], now)).toEqual([{ key: "dedicated", value: "gpu", effect: "NoSchedule" }]);
  expect(reconcileTaints([], [{ key: NOT_READY, effect: "NoExecute" }, { key: NOT_READY, effect: "NoSchedule" }], now)).toEqual([
    { key: NOT_READY, effect: "NoExecute", timeAdded: now },
    { key: NOT_READY, effect: "NoSchedule" },
  ]);
});

test("condition and readiness taints", () => {
  expect(conditionTaints("Unknown", {}, true).map((t) => t.key)).toEqual([UNREACHABLE, "node.kubernetes.io/unschedulable"]);
  expect(conditionTaints("True", { MemoryPressure: "True" }, false).map((t) => t.key)).toEqual(["node.kubernetes.io/memory-pressure"]);
  expect(readinessTaint("False")?.key).toBe(NOT_READY);
  expect(readinessTaint("True")).toBeUndefined();
});

test("defaultTolerations adds 300 s for not-ready and unreachable unless tolerated", () => {
  expect(defaultTolerations([], 300)).toEqual([
    { key: NOT_READY, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    { key: UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
  ]);
  expect(defaultTolerations([{ operator: "Exists" }], 300)).toEqual([{ operator: "Exists" }]);
  expect(defaultTolerations([{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: 5 }], 300).length).toBe(2);
});
