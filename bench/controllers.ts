/**
 * @module Scenario `controllers`: one Deployment scaled from 0 to 10,000
 * replicas (`/scale`, as `kubectl scale` does) in an in-process kernel on a
 * file-backed store running the replicaset-controller and
 * deployment-controller plugins. A stand-in kubelet in the same process
 * watches pods and reports each new one Running and Ready through the status
 * subresource (a PUT of the pod it saw), so "available" needs the pod created, seen, and marked ready.
 *
 * - seconds_to_10k_available: from the scale request until the Deployment's
 *   status reports 10,000 available replicas (target ≤ 10 s).
 * - seconds_to_10k_created: until the 10,000th pod was seen created.
 * `--quick`: 1,000 replicas (the keys keep their names).
 */
import { createKernel } from "../core/kernel.ts";
import type { KubeObject } from "../core/api/meta.ts";
import type { Client } from "../core/client/types.ts";
import { createDeploymentPlugin } from "../plugins/controllers/deployment/index.ts";
import { createReplicaSetPlugin } from "../plugins/controllers/replicaset/index.ts";
import { type Deployment, DEPLOYMENTS, type Pod, PODS, rfc3339 } from "../plugins/controllers/common/refs.ts";
import { type BenchOptions, type BenchResult, progress, round, storeFlags, withTempDir } from "./lib/common.ts";

const NAME = "controllers";
process.env.SKIFF_LOG_LEVEL ??= "warn";
const NS = "default";

/** Marks every pod it sees added Ready; resolves `created` once `n` pods have been seen. */
function kubelet(client: Client, n: number, resourceVersion: string): { created: Promise<number>; stop(): void } {
  const stream = client.watch<Pod>(PODS, { namespace: NS, resourceVersion, labelSelector: "app=bench" });
  let seen = 0;
  let resolveCreated!: (t: number) => void;
  const created = new Promise<number>((r) => (resolveCreated = r));
  void (async () => {
    try {
      for await (const ev of stream) {
        if (ev.type !== "ADDED") continue;
        if (++seen === n) resolveCreated(performance.now());
        const p = ev.object;
        const status = { phase: "Running", conditions: [{ type: "Ready", status: "True", lastTransitionTime: rfc3339(Date.now()) }] };
        // A PUT of the object just seen (the cheapest status write the API has), not a patch: the
        // bench measures the controllers, so the stand-in kubelet should cost the server little.
        client.updateStatus(PODS, { ...p, status }).catch((e: unknown) => {
          progress(NAME, "ready-failed", { pod: p.metadata.name!, err: String((e as Error).message) });
        });
      }
    } catch (e) {
      progress(NAME, "kubelet-watch-ended", { err: String((e as Error).message) });
    }
  })();
  return { created, stop: () => stream.close() };
}

/** Resolves when the Deployment reports `n` available replicas for its latest generation. */
async function available(client: Client, n: number, resourceVersion: string): Promise<number> {
  const stream = client.watch<Deployment>(DEPLOYMENTS, { namespace: NS, fieldSelector: "metadata.name=bench", resourceVersion });
  let last = 0;
  try {
    for await (const ev of stream) {
      const s = ev.object.status;
      const a = s?.availableReplicas ?? 0;
      if (a >= last + n / 10 || a === n) {
        last = a;
        progress(NAME, "available", { replicas: a });
      }
      if (a === n && (s?.observedGeneration ?? 0) >= (ev.object.metadata.generation ?? 0)) return performance.now();
    }
  } finally {
    stream.close();
  }
  throw new Error("the deployment watch ended early");
}

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  const n = opts.quick ? 1_000 : 10_000;
  return withTempDir(async (dir) => {
    const kernel = await createKernel({
      dataDir: dir,
      store: storeFlags(opts),
      inlineControllers: false,
      plugins: {
        available: [createReplicaSetPlugin() as never, createDeploymentPlugin() as never],
        preset: "server",
        ...(process.env.BENCH_BURST ? { settings: { "replicaset-controller": { config: { burstReplicas: Number(process.env.BENCH_BURST) } } } } : {}),
      },
    });
    try {
      const client = kernel.client;
      const d: KubeObject = {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "bench", namespace: NS },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: "bench" } },
          template: { metadata: { labels: { app: "bench" } }, spec: { containers: [{ name: "web", image: "registry.example.com/web:1.0", ports: [{ containerPort: 8080 }] }] } },
        },
      };
      const created = await client.create(DEPLOYMENTS, d);
      // Let the controller create the (empty) ReplicaSet first.
      for (let i = 0; i < 200; i++) {
        const cur = await client.get<Deployment>(DEPLOYMENTS, "bench", { namespace: NS });
        if ((cur.status?.observedGeneration ?? 0) >= (cur.metadata.generation ?? 1)) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const rv = (await client.list(PODS, { namespace: NS, limit: 1 })).metadata.resourceVersion!;
      const k = kubelet(client, n, rv);
      const done = available(client, n, created.metadata.resourceVersion!);
      progress(NAME, "scale", { replicas: n });
      const t0 = performance.now();
      await client.patch(DEPLOYMENTS, "bench", "merge", { spec: { replicas: n } }, { namespace: NS, subresource: "scale" });
      const [tCreated, tAvailable] = await Promise.all([k.created, done]);
      k.stop();
      return {
        metrics: {
          seconds_to_10k_available: round((tAvailable - t0) / 1000, 2),
          seconds_to_10k_created: round((tCreated - t0) / 1000, 2),
        },
        targets: { seconds_to_10k_available: "<= 10" },
      };
    } finally {
      await kernel.stop();
    }
  });
}
