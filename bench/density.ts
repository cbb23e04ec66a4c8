/**
 * @module Scenario `density`: simulated nodes at scale. One all-in-one
 * kernel, configured as `skiff server` runs by default (its database a file,
 * here in a fresh temporary data dir, with the default durability), with the
 * fake runtime simulating 1,000 nodes (each with its Node, Lease heartbeat
 * and status), the controllers and the scheduler; a Deployment of 10,000
 * replicas (`--quick`: 100 nodes, 1,000 replicas). Measured: seconds from
 * creating the Deployment until a watch has seen every pod Running, and the
 * process's RSS at that point (the server and the agent of every node are
 * this one process). An in-memory database (`--memory`) would add its whole
 * content, ~150 MB here, to the RSS; the file's pages live in the OS page
 * cache instead, beyond SQLite's own bounded cache.
 *
 * The scheduler plugin is taken from the built-in catalog, or from
 * plugins/scheduler when it is not in the catalog yet; without either, the
 * bench binds pending pods round-robin itself (and says so).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../core/api/meta.ts";
import { createKernel } from "../core/kernel.ts";
import type { Plugin } from "../core/plugin/types.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { type BenchOptions, type BenchResult, forceGc, progress, round, sleep, storeFlags } from "./lib/common.ts";

const NAME = "density";
const PODS = { group: "", version: "v1", resource: "pods" };
const DEPLOYMENTS = { group: "apps", version: "v1", resource: "deployments" };

async function schedulerPlugin(available: Plugin<never>[]): Promise<Plugin<never> | undefined> {
  if (available.some((p) => p.manifest.name === "scheduler" || (p.manifest.provides ?? []).includes("scheduler"))) return undefined;
  try {
    const mod = (await import("../plugins/scheduler/index.ts")) as { createSchedulerPlugin?: () => Plugin<never> };
    return mod.createSchedulerPlugin?.();
  } catch {
    return undefined;
  }
}

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  const nodes = opts.quick ? 100 : 1000;
  const replicas = opts.quick ? 1000 : 10_000;
  const available = builtinPlugins();
  const scheduler = await schedulerPlugin(available);
  if (scheduler) available.push(scheduler);
  const haveScheduler = available.some((p) => p.manifest.name === "scheduler" || (p.manifest.provides ?? []).includes("scheduler"));
  const t0 = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), "skiff-density-"));
  const kernel = await createKernel({
    dataDir,
    ...(opts.driver || opts.durability ? { store: storeFlags(opts) } : {}),
    plugins: {
      available,
      preset: "all-in-one",
      runtime: "fake",
      nodeName: "bench",
      settings: {
        "runtime-fake": { config: { nodes, writeLogs: false } },
        "node-agent": { config: { server: { enabled: false }, normalEvents: "off", workers: 32 } },
      },
    },
  });
  progress(NAME, "nodes registered", { nodes, secs: round((performance.now() - t0) / 1000, 1), scheduler: haveScheduler ? "plugin" : "bench binder" });
  let binder: ReturnType<typeof setInterval> | undefined;
  try {
    const client = kernel.client;
    const list = await client.list(PODS, { namespace: "default" });
    const running = new Set<string>();
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const watch = client.watch<KubeObject & { status?: { phase?: string } }>(PODS, { namespace: "default", resourceVersion: list.metadata.resourceVersion! });
    const watching = (async () => {
      for await (const e of watch) {
        if (e.type === "DELETED" || e.object.status?.phase !== "Running") continue;
        running.add(e.object.metadata.name!);
        if (running.size === replicas) resolveAll();
      }
    })();
    if (!haveScheduler) {
      let next = 0;
      const bound = new Set<string>();
      binder = setInterval(() => {
        void (async () => {
          const pending = await client.list(PODS, { namespace: "default", fieldSelector: "spec.nodeName=" });
          await Promise.all(
            pending.items
              .filter((p) => !bound.has(p.metadata.name!))
              .map((p) => {
                bound.add(p.metadata.name!);
                const target = `fake-node-${next++ % nodes}`;
                return client.createSubresource(PODS, p.metadata.name!, "binding", { apiVersion: "v1", kind: "Binding", metadata: { name: p.metadata.name! }, target: { apiVersion: "v1", kind: "Node", name: target } } as KubeObject, { namespace: "default" }).catch(() => bound.delete(p.metadata.name!));
              }),
          );
        })();
      }, 100);
    }
    const start = performance.now();
    await client.create(DEPLOYMENTS, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "density", namespace: "default" },
      spec: {
        replicas,
        selector: { matchLabels: { app: "density" } },
        template: {
          metadata: { labels: { app: "density" } },
          spec: { containers: [{ name: "c", image: "registry.example/density:1", resources: { requests: { cpu: "10m", memory: "16Mi" } } }] },
        },
      },
    } as KubeObject);
    let last = 0;
    const ticker = setInterval(() => {
      if (running.size !== last) progress(NAME, "running", { pods: running.size, secs: round((performance.now() - start) / 1000, 1) });
      last = running.size;
    }, 2000);
    const limit = opts.quick ? 60_000 : 180_000;
    const outcome = await Promise.race([all.then(() => "ok" as const), sleep(limit).then(() => "timeout" as const)]);
    clearInterval(ticker);
    if (outcome === "timeout") throw new Error(`only ${running.size} of ${replicas} pods Running after ${limit / 1000} s`);
    const seconds = (performance.now() - start) / 1000;
    watch.close();
    await watching.catch(() => undefined);
    const rss = process.memoryUsage().rss / (1024 * 1024);
    forceGc();
    const rssAfterGc = process.memoryUsage().rss / (1024 * 1024);
    progress(NAME, "all running", { pods: replicas, seconds: round(seconds, 1), rss_mb: round(rss, 0), rss_after_gc_mb: round(rssAfterGc, 0) });
    return {
      metrics: { seconds_to_running: round(seconds, 1), server_rss_mb: round(rss, 0), nodes, pods: replicas },
      targets: { seconds_to_running: "<= 30", server_rss_mb: "<= 400" },
    };
  } finally {
    clearInterval(binder);
    await kernel.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
