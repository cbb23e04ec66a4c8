/**
 * @module Scenario `runtime-startup`: pod create → Running (observed by a
 * watch) on containerd and on Docker, next to the bare daemon doing the same
 * work in the same run.
 *
 * Per runtime: a private daemon (the adapters' test helpers: its own socket,
 * bridge, subnet, cgroup parent), a busybox image built offline by
 * scripts/mkimage.sh and imported; an in-memory all-in-one kernel with that
 * runtime. Then, measured side by side:
 *
 * - `<rt>_raw`: the daemon without Skiff — containerd: CRI RunPodSandbox +
 *   CreateContainer + StartContainer through the adapter's CRI client (what
 *   the agent asks for, without the agent); Docker: the `docker run -d`
 *   equivalent of a pod over the Engine API (create + start a pause
 *   container on the bridge network, create + start the app container in
 *   its network and IPC namespaces);
 * - `<rt>`: `create` of a pod already bound to the node → the watch event
 *   first showing it Running (the agent's whole path: informer event,
 *   image check, sandbox, container, status write, and the API's).
 *
 * 20 pods one after the other (each waits for the previous to run), then 20
 * created at once (`_parallel`); `--quick`: 5. One unmeasured warm-up pod
 * each first. Target: Skiff's p50 ≤ 1.3 × the raw p50. Everything is
 * removed afterwards and the daemons stopped, also on failure.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../core/api/meta.ts";
import { createKernel, type Kernel } from "../core/kernel.ts";
import type { ContainerConfig, PodSandboxConfig, RuntimeAdapter } from "../core/runtime/adapter.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { ContainerdRuntime } from "../runtime-adapters/containerd/index.ts";
import { containerdMissing, mkimage, startContainerd } from "../runtime-adapters/containerd/testing.ts";
import { DockerRuntime } from "../runtime-adapters/docker/index.ts";
import { dockerdMissing, startDockerd } from "../runtime-adapters/docker/testing.ts";
import { type BenchOptions, type BenchResult, percentiles, progress, round } from "./lib/common.ts";

const NAME = "runtime-startup";
const PODS = { group: "", version: "v1", resource: "pods" };
const NODE = "bench-rt-node";
const IMAGE = "skiff.local/bench:1";
const RAW_LABEL = "skiff.dev/bench-raw";

/** One runtime under test: how to start a pod without Skiff, and the kernel settings that select it. */
interface Subject {
  name: "containerd" | "docker";
  /** Starts one pod (sandbox + one `sleep` container) on the bare daemon; resolves once it runs. */
  raw(i: number): Promise<void>;
  /** Removes what `raw` started. */
  rawCleanUp(): Promise<void>;
  /** A fresh adapter listing what the agent's adapter created. */
  view(): RuntimeAdapter;
  runtime: string;
  plugins: Record<string, unknown>;
  stop(): Promise<void>;
}

async function containerdSubject(dir: string): Promise<Subject> {
  const c = startContainerd("skiff-bench-ctrd-");
  try {
    const rt = new ContainerdRuntime({ socket: c.socket, cgroupParent: c.cgroupParent, owner: "bench-raw" });
    mkimage(join(dir, "bench.tar"), IMAGE, ["/bin/sh"]);
    await rt.importImage(join(dir, "bench.tar"));
    return {
      name: "containerd",
      async raw(i) {
        const sb: PodSandboxConfig = {
          uid: `raw-${i}-${Math.random().toString(16).slice(2, 10)}`,
          name: `raw-${i}`,
          namespace: "bench",
          attempt: 0,
          hostname: `raw-${i}`,
          hostNetwork: false,
          labels: {},
          annotations: {},
          portMappings: [],
          logDirectory: join(dir, "raw-logs", `raw-${i}`),
        };
        const id = await rt.runPodSandbox(sb);
        const cc: ContainerConfig = {
          name: "c",
          attempt: 0,
          image: IMAGE,
          command: ["/bin/sleep", "3600"],
          args: [],
          env: [],
          mounts: [],
          logPath: "c/0.log",
          stdin: false,
          stdinOnce: false,
          tty: false,
          resources: {},
          labels: {},
          annotations: {},
        };
        await rt.startContainer(await rt.createContainer(id, cc, sb));
      },
      async rawCleanUp() {
        await Promise.all((await rt.listPodSandboxes()).map((s) => rt.removePodSandbox(s.id)));
      },
      view: () => new ContainerdRuntime({ socket: c.socket }),
      runtime: "containerd",
      plugins: { "runtime-containerd": { config: { socket: c.socket, cgroupParent: c.cgroupParent } } },
      async stop() {
        await rt.close();
        await c.stop();
      },
    };
  } catch (e) {
    await c.stop();
    throw e;
  }
}

