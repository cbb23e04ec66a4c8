/** @module LimitRanger on an in-memory kernel: defaults, the annotation, and min/max/ratio refusals with upstream's messages. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import { createKernel, type Kernel } from "../../../core/kernel.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { LIMIT_RANGES, NAMESPACES, type PodSpec, PODS } from "../common.ts";
import { constraintErrors, createLimitRangerPlugin } from "./index.ts";

let kernel: Kernel;
beforeAll(async () => {
  kernel = await createKernel({ memory: true, plugins: { available: [createLimitRangerPlugin()] as Plugin<never>[], preset: "server" } });
  await kernel.client.create(NAMESPACES, { metadata: { name: "lr" } });
  await kernel.client.create(LIMIT_RANGES, {
    metadata: { name: "limits", namespace: "lr" },
    spec: {
      limits: [
        { type: "Container", default: { cpu: "500m", memory: "256Mi" }, defaultRequest: { cpu: "100m" }, max: { cpu: "1" }, min: { memory: "64Mi" }, maxLimitRequestRatio: { cpu: "5" } },
        { type: "Pod", max: { memory: "1Gi" } },
      ],
    },
  });
});
afterAll(() => kernel.stop());

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isApiError(e)) return `${e.code} ${e.message}`;
    throw e;
  }
  return "admitted";
}
const pod = (name: string, containers: Record<string, unknown>[], init: Record<string, unknown>[] = []) => ({
  metadata: { name, namespace: "lr" },
  spec: { containers: containers.map((c, i) => ({ name: `c${i}`, image: "i", ...c })), ...(init.length ? { initContainers: init.map((c, i) => ({ name: `i${i}`, image: "i", ...c })) } : {}) },
});

test("defaults fill missing requests and limits, and the annotation says which", async () => {
  const p = await kernel.client.create<KubeObject & { spec: PodSpec }>(PODS, pod("d", [{}, { resources: { limits: { cpu: "800m" } } }], [{}]));
  expect(p.spec.containers![0]!.resources).toEqual({ limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "100m", memory: "256Mi" } });
  // A limit given without a request: the request defaults to the limit (API defaulting) before LimitRanger.
  expect(p.spec.containers![1]!.resources).toEqual({ limits: { cpu: "800m", memory: "256Mi" }, requests: { cpu: "800m", memory: "256Mi" } });
  expect(p.spec.initContainers![0]!.resources?.limits).toEqual({ cpu: "500m", memory: "256Mi" });
  expect(p.metadata.annotations?.["kubernetes.io/limit-ranger"]).toBe(
    // The stored LimitRange's defaultRequest got memory from default (LimitRange defaulting), so memory requests are set too.
    "LimitRanger plugin set: cpu, memory request for init container i0; cpu, memory limit for init container i0; cpu, memory request for container c0; cpu, memory limit for container c0; memory request for container c1; memory limit for container c1",
  );
});

test("max, min and the limit/request ratio refuse with upstream's messages", async () => {
  expect(await refusal(kernel.client.create(PODS, pod("big", [{ resources: { limits: { cpu: "2" } } }])))).toBe(
    '403 pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2',
  );
  expect(await refusal(kernel.client.create(PODS, pod("small", [{ resources: { requests: { memory: "32Mi" } } }])))).toBe(
    '403 pods "small" is forbidden: minimum memory usage per Container is 64Mi, but request is 32Mi',
  );
  expect(await refusal(kernel.client.create(PODS, pod("ratio", [{ resources: { requests: { cpu: "100m" }, limits: { cpu: "1" } } }])))).toBe(
    '403 pods "ratio" is forbidden: cpu max limit to request ratio per Container is 5, but provided ratio is 10.000000',
  );
  expect(await refusal(kernel.client.create(PODS, pod("pod-total", [{ resources: { limits: { memory: "512Mi" } } }, { resources: { limits: { memory: "768Mi" } } }])))).toBe(
    '403 pods "pod-total" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1280Mi',
  );
  expect(await refusal(kernel.client.create(PODS, pod("two", [{ resources: { limits: { cpu: "3" } } }, { resources: { requests: { memory: "1Mi" } } }])))).toBe(
    '403 pods "two" is forbidden: [maximum cpu usage per Container is 1, but limit is 3, minimum memory usage per Container is 64Mi, but request is 1Mi]',
  );
  // Other namespaces are not limited.
  await kernel.client.create(PODS, { metadata: { name: "free", namespace: "default" }, spec: { containers: [{ name: "c", image: "i", resources: { limits: { cpu: "8" } } }] } });
});

test("constraint messages when nothing is specified", () => {
  expect(constraintErrors("Container", { min: { cpu: "100m" }, max: { memory: "1Gi" }, maxLimitRequestRatio: { memory: "2" } }, new Map(), new Map())).toEqual([
    "minimum cpu usage per Container is 100m.  No request is specified",
    "maximum memory usage per Container is 1Gi.  No limit is specified",
    "memory max limit to request ratio per Container is 2, but no request is specified or request is 0",
  ]);
});
