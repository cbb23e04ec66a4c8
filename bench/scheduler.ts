/**
 * @module Scenario `scheduler`: pods/s of the scheduler plugin, all scheduling
 * and binding included.
 *
 * Per size (5,000 and 500 nodes; `--quick`: 100 nodes, 1,000 pods): a kernel
 * with a file-backed store and no plugins; the bench creates heterogeneous
 * Node objects (no agents), 1,000 pods already bound to random nodes and
 * 10,000 pending pods of mixed requests, through the in-process client. Then
 * it starts the scheduler plugin in a PluginHost wired as the kernel wires it
 * (in-process client, shared informers, event recorder) and times from
 * `start` — which includes listing every node and pod into the informers —
 * until the 10,000th binding has been accepted by the API server. The
 * scheduler runs with its default config: its "Scheduled" Events wait while
 * it is busy and are written once the burst is over (after the timed window;
 * FailedScheduling events and status updates are immediate, none occur here).
 *
 * Metrics per size N: pods_per_s_N_nodes (from start, sync included),
 * sync_ms_N_nodes (start until the informers are synced and the loop runs),
 * pods_per_s_after_sync_N_nodes. After each run the bench checks, outside the
 * timing, that every pod is bound and that no node is over its allocatable.
 */
import { join } from "node:path";
import type { KubeObject } from "../core/api/meta.ts";
import { EventRecorder } from "../core/client/events.ts";
import { inProcessClient } from "../core/client/fetch-client.ts";
import { SharedInformerFactory } from "../core/client/informer.ts";
import type { Client, ResourceRef } from "../core/client/types.ts";
import { createKernel } from "../core/kernel.ts";
import { logger } from "../core/log.ts";
import { pluginConfig } from "../core/plugin/config.ts";
import { PluginHost } from "../core/plugin/host.ts";
import { Tokens } from "../core/plugin/tokens.ts";
import { createSchedulerPlugin, HandleProxy } from "../plugins/scheduler/index.ts";
import { type BenchOptions, type BenchResult, progress, round, sleep, storeFlags, withTempDir } from "./lib/common.ts";

const NAME = "scheduler";
const PODS: ResourceRef = { group: "", version: "v1", resource: "pods" };
const NODES: ResourceRef = { group: "", version: "v1", resource: "nodes", namespaced: false };
const NAMESPACES: ResourceRef = { group: "", version: "v1", resource: "namespaces", namespaced: false };

/** A deterministic PRNG so every run places the same workload. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NODE_SHAPES = [
  { cpu: "8", memory: "32Gi" },
  { cpu: "16", memory: "64Gi" },
  { cpu: "32", memory: "128Gi" },
  { cpu: "4", memory: "16Gi" },
];
const POD_SHAPES = [
  { cpu: "100m", memory: "128Mi" },
  { cpu: "250m", memory: "256Mi" },
  { cpu: "500m", memory: "512Mi" },
  { cpu: "200m", memory: "1Gi" },
];

function node(i: number): KubeObject {
  const s = NODE_SHAPES[i % NODE_SHAPES.length]!;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: `node-${i}`,
      labels: { "kubernetes.io/hostname": `node-${i}`, "topology.kubernetes.io/zone": `zone-${i % 3}`, "node.kubernetes.io/instance-type": `t${i % 4}` },
    },
    spec: {},
    status: {
      capacity: { ...s, pods: "110" },
      allocatable: { ...s, pods: "110" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

function pod(name: string, shape: (typeof POD_SHAPES)[number], nodeName?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "bench", labels: { app: name.slice(0, name.lastIndexOf("-")) } },
    spec: {
      containers: [{ name: "app", image: "registry.example.com/app:1.0", resources: { requests: shape, limits: shape } }],
      ...(nodeName ? { nodeName } : {}),
    },
  };
}

/** Runs `fn` over `items` with `concurrency` calls in flight. */
async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < items.length; i = next++) await fn(items[i]!);
    }),
  );
}

interface RunResult {
  podsPerS: number;
  syncMs: number;
  afterSyncPodsPerS: number;
}