async function dockerSubject(dir: string): Promise<Subject> {
  const d = startDockerd("skbr-");
  try {
    const pauseArchive = join(dir, "pause.tar");
    mkimage(pauseArchive, "skiff.local/pause:1", ["/bin/sleep", "2147483647"]);
    const config = { instance: d.instance, network: d.network, bridge: d.bridge, subnet: d.subnet, pauseImage: "skiff.local/pause:1", pauseImageArchive: pauseArchive };
    // The adapter loads the images and creates the bridge network the raw pods use too.
    const rt = new DockerRuntime({ socketPath: d.socket, ...config, instance: `${d.instance}-setup` });
    mkimage(join(dir, "bench.tar"), IMAGE, ["/bin/sh"]);
    await rt.importImage(join(dir, "bench.tar"));
    const sb = await rt.runPodSandbox({ uid: "setup", name: "setup", namespace: "bench", attempt: 0, hostname: "setup", hostNetwork: false, labels: {}, annotations: {}, portMappings: [], logDirectory: join(dir, "setup") });
    await rt.removePodSandbox(sb);
    const e = rt.engine;
    const create = async (body: object, name: string) => (await e.json<{ Id: string }>("POST", "/containers/create", { query: { name }, body })).Id;
    return {
      name: "docker",
      async raw(i) {
        const tag = `${i}-${Math.random().toString(16).slice(2, 8)}`;
        const pause = await create(
          { Image: "skiff.local/pause:1", Hostname: `raw-${i}`, Labels: { [RAW_LABEL]: "1" }, HostConfig: { NetworkMode: d.network, IpcMode: "shareable" } },
          `raw_POD_${tag}`,
        );
        await e.request("POST", `/containers/${pause}/start`);
        const app = await create(
          {
            Image: IMAGE,
            Entrypoint: ["/bin/sleep"],
            Cmd: ["3600"],
            Labels: { [RAW_LABEL]: "1" },
            HostConfig: { NetworkMode: `container:${pause}`, IpcMode: `container:${pause}` },
          },
          `raw_c_${tag}`,
        );
        await e.request("POST", `/containers/${app}/start`);
      },
      async rawCleanUp() {
        const list = await e.json<{ Id: string; Names: string[] }[]>("GET", "/containers/json", { query: { all: "1", filters: JSON.stringify({ label: [RAW_LABEL] }) } });
        const remove = (pause: boolean) =>
          Promise.all(list.filter((c) => c.Names.some((n) => n.startsWith("/raw_POD_")) === pause).map((c) => e.request("DELETE", `/containers/${c.Id}`, { query: { force: "1" } })));
        // Apps before their pause containers (they use its namespaces).
        await remove(false);
        await remove(true);
      },
      view: () => new DockerRuntime({ socketPath: d.socket, ...config }),
      runtime: "docker",
      plugins: { "runtime-docker": { config: { socket: d.socket, ...config } } },
      async stop() {
        await rt.close();
        d.stop();
      },
    };
  } catch (e) {
    d.stop();
    throw e;
  }
}

/** Pod create → Running latencies, through a watch, for pods created by `createAll`. */
async function skiffLatencies(kernel: Kernel, names: string[], parallel: boolean): Promise<number[]> {
  const client = kernel.client;
  const list = await client.list(PODS, { namespace: "default" });
  const created = new Map<string, number>();
  const latency = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const watch = client.watch<KubeObject & { status?: { phase?: string } }>(PODS, { namespace: "default", resourceVersion: list.metadata.resourceVersion! });
  const watching = (async () => {
    for await (const e of watch) {
      const name = e.object.metadata.name!;
      const t = created.get(name);
      if (t === undefined || latency.has(name) || e.object.status?.phase !== "Running") continue;
      latency.set(name, performance.now() - t);
      waiters.get(name)?.();
    }
  })();
  const running = (name: string) =>
    new Promise<void>((resolve, reject) => {
      if (latency.has(name)) return resolve();
      const t = setTimeout(() => reject(new Error(`pod ${name} not Running within 60 s`)), 60_000);
      waiters.set(name, () => {
        clearTimeout(t);
        resolve();
      });
    });
  const createOne = async (name: string) => {
    const done = running(name);
    created.set(name, performance.now());
    await client.create(PODS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default" },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 0,
        containers: [{ name: "c", image: IMAGE, imagePullPolicy: "IfNotPresent", command: ["/bin/sleep", "3600"] }],
      },
    } as KubeObject);
    await done;
  };
  try {
    if (parallel) await Promise.all(names.map(createOne));
    else for (const n of names) await createOne(n);
  } finally {
    watch.close();
    await watching.catch(() => undefined);
  }
  return names.map((n) => latency.get(n)!);
}

