/**
 * @module Test fixtures for the controller plugins: an in-memory kernel
 * running the given plugins (no inline GC or namespace finalizer, no node
 * agent), and a stand-in for the kubelet that sets pod status through the
 * status subresource. Not exported from the plugins' index.
 */
import { createKernel, type Kernel } from "../../../core/kernel.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client, ListOptions } from "../../../core/client/types.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import type { PluginSettings } from "../../../core/plugin/config.ts";
import { type Pod, PODS, rfc3339 } from "./refs.ts";

export interface TestCluster {
  kernel: Kernel;
  client: Client;
  stop(): Promise<void>;
}

/** An in-process kernel running `plugins` (in memory, or on `dataDir` to restart on the same data). */
export async function startCluster(plugins: Plugin<never>[], settings: Record<string, PluginSettings> = {}, dataDir?: string): Promise<TestCluster> {
  const kernel = await createKernel({
    ...(dataDir ? { dataDir } : { memory: true }),
    inlineControllers: false,
    plugins: { available: plugins, preset: "server", settings },
  });
  return { kernel, client: kernel.client, stop: () => kernel.stop() };
}

/** Polls `f` (every 10 ms) until it returns something other than undefined/false; fails after `ms`. */
export async function until<T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function listPods(client: Client, opts: ListOptions): Promise<Pod[]> {
  return (await client.list<Pod>(PODS, opts)).items;
}

/** What a kubelet would report: Running with Ready true (or false), `readySince` as the transition time. */
export async function setPodReady(client: Client, pod: Pod, ready = true, readySince = Date.now()): Promise<Pod> {
  const status = {
    ...(pod.status ?? {}),
    phase: "Running",
    conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: rfc3339(readySince) }],
  };
  return client.patch<Pod>(PODS, pod.metadata.name!, "merge", { status }, { namespace: pod.metadata.namespace!, subresource: "status" });
}

/** Marks every pod matching `labelSelector` in `namespace` that is not yet ready as ready. */
export async function readyAll(client: Client, namespace: string, labelSelector: string): Promise<number> {
  const pods = await listPods(client, { namespace, labelSelector });
  let n = 0;
  await Promise.all(
    pods.map(async (p) => {
      if (p.metadata.deletionTimestamp || p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return;
      await setPodReady(client, p).catch(() => undefined);
      n++;
    }),
  );
  return n;
}

export function podTemplate(labels: Record<string, string>, image = "nginx:1.27"): KubeObject["spec"] {
  return { metadata: { labels }, spec: { containers: [{ name: "c", image }] } };
}

/**
 * Stands in for kubelets: watches pods in a namespace and reports each new
 * pod Running and Ready (after `delayMs`), as a node agent would once its
 * containers start. `pause()` stops it readying pods (a stuck rollout).
 */
export class FakeKubelet {
  #stream: { close(): void } | undefined;
  #paused = false;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(
    private readonly client: Client,
    private readonly namespace: string,
    private readonly delayMs = 0,
  ) {}

  async start(): Promise<this> {
    const list = await this.client.list<Pod>(PODS, { namespace: this.namespace });
    for (const p of list.items) this.#consider(p);
    const stream = this.client.watch<Pod>(PODS, { namespace: this.namespace, resourceVersion: list.metadata.resourceVersion! });
    this.#stream = stream;
    void (async () => {
      try {
        for await (const ev of stream) if (ev.type === "ADDED" || ev.type === "MODIFIED") this.#consider(ev.object);
      } catch {
        // closed
      }
    })();
    return this;
  }

  pause(): void {
    this.#paused = true;
  }

  async resume(): Promise<void> {
    this.#paused = false;
    for (const p of (await this.client.list<Pod>(PODS, { namespace: this.namespace })).items) this.#consider(p);
  }

  #consider(p: Pod): void {
    if (this.#paused || p.metadata.deletionTimestamp || p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return;
    const done = new Promise((r) => setTimeout(r, this.delayMs))
      .then(() => (this.#paused ? undefined : setPodReady(this.client, p)))
      .catch(() => undefined)
      .finally(() => this.#pending.delete(done));
    this.#pending.add(done);
  }

  async stop(): Promise<void> {
    this.#stream?.close();
    await Promise.all([...this.#pending]);
  }
}

/** `kubectl rollout status` for a Deployment: "done", "waiting: …" or "failed: …" (polymorphichelpers/rollout_status.go). */
export function rolloutStatus(d: {
  metadata: { generation?: number; name?: string };
  spec?: { replicas?: number };
  status?: { observedGeneration?: number; updatedReplicas?: number; replicas?: number; availableReplicas?: number; conditions?: { type: string; reason?: string }[] };
}): string {
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return "waiting: spec update not observed";
  if (s.conditions?.some((c) => c.type === "Progressing" && c.reason === "ProgressDeadlineExceeded")) return `failed: deployment "${d.metadata.name}" exceeded its progress deadline`;
  const want = d.spec?.replicas ?? 1;
  if ((s.updatedReplicas ?? 0) < want) return `waiting: ${s.updatedReplicas ?? 0} of ${want} updated`;
  if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0)) return `waiting: ${(s.replicas ?? 0) - (s.updatedReplicas ?? 0)} old pending termination`;
  if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0)) return `waiting: ${s.availableReplicas ?? 0} of ${s.updatedReplicas ?? 0} available`;
  return "done";
}
