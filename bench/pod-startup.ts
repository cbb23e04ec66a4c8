/**
 * @module Scenario `pod-startup`: how long a pod takes from create to Running
 * on the process runtime, observed by a watch — the node agent's whole path
 * (informer event, sandbox with its network namespace when root, shim,
 * container start, status write) plus the API's.
 *
 * An in-memory all-in-one kernel (built-in plugins, process runtime, its own
 * bridge and subnet); 100 pods (`--quick`: 20) already bound to the node,
 * created one every 50 ms, each running `sleep 3600`. Per pod: from just
 * before its create call to the watch event that first shows it Running.
 * Everything is removed afterwards (the agent stops its pods; a sweep by
 * name prefix catches leftovers).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../core/api/meta.ts";
import { createKernel } from "../core/kernel.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { removeLeftovers } from "../runtime-adapters/process/testing.ts";
import { type BenchOptions, type BenchResult, percentiles, progress, round, sleep } from "./lib/common.ts";

const NAME = "pod-startup";
const PODS = { group: "", version: "v1", resource: "pods" };
const NODE = "bench-node";

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  const count = opts.quick ? 20 : 100;
  const tag = Math.random().toString(16).slice(2, 6);
  const dir = mkdtempSync(join(tmpdir(), "skiff-bench-pods-"));
  const names = {
    bridge: `skb${tag}`,
    subnet: "10.217.0.0/22",
    netnsPrefix: `skb-${tag}-`,
    vethPrefix: `b${tag}`,
    cgroupParent: `skiff-bench-${tag}`,
    stateDir: join(dir, "runtime"),
  };
  const kernel = await createKernel({
    memory: true,
    plugins: {
      available: builtinPlugins(),
      preset: "all-in-one",
      runtime: "process",
      nodeName: NODE,
      settings: {
        "runtime-process": { config: names },
        "node-agent": { config: { rootDir: join(dir, "agent"), stopPodsOnExit: "always", server: { port: 0 } } },
      },
    },
  });
  try {
    const client = kernel.client;
    const list = await client.list(PODS, { namespace: "default" });
    const created = new Map<string, number>();
    const latency = new Map<string, number>();
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const watch = client.watch<KubeObject & { status?: { phase?: string } }>(PODS, { namespace: "default", resourceVersion: list.metadata.resourceVersion! });
    const watching = (async () => {
      for await (const e of watch) {
        const name = e.object.metadata.name!;
        const t = created.get(name);
        if (t === undefined || latency.has(name) || e.object.status?.phase !== "Running") continue;
        latency.set(name, performance.now() - t);
        if (latency.size === count) resolveAll();
      }
    })();
    progress(NAME, "creating", { pods: count, netns: process.getuid?.() === 0 });
    for (let i = 0; i < count; i++) {
      const name = `startup-${i}`;
      created.set(name, performance.now());
      await client.create(PODS, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default" },
        spec: { nodeName: NODE, terminationGracePeriodSeconds: 1, containers: [{ name: "c", image: "local/sleep", command: ["sleep", "3600"] }] },
      } as KubeObject);
      await sleep(50);
    }
    const timeout = sleep(60_000).then(() => "timeout" as const);
    if ((await Promise.race([all.then(() => "ok" as const), timeout])) === "timeout") throw new Error(`only ${latency.size} of ${count} pods became Running within 60 s`);
    watch.close();
    await watching.catch(() => undefined);
    const [p50, p99, max] = percentiles([...latency.values()], [50, 99, 100]);
    progress(NAME, "measured", { p50_ms: round(p50!, 1), p99_ms: round(p99!, 1), max_ms: round(max!, 1) });
    return {
      metrics: { p50_ms: round(p50!, 1), p99_ms: round(p99!, 1), max_ms: round(max!, 1), pods: count },
      targets: { p50_ms: "<= 100", p99_ms: "<= 500" },
    };
  } finally {
    await kernel.stop();
    await removeLeftovers(names);
    rmSync(dir, { recursive: true, force: true });
  }
}
