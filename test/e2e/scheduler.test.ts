/**
 * The scheduler plugin end to end, in-process: a kernel with the scheduler
 * enabled, driven only through the API (the in-process client). Placement
 * honours every default plugin; an unschedulable pod gets PodScheduled=False
 * with kube-scheduler's message and a FailedScheduling Event, and is bound as
 * soon as a node that fits is added; preemption evicts the lower-priority pod;
 * other schedulers' pods are left alone; and the out-of-tree example plugin,
 * installed the way `skiff plugins add` installs it, changes placement.
 */
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../../core/api/meta.ts";
import { SharedInformerFactory } from "../../core/client/informer.ts";
import type { Client, Informer, ResourceRef } from "../../core/client/types.ts";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import { installPlugin } from "../../core/plugin/loader.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import { createSchedulerPlugin } from "../../plugins/scheduler/index.ts";

setDefaultTimeout(15_000);

const PODS: ResourceRef = { group: "", version: "v1", resource: "pods" };
const NODES: ResourceRef = { group: "", version: "v1", resource: "nodes", namespaced: false };
const EVENTS: ResourceRef = { group: "", version: "v1", resource: "events" };
const PRIORITY_CLASSES: ResourceRef = { group: "scheduling.k8s.io", version: "v1", resource: "priorityclasses", namespaced: false };
const ROOT = join(import.meta.dir, "..", "..");

interface Env {
  kernel: Kernel;
  client: Client;
  pods: Informer;
  events: Informer;
  factory: SharedInformerFactory;
}

let env: Env | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await env?.factory.stop();
  await env?.kernel.stop();
  env = undefined;
  for (const c of cleanups.splice(0)) await c();
});

async function start(config: Record<string, unknown> = {}, extra: Plugin<never>[] = [], settings: Record<string, { config?: Record<string, unknown> }> = {}): Promise<Env> {
  const kernel = await createKernel({
    memory: true,
    plugins: {
      available: [createSchedulerPlugin() as Plugin<never>, ...extra],
      preset: "server",
      settings: { scheduler: { config: { podInitialBackoffSeconds: 0.05, podMaxBackoffSeconds: 0.2, podMaxInUnschedulablePodsSeconds: 3600, ...config } }, ...settings },
    },
  });
  const factory = new SharedInformerFactory(kernel.client);
  const pods = factory.informer(PODS);
  const events = factory.informer(EVENTS);
  factory.start();
  await factory.waitForSync();
  env = { kernel, client: kernel.client, pods, events, factory };
  return env;
}

/** Resolves once `check` returns a value, re-checking on every informer event; no sleeps. */
function waitFor<T>(inf: Informer, what: string, check: () => T | undefined, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const attempt = () => {
      if (done) return;
      const v = check();
      if (v === undefined) return;
      done = true;
      clearTimeout(timer);
      resolve(v);
    };
    inf.on({ add: attempt, update: attempt, delete: attempt });
    attempt();
  });
}

interface NodeOpts {
  cpu?: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  unschedulable?: boolean;
}

async function addNode(c: Client, name: string, o: NodeOpts = {}): Promise<void> {
  await c.create(NODES, {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...o.labels } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { allocatable: { cpu: o.cpu ?? "4", memory: "16Gi", pods: "110" }, capacity: { cpu: o.cpu ?? "4", memory: "16Gi", pods: "110" } },
  });
}

async function addPod(c: Client, name: string, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}, cpu = "100m"): Promise<void> {
  await c.create(PODS, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels },
    spec: { containers: [{ name: "c", image: "registry.example/app:1", resources: { requests: { cpu, memory: "64Mi" } } }], ...spec },
  });
}

function nodeOf(e: Env, name: string): string | undefined {
  return (e.pods.get(name, "default")?.spec as { nodeName?: string } | undefined)?.nodeName;
}

function bound(e: Env, name: string): Promise<string> {
  return waitFor(e.pods, `${name} to be bound`, () => nodeOf(e, name));
}

function scheduledCondition(e: Env, name: string): { status?: string; reason?: string; message?: string } | undefined {
  const st = e.pods.get(name, "default")?.status as { conditions?: { type: string; status?: string; reason?: string; message?: string }[] } | undefined;
  return st?.conditions?.find((c) => c.type === "PodScheduled");
}

