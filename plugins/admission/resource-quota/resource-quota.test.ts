/** @module ResourceQuota admission and controller on an in-memory kernel: upstream's messages, status upkeep, and no over-admission under concurrency. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import { createKernel, type Kernel } from "../../../core/kernel.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { CONFIG_MAPS, NAMESPACES, PODS, RESOURCE_QUOTAS } from "../common.ts";
import { createResourceQuotaControllerPlugin, createResourceQuotaPlugin, podCompute, prettyPrint, usageOf } from "./index.ts";

let kernel: Kernel;
beforeAll(async () => {
  kernel = await createKernel({ memory: true, plugins: { available: [createResourceQuotaPlugin(), createResourceQuotaControllerPlugin()] as Plugin<never>[], preset: "server" } });
});
afterAll(() => kernel.stop());

type Quota = KubeObject & { status?: { hard?: Record<string, string>; used?: Record<string, string> } };
async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isApiError(e)) return `${e.code} ${e.message}`;
    throw e;
  }
  return "admitted";
}
const used = async (ns: string, name: string) => (await kernel.client.get<Quota>(RESOURCE_QUOTAS, name, { namespace: ns })).status?.used;
const pod = (name: string, ns: string, resources?: Record<string, Record<string, string>>) => ({
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: "c", image: "i", ...(resources ? { resources } : {}) }] },
});
async function quota(ns: string, name: string, hard: Record<string, string>, extra: Record<string, unknown> = {}): Promise<void> {
  await kernel.client.create(NAMESPACES, { metadata: { name: ns } }).catch((e) => (isApiError(e, "AlreadyExists") ? undefined : Promise.reject(e)));
  await kernel.client.create(RESOURCE_QUOTAS, { metadata: { name, namespace: ns }, spec: { hard, ...extra } });
  await until("the quota's status", async () => (await used(ns, name)) !== undefined && Object.keys((await used(ns, name))!).length === Object.keys(hard).length);
}

describe("usage", () => {
  test("a pod costs the larger of its containers' sum and its largest init container", () => {
    const spec = {
      initContainers: [{ name: "i", resources: { requests: { cpu: "2" } } }],
      containers: [
        { name: "a", resources: { requests: { cpu: "500m", memory: "64Mi" }, limits: { memory: "128Mi" } } },
        { name: "b", resources: { requests: { cpu: "250m", memory: "64Mi" } } },
      ],
    };
    expect(prettyPrint(podCompute(spec, "requests"))).toBe("cpu=2,memory=128Mi");
    expect(prettyPrint(usageOf("", "pods", { metadata: {}, spec }))).toBe("count/pods=1,cpu=2,limits.memory=128Mi,memory=128Mi,pods=1,requests.cpu=2,requests.memory=128Mi");
    expect(prettyPrint(usageOf("", "pods", { metadata: {}, spec, status: { phase: "Succeeded" } }))).toBe("");
    expect(prettyPrint(usageOf("", "services", { metadata: {}, spec: { type: "NodePort", ports: [{ port: 1 }, { port: 2 }] } }))).toBe("count/services=1,services=1,services.nodeports=2");
    expect(prettyPrint(usageOf("apps", "deployments", { metadata: {} }))).toBe("count/deployments.apps=1");
  });
});

describe("admission and controller", () => {
  test("the controller fills status; a pod over the limit is refused with upstream's message", async () => {
    await quota("q1", "pods-quota", { pods: "2", "count/configmaps": "1" });
    expect(await used("q1", "pods-quota")).toEqual({ "count/configmaps": "0", pods: "0" });
    await kernel.client.create(PODS, pod("a", "q1"));
    await kernel.client.create(PODS, pod("b", "q1"));
    expect((await used("q1", "pods-quota"))?.pods).toBe("2");
    expect(await refusal(kernel.client.create(PODS, pod("c", "q1")))).toBe('403 pods "c" is forbidden: exceeded quota: pods-quota, requested: pods=1, used: pods=2, limited: pods=2');
    await kernel.client.create(CONFIG_MAPS, { metadata: { name: "one", namespace: "q1" } });
    expect(await refusal(kernel.client.create(CONFIG_MAPS, { metadata: { name: "two", namespace: "q1" } }))).toBe(
      '403 configmaps "two" is forbidden: exceeded quota: pods-quota, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1',
    );
    // A delete frees the unit (the controller recounts).
    await kernel.client.delete(PODS, "a", { namespace: "q1" });
    await until("the pod's unit released", async () => (await used("q1", "pods-quota"))?.pods === "1");
    await kernel.client.create(PODS, pod("c", "q1"));
  });

  test("compute quotas: pods must name what is constrained, and sums are checked", async () => {
    await quota("q2", "compute", { "requests.cpu": "1", "limits.memory": "1Gi" });
    expect(await refusal(kernel.client.create(PODS, pod("bare", "q2")))).toBe('403 pods "bare" is forbidden: failed quota: compute: must specify limits.memory,requests.cpu');
    await kernel.client.create(PODS, pod("half", "q2", { requests: { cpu: "600m" }, limits: { memory: "512Mi" } }));
    expect(await used("q2", "compute")).toEqual({ "limits.memory": "512Mi", "requests.cpu": "600m" });
    expect(await refusal(kernel.client.create(PODS, pod("more", "q2", { requests: { cpu: "500m" }, limits: { memory: "256Mi" } })))).toBe(
      '403 pods "more" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1',
    );
    // A dry run checks without charging.
    const res = await kernel.api.app.fetch(
      new Request("http://skiff.local/api/v1/namespaces/q2/pods?dryRun=All", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(pod("dry", "q2", { requests: { cpu: "100m" }, limits: { memory: "1Mi" } })) }),
    );
    expect(res.status).toBe(201);
    expect(await used("q2", "compute")).toEqual({ "limits.memory": "512Mi", "requests.cpu": "600m" });
  });

  test("scoped quotas count only the pods they select", async () => {
    await quota("q3", "best-effort", { pods: "1" }, { scopes: ["BestEffort"] });
    await kernel.client.create(PODS, pod("be", "q3"));
    expect(await refusal(kernel.client.create(PODS, pod("be2", "q3")))).toContain("exceeded quota: best-effort");
    await kernel.client.create(PODS, pod("burstable", "q3", { requests: { cpu: "100m" } }));
    await kernel.client.create(CONFIG_MAPS, { metadata: { name: "x", namespace: "q3" } });
  });

  test("parallel creates never take more than the last unit", async () => {
    await quota("q4", "three", { pods: "3" });
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => kernel.client.create(PODS, pod(`p${i}`, "q4"))));
    const ok = results.filter((r) => r.status === "fulfilled").length;
    expect(ok).toBe(3);
    for (const r of results) if (r.status === "rejected") expect(String((r.reason as Error).message)).toContain("exceeded quota: three, requested: pods=1, used: pods=3, limited: pods=3");
    expect((await kernel.client.list(PODS, { namespace: "q4" })).items.length).toBe(3);
    expect((await used("q4", "three"))?.pods).toBe("3");
  });

  test("a quota its controller has not counted yet refuses with status unknown", async () => {
    // A kernel without the controller: nothing fills the quota's status.
    const bare = await createKernel({ memory: true, plugins: { available: [createResourceQuotaPlugin()] as Plugin<never>[], preset: "server" } });
    try {
      await bare.client.create(RESOURCE_QUOTAS, { metadata: { name: "fresh", namespace: "default" }, spec: { hard: { pods: "1" } } });
      const e = await refusal(bare.client.create(PODS, pod("p", "default")));
      expect(e).toBe('403 pods "p" is forbidden: status unknown for quota: fresh, resources: pods');
      // Objects the quota does not constrain are not affected.
      await bare.client.create(CONFIG_MAPS, { metadata: { name: "c", namespace: "default" } });
    } finally {
      await bare.stop();
    }
  });
});