/** One size: populate, start the scheduler, time until every pending pod is bound, verify. */
export async function run(nodes: number, placed: number, pending: number, opts: BenchOptions, dir: string): Promise<RunResult> {
  const kernel = await createKernel({ dataDir: dir, store: storeFlags(opts) });
  const client: Client = kernel.client;
  try {
    const random = rng(nodes);
    await client.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: "bench" } });
    await pool(
      Array.from({ length: nodes }, (_, i) => i),
      256,
      (i) => client.create(NODES, node(i)),
    );
    const podsToCreate: KubeObject[] = [];
    for (let i = 0; i < placed; i++) podsToCreate.push(pod(`placed-${i}`, POD_SHAPES[i % POD_SHAPES.length]!, `node-${Math.floor(random() * nodes)}`));
    for (let i = 0; i < pending; i++) podsToCreate.push(pod(`pending-${i}`, POD_SHAPES[Math.floor(random() * POD_SHAPES.length)]!));
    await pool(podsToCreate, 256, (p) => client.create(PODS, p));
    progress(NAME, "populated", { nodes, placed, pending });

    const plugin = createSchedulerPlugin();
    const schedClient = inProcessClient(kernel.api.app.fetch, { fieldManager: "default-scheduler", userAgent: "skiff-scheduler" });
    const informers = new SharedInformerFactory(schedClient);
    const host = new PluginHost({
      role: "server",
      client: schedClient,
      informers,
      events: new EventRecorder(schedClient, { component: "default-scheduler" }),
      log: logger("bench-scheduler"),
    });
    host.register([plugin as never], new Map([[plugin.manifest.name, pluginConfig(plugin as never, {})]]));
    const handle = host.container.resolve(Tokens.SchedulerHandle) as HandleProxy;
    informers.start();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await host.start();
    const tSynced = performance.now();
    const scheduler = handle.target!;
    const deadline = t0 + 600_000;
    while (scheduler.stats.bound < pending) {
      if (performance.now() > deadline) throw new Error(`only ${scheduler.stats.bound}/${pending} pods bound after 10 minutes`);
      await sleep(5);
    }
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const stats = { ...scheduler.stats };
    await host.stop();
    await informers.stop();

    // Verification, outside the timing.
    const all = await client.list(PODS, { namespace: "bench" });
    const unbound = all.items.filter((p) => !(p.spec as { nodeName?: string }).nodeName).length;
    if (unbound > 0) throw new Error(`${unbound} pods are still unbound`);
    const used = new Map<string, { cpu: number; mem: number; pods: number }>();
    const milli = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000);
    const bytes = (q: string) => Number(q.slice(0, -2)) * (q.endsWith("Gi") ? 2 ** 30 : 2 ** 20);
    for (const p of all.items) {
      const n = (p.spec as { nodeName: string }).nodeName;
      const r = (p.spec as { containers: { resources: { requests: { cpu: string; memory: string } } }[] }).containers[0]!.resources.requests;
      const u = used.get(n) ?? { cpu: 0, mem: 0, pods: 0 };
      u.cpu += milli(r.cpu);
      u.mem += bytes(r.memory);
      u.pods++;
      used.set(n, u);
    }
    for (const [n, u] of used) {
      const s = NODE_SHAPES[Number(n.slice(5)) % NODE_SHAPES.length]!;
      if (u.cpu > milli(s.cpu) || u.mem > bytes(s.memory) || u.pods > 110) throw new Error(`node ${n} is over its allocatable`);
    }
    const podsPerS = pending / ((t1 - t0) / 1000);
    const afterSyncPodsPerS = pending / ((t1 - tSynced) / 1000);
    progress(NAME, "scheduled", {
      nodes,
      pods_per_s: round(podsPerS, 0),
      sync_ms: round(tSynced - t0, 0),
      after_sync_pods_per_s: round(afterSyncPodsPerS, 0),
      attempts: stats.attempts,
      unschedulable: stats.unschedulable,
      cycle_ms: round(stats.cycleMs, 0),
      cpu_ms: round((cpu.user + cpu.system) / 1000, 0),
    });
    return { podsPerS, syncMs: tSynced - t0, afterSyncPodsPerS };
  } finally {
    await kernel.stop();
  }
}

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  const sizes = opts.quick
    ? [{ nodes: 100, placed: 100, pending: 1000, key: "100" }]
    : [
        { nodes: 5000, placed: 1000, pending: 10_000, key: "5000" },
        { nodes: 500, placed: 1000, pending: 10_000, key: "500" },
      ];
  const metrics: Record<string, number> = {};
  for (const s of sizes) {
    const r = await withTempDir((dir) => run(s.nodes, s.placed, s.pending, opts, join(dir, "data")));
    metrics[`pods_per_s_${s.key}_nodes`] = round(r.podsPerS, 0);
    metrics[`sync_ms_${s.key}_nodes`] = round(r.syncMs, 0);
    metrics[`pods_per_s_after_sync_${s.key}_nodes`] = round(r.afterSyncPodsPerS, 0);
  }
  return {
    metrics,
    targets: {
      pods_per_s_5000_nodes: ">= 2000 (2 cores; scheduling, binding and the initial informer sync included)",
      pods_per_s_500_nodes: ">= 2000",
    },
  };
}