async function deleteAllPods(kernel: Kernel, adapterCount: () => Promise<number>): Promise<void> {
  const client = kernel.client;
  const pods = await client.list(PODS, { namespace: "default" });
  await Promise.all(pods.items.map((p) => client.delete(PODS, p.metadata.name!, { namespace: "default", gracePeriodSeconds: 0 }).catch(() => undefined)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await client.list(PODS, { namespace: "default" })).items.length === 0 && (await adapterCount()) === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("pods were not removed within 60 s");
}

async function rawLatencies(s: Subject, n: number, parallel: boolean, offset: number): Promise<number[]> {
  const one = async (i: number) => {
    const t = performance.now();
    await s.raw(offset + i);
    return performance.now() - t;
  };
  const idx = Array.from({ length: n }, (_, i) => i);
  if (parallel) return Promise.all(idx.map(one));
  const out: number[] = [];
  for (const i of idx) out.push(await one(i));
  return out;
}

/** Resolves once the agent registered the node Ready (a start failure would otherwise surface as pods never running). */
async function nodeReady(kernel: Kernel): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const n = await kernel.client.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>({ group: "", version: "v1", resource: "nodes", namespaced: false }, NODE).catch(() => undefined);
    if (n?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) return;
    if (Date.now() > deadline) throw new Error(`node ${NODE} not Ready within 30 s (is the runtime reachable?): ${JSON.stringify(n?.status?.conditions ?? null)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const p = (v: number[], q: number) => round(percentiles(v, [q])[0]!, 1);

async function measure(s: Subject, dir: string, count: number, metrics: Record<string, number>): Promise<void> {
  const kernel = await createKernel({
    memory: true,
    plugins: {
      available: builtinPlugins(),
      preset: "all-in-one",
      runtime: s.runtime,
      nodeName: NODE,
      settings: {
        ...s.plugins,
        "node-agent": { config: { rootDir: join(dir, `agent-${s.name}`), stopPodsOnExit: "always", server: { port: 0 } } },
      },
    },
  });
  // A view of the agent's sandboxes (same socket, same owner/instance), to see when its pods are gone.
  const own = s.view();
  const podsLeft = async () => (await own.listPodSandboxes()).length;
  try {
    await nodeReady(kernel);
    progress(NAME, "warm-up", { runtime: s.name });
    await rawLatencies(s, 1, false, 1000);
    await s.rawCleanUp();
    await skiffLatencies(kernel, ["warmup-0"], false);
    await deleteAllPods(kernel, podsLeft);
    for (const parallel of [false, true]) {
      const suffix = parallel ? "_parallel" : "";
      const raw = await rawLatencies(s, count, parallel, parallel ? 100 : 0);
      await s.rawCleanUp();
      const names = Array.from({ length: count }, (_, i) => `${parallel ? "par" : "seq"}-${i}`);
      const sk = await skiffLatencies(kernel, names, parallel);
      await deleteAllPods(kernel, podsLeft);
      metrics[`${s.name}_p50_ms${suffix}`] = p(sk, 50);
      metrics[`${s.name}_p99_ms${suffix}`] = p(sk, 99);
      metrics[`${s.name}_raw_p50_ms${suffix}`] = p(raw, 50);
      metrics[`${s.name}_raw_p99_ms${suffix}`] = p(raw, 99);
      metrics[`${s.name}_ratio${suffix}`] = round(p(sk, 50) / p(raw, 50), 2);
      progress(NAME, "measured", { runtime: s.name, parallel, p50_ms: p(sk, 50), p99_ms: p(sk, 99), raw_p50_ms: p(raw, 50), raw_p99_ms: p(raw, 99) });
    }
  } finally {
    await own.close();
    await kernel.stop();
  }
}

/** `npm run bench -- runtime-startup [containerd] [docker]`: both when none is named. */
export async function main(args: string[], opts: BenchOptions): Promise<BenchResult> {
  const count = opts.quick ? 5 : 20;
  const metrics: Record<string, number> = { pods: count };
  for (const a of args) if (a !== "containerd" && a !== "docker") throw new Error(`unknown runtime ${JSON.stringify(a)} (containerd, docker)`);
  const subjects = (
    [
      ["containerd", containerdMissing, containerdSubject],
      ["docker", dockerdMissing, dockerSubject],
    ] as const
  ).filter(([name]) => args.length === 0 || args.includes(name));
  for (const [name, missing, make] of subjects) {
    const why = missing();
    if (why) throw new Error(`${name} is needed: ${why}`);
    const dir = mkdtempSync(join(tmpdir(), `skiff-bench-rt-${name}-`));
    let s: Subject | undefined;
    try {
      progress(NAME, "starting", { runtime: name });
      s = await make(dir);
      await measure(s, dir, count, metrics);
    } finally {
      await s?.rawCleanUp().catch(() => undefined);
      await s?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const targets: Record<string, string> = {};
  for (const rt of ["containerd", "docker"]) for (const sfx of ["", "_parallel"]) targets[`${rt}_p50_ms${sfx}`] = `<= 1.3 x ${rt}_raw_p50_ms${sfx}`;
  return { metrics, targets };
}
