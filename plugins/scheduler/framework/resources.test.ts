/** @module Pod request arithmetic: containers, init containers, sidecars, overhead, non-zero defaults. */
import { describe, expect, test } from "bun:test";
import { makeNode, makePod } from "../testing.ts";
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, nodeAllocatable, podNonZeroRequests, podRequests, quantityValue } from "./resources.ts";

const c = (cpu?: string, memory?: string, extra: Record<string, unknown> = {}) => ({
  name: `c${Math.random()}`,
  image: "i",
  resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } },
  ...extra,
});

describe("quantityValue", () => {
  test.each([
    ["cpu", "100m", 100],
    ["cpu", "1", 1000],
    ["cpu", "0.5", 500],
    ["cpu", "1.0001", 1001], // rounded up as MilliValue()
    ["memory", "1Gi", 1024 ** 3],
    ["memory", "1k", 1000],
    ["memory", "0.5", 1], // rounded up as Value()
    ["example.com/gpu", "2", 2],
    ["memory", "bogus", 0],
  ])("%s %s → %d", (r, q, want) => {
    expect(quantityValue(r, q)).toBe(want);
  });
});

describe("podRequests", () => {
  const cases: { name: string; spec: Parameters<typeof makePod>[1]; cpu: number; memory: number; gpu?: number }[] = [
    { name: "one container", spec: { cpu: "250m", memory: "64Mi" }, cpu: 250, memory: 64 * 2 ** 20 },
    { name: "no requests", spec: {}, cpu: 0, memory: 0 },
    {
      name: "containers sum, init max (upstream's example: 3 cpu, 3G)",
      spec: { containers: [c("2", "1G"), c("1", "1G")], initContainers: [c("2", "1G"), c("2", "3G")] },
      cpu: 3000,
      memory: 3e9,
    },
    {
      name: "a sidecar runs beside the containers and later init containers",
      spec: {
        initContainers: [c("1", "1G", { restartPolicy: "Always" }), c("2", "1G")],
        containers: [c("1", "1G")],
      },
      cpu: 3000, // init 2 + sidecar 1 = 3 > containers 1 + sidecar 1 = 2
      memory: 2e9,
    },
    { name: "overhead is added", spec: { cpu: "1", overhead: { cpu: "250m", memory: "10Mi" } }, cpu: 1250, memory: 10 * 2 ** 20 },
    { name: "extended resources", spec: { cpu: "1", extra: { "example.com/gpu": "2" } }, cpu: 1000, memory: 0, gpu: 2 },
  ];
  for (const tc of cases) {
    test(tc.name, () => {
      const r = podRequests(makePod("p", tc.spec));
      expect(r.milliCPU).toBe(tc.cpu);
      expect(r.memory).toBe(tc.memory);
      expect(r.pods).toBe(1);
      expect(r.scalar.get("example.com/gpu") ?? 0).toBe(tc.gpu ?? 0);
    });
  }

  test("non-zero requests default missing cpu/memory per container", () => {
    expect(podNonZeroRequests(makePod("p", {}))).toEqual({ milliCPU: DEFAULT_MILLI_CPU_REQUEST, memory: DEFAULT_MEMORY_REQUEST });
    expect(podNonZeroRequests(makePod("p", { cpu: "1" }))).toEqual({ milliCPU: 1000, memory: DEFAULT_MEMORY_REQUEST });
    expect(podNonZeroRequests(makePod("p", { containers: [c("1"), c(undefined, "1Gi")] }))).toEqual({
      milliCPU: 1000 + DEFAULT_MILLI_CPU_REQUEST,
      memory: 2 ** 30 + DEFAULT_MEMORY_REQUEST,
    });
  });

  test("node allocatable, falling back to capacity per resource", () => {
    const n = makeNode("n", { cpu: "2", memory: "1Gi", pods: 10, extra: { "example.com/gpu": "4" } });
    (n.status as Record<string, unknown>).capacity = { cpu: "8", "ephemeral-storage": "100Gi" };
    const a = nodeAllocatable(n);
    expect([a.milliCPU, a.memory, a.pods, a.ephemeralStorage, a.scalar.get("example.com/gpu")]).toEqual([2000, 2 ** 30, 10, 100 * 2 ** 30, 4]);
  });
});