describe("scheduler e2e", () => {
  test("placement honours every default plugin", async () => {
    const e = await start();
    const c = e.client;
    await addNode(c, "big", { cpu: "8", labels: { zone: "z1", disk: "ssd" } });
    await addNode(c, "small-a", { cpu: "1", labels: { zone: "z2" } });
    await addNode(c, "small-b", { cpu: "1", labels: { zone: "z3" } });
    await addNode(c, "tainted", { cpu: "8", labels: { zone: "z1", gpu: "true" }, taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] });
    await addNode(c, "cordoned", { cpu: "64", labels: { zone: "z1" }, unschedulable: true });

    // NodeResourcesFit + TaintToleration + NodeUnschedulable: 3 cpu fit only "big" among usable nodes.
    await addPod(c, "fit", {}, {}, "3");
    expect(await bound(e, "fit")).toBe("big");
    // nodeSelector
    await addPod(c, "selector", { nodeSelector: { disk: "ssd" } });
    expect(await bound(e, "selector")).toBe("big");
    // NodeAffinity (required)
    const zoneIn = (...zones: string[]) => ({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: zones }] }] } },
    });
    await addPod(c, "affinity", { affinity: zoneIn("z2") });
    expect(await bound(e, "affinity")).toBe("small-a");
    // TaintToleration: the tolerating pod may use the tainted node
    await addPod(c, "toleration", { nodeSelector: { gpu: "true" }, tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }] });
    expect(await bound(e, "toleration")).toBe("tainted");
    // NodePorts: two pods with hostPort 8080 on the two small nodes; a third has nowhere to go.
    const ports = { affinity: zoneIn("z2", "z3"), containers: [{ name: "c", image: "i", ports: [{ containerPort: 80, hostPort: 8080 }], resources: { requests: { cpu: "100m" } } }] };
    await addPod(c, "port-1", ports);
    await addPod(c, "port-2", ports);
    const [p1, p2] = await Promise.all([bound(e, "port-1"), bound(e, "port-2")]);
    expect(new Set([p1, p2])).toEqual(new Set(["small-a", "small-b"]));
    await addPod(c, "port-3", ports);
    const blocked = await waitFor(e.pods, "port-3 to be unschedulable", () => scheduledCondition(e, "port-3")?.message);
    // Each node reports the first filter that rejects it, in upstream's filter order.
    expect(blocked).toBe(
      "0/5 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: gpu}, " +
        "1 node(s) were unschedulable, 2 node(s) didn't have free ports for the requested pod ports. " +
        "preemption: 0/5 nodes are available: 2 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.",
    );
    // PodTopologySpread: three pods, maxSkew 1 over zones z1..z3 → one per zone.
    const spread = {
      affinity: zoneIn("z1", "z2", "z3"),
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "spread" } } }],
    };
    for (const n of ["spread-1", "spread-2", "spread-3"]) {
      await addPod(c, n, spread, { app: "spread" });
      await bound(e, n);
    }
    const zones = new Set(["spread-1", "spread-2", "spread-3"].map((n) => ({ big: "z1", "small-a": "z2", "small-b": "z3", tainted: "z1" })[nodeOf(e, n)!]));
    expect(zones).toEqual(new Set(["z1", "z2", "z3"]));
    // InterPodAffinity: "web" follows "db" to its node; "loner" avoids db's zone.
    await addPod(c, "db", { nodeSelector: { zone: "z3" } }, { app: "db" });
    expect(await bound(e, "db")).toBe("small-b");
    const term = { labelSelector: { matchLabels: { app: "db" } }, topologyKey: "kubernetes.io/hostname" };
    await addPod(c, "web", { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } });
    expect(await bound(e, "web")).toBe("small-b");
    await addPod(c, "loner", { affinity: { ...zoneIn("z2", "z3"), podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ ...term, topologyKey: "zone" }] } } });
    expect(await bound(e, "loner")).toBe("small-a");
    // Nothing ever went to the cordoned node.
    expect(e.pods.list("default").filter((p) => nodeOf(e, p.metadata.name!) === "cordoned")).toEqual([]);
  });

  test("an unschedulable pod gets PodScheduled=False and a FailedScheduling event, and is bound as soon as a node is added", async () => {
    const e = await start();
    const c = e.client;
    await addNode(c, "n1", { cpu: "1" });
    await addNode(c, "n2", { cpu: "1" });
    await addNode(c, "n3", { cpu: "8", taints: [{ key: "dedicated", value: "infra", effect: "NoSchedule" }] });
    await addPod(c, "big", {}, {}, "2");
    const msg =
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 Insufficient cpu. " +
      "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.";
    const cond = await waitFor(e.pods, "PodScheduled=False", () => (scheduledCondition(e, "big")?.status === "False" ? scheduledCondition(e, "big") : undefined));
    expect(cond).toMatchObject({ status: "False", reason: "Unschedulable", message: msg });
    const ev = await waitFor(e.events, "the FailedScheduling event", () =>
      e.events.list("default").find((x) => x.reason === "FailedScheduling" && (x.involvedObject as { name?: string }).name === "big"),
    );
    expect(ev).toMatchObject({ type: "Warning", message: msg, involvedObject: { kind: "Pod", name: "big", namespace: "default" } });

    const t0 = performance.now();
    await addNode(c, "n4", { cpu: "4" });
    expect(await bound(e, "big")).toBe("n4");
    // Driven by the NodeAdd event: far quicker than any periodic retry (set to an hour here).
    expect(performance.now() - t0).toBeLessThan(2000);
    const scheduled = await waitFor(e.events, "the Scheduled event", () =>
      e.events.list("default").find((x) => x.reason === "Scheduled" && (x.involvedObject as { name?: string }).name === "big"),
    );
    expect(scheduled.message).toBe("Successfully assigned default/big to n4");
  });

  test("preemption evicts the lower-priority pod", async () => {
    const e = await start();
    const c = e.client;
    await c.create(PRIORITY_CLASSES, { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "low" }, value: 10 } as KubeObject);
    await c.create(PRIORITY_CLASSES, { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "high" }, value: 1000 } as KubeObject);
    await addNode(c, "n1", { cpu: "1" });
    // No node agent runs here: a victim with a grace period would wait for one, so these have none.
    await addPod(c, "victim", { priorityClassName: "low", terminationGracePeriodSeconds: 0 }, {}, "800m");
    expect(await bound(e, "victim")).toBe("n1");
    await addPod(c, "vip", { priorityClassName: "high" }, {}, "800m");
    expect(await bound(e, "vip")).toBe("n1");
    expect(e.pods.get("victim", "default")).toBeUndefined();
    const ev = await waitFor(e.events, "the Preempted event", () =>
      e.events.list("default").find((x) => x.reason === "Preempted" && (x.involvedObject as { name?: string }).name === "victim"),
    );
    expect(ev.message).toMatch(/^Preempted by pod .+ on node n1$/);
  });

  test("a preemptor waits, nominated, while its victim terminates", async () => {
    const e = await start();
    const c = e.client;
    await addNode(c, "n1", { cpu: "1" });
    await addPod(c, "victim", { priority: 1 }, {}, "800m");
    expect(await bound(e, "victim")).toBe("n1");
    await addPod(c, "vip", { priority: 100 }, {}, "800m");
    // The victim is bound, so its deletion is graceful (30 s, for a node agent to act on).
    await waitFor(e.pods, "the victim to be terminating", () => e.pods.get("victim", "default")?.metadata.deletionTimestamp);
    const nominated = await waitFor(e.pods, "the nomination", () => (e.pods.get("vip", "default")?.status as { nominatedNodeName?: string })?.nominatedNodeName);
    expect(nominated).toBe("n1");
    expect(nodeOf(e, "vip")).toBeUndefined();
    // What a node agent does once the containers are gone:
    await c.delete(PODS, "victim", { namespace: "default", gracePeriodSeconds: 0 });
    expect(await bound(e, "vip")).toBe("n1");
  });

  test("pods for another schedulerName are left alone", async () => {
    const e = await start();
    const c = e.client;
    await addNode(c, "n1");
    await addPod(c, "theirs", { schedulerName: "someone-else" });
    await addPod(c, "ours");
    expect(await bound(e, "ours")).toBe("n1");
    expect(nodeOf(e, "theirs")).toBeUndefined();
    expect(scheduledCondition(e, "theirs")).toBeUndefined();
    expect(e.events.list("default").some((x) => (x.involvedObject as { name?: string }).name === "theirs")).toBe(false);
  });

  test("the example third-party Score plugin, installed as `skiff plugins add` does, changes placement", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skiff-sched-e2e-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { plugin } = await installPlugin(dir, join(ROOT, "examples", "plugins", "prefer-label-score"));
    expect(plugin.manifest.name).toBe("prefer-label-score");

    const placeOne = async (extra: Plugin<never>[]) => {
      const e = await start({}, extra);
      await addNode(e.client, "roomy", { cpu: "16" });
      await addNode(e.client, "labelled", { cpu: "2", labels: { "skiff.example.com/preferred": "true" } });
      await addPod(e.client, "p", {}, {}, "500m");
      const node = await bound(e, "p");
      await e.factory.stop();
      await e.kernel.stop();
      env = undefined;
      return node;
    };
    // Without it, LeastAllocated prefers the roomy node; with it, the labelled one wins.
    expect(await placeOne([])).toBe("roomy");
    expect(await placeOne([plugin])).toBe("labelled");
  });
});
