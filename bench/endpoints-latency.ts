/**
 * @module Scenario `endpoints-latency`: the time from a pod turning Ready to
 * the network proxy sending it traffic — the node agent's status write, the
 * EndpointSlice controller, the proxy's debounce and `nft -f`, end to end.
 *
 * An in-memory all-in-one kernel (process runtime with its own bridge,
 * subnet and service range; the network proxy with its own nftables table
 * and default settings). 100 busybox httpd pods (`--quick`: 20), each behind
 * a Service of its own (selector on the pod's name), all running but not
 * Ready: their readiness probe (`GET /ready`, every second) fails until the
 * bench writes that file. Then, one pod every 100 ms, the file is written
 * and, from then on, the pod's ClusterIP is polled every 20 ms with fresh
 * connections (refused at once while the Service has no ready endpoint;
 * `stalled_polls` counts attempts that got neither a refusal nor an answer).
 * Per pod: from the watch event that first shows it Ready to the first
 * answer from it through its ClusterIP. Reports p50/p99/max, and where the
 * time goes: Ready → the EndpointSlice showing the endpoint ready
 * (`ready_to_slice_*`: the EndpointSlice controller's batch period, 200 ms by
 * default, is most of it); the rest is the proxy (debounce 100 ms, `nft -f`).
 *
 * Target: p99 ≤ 1 s. Needs root (network namespaces, nftables): otherwise
 * it exits at once with one line saying so. Traffic goes only to the pods'
 * addresses and to ClusterIPs the bench's own table holds.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../core/api/meta.ts";
import { type BenchOptions, type BenchResult, percentiles, progress, round, sleep } from "./lib/common.ts";
import { httpGet, programmed, proxyKernel, requireRoot, waitFor } from "./proxy.ts";

const NAME = "endpoints-latency";
const PODS = { group: "", version: "v1", resource: "pods" };
const SERVICES = { group: "", version: "v1", resource: "services" };
const SLICES = { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" };
const NODE = "bench-proxy-node";
/**
 * Poll every 20 ms, each attempt given 250 ms. Not faster: a refused attempt
 * costs an ICMP port-unreachable, and past the kernel's global ICMP limit
 * (net.ipv4.icmp_msgs_per_sec, 1000) the SYN is dropped instead and only
 * retried by TCP after 1 s, which would be measured as proxy latency.
 */
const POLL_MS = 20;
const ATTEMPT_MS = 250;
const FLIP_EVERY_MS = 100;

type Pod = KubeObject & { status?: { podIP?: string; conditions?: { type: string; status: string }[] } };
type Slice = KubeObject & { endpoints?: { conditions?: { ready?: boolean } }[] };
const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  requireRoot(NAME);
  const count = opts.quick ? 20 : 100;
  const env = await proxyKernel("endpoints");
  const www = join(tmpdir(), `skiff-bench-endpoints-${env.table}`);
  try {
    const client = env.kernel.client;
    const names = Array.from({ length: count }, (_, i) => `ep-${i}`);
    const vip = new Map<string, string>();
    const readyAt = new Map<string, number>();
    const list = await client.list(PODS, { namespace: "default" });
    const watch = client.watch<Pod>(PODS, { namespace: "default", resourceVersion: list.metadata.resourceVersion! });
    const watching = (async () => {
      for await (const e of watch) {
        const name = e.object.metadata.name!;
        if (!readyAt.has(name) && isReady(e.object)) readyAt.set(name, performance.now());
      }
    })();
    // Where the time goes: when the pod's EndpointSlice first shows a ready endpoint.
    const sliceAt = new Map<string, number>();
    const slices = client.watch<Slice>(SLICES, { namespace: "default", resourceVersion: list.metadata.resourceVersion! });
    const watchingSlices = (async () => {
      for await (const e of slices) {
        const svc = e.object.metadata.labels?.["kubernetes.io/service-name"];
        if (svc && !sliceAt.has(svc) && (e.object.endpoints ?? []).some((x) => x.conditions?.ready !== false)) sliceAt.set(svc, performance.now());
      }
    })();

    progress(NAME, "creating", { pods: count });
    for (const name of names) {
      // The pods share the host's filesystem (process runtime): each serves its own directory.
      mkdirSync(join(www, name), { recursive: true });
      writeFileSync(join(www, name, "index.html"), name);
      await client.create(PODS, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: "default", labels: { "bench-pod": name } },
        spec: {
          nodeName: NODE,
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: "httpd",
              image: "local/busybox",
              command: ["busybox", "httpd", "-f", "-p", "8080", "-h", join(www, name)],
              readinessProbe: { httpGet: { path: "/ready", port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
            },
          ],
        },
      } as KubeObject);
      const svc = (await client.create(SERVICES, {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name, namespace: "default" },
        spec: { selector: { "bench-pod": name }, ports: [{ port: 80, targetPort: 8080 }] },
      } as KubeObject)) as KubeObject & { spec: { clusterIP: string } };
      vip.set(name, svc.spec.clusterIP);
    }
    // Every pod running (serving, not Ready), every ClusterIP in the table (in the reject map for now).
    await waitFor(
      `${count} pods running`,
      async () => {
        const pods = (await client.list(PODS, { namespace: "default" })).items as Pod[];
        return pods.filter((p) => (p.status as { phase?: string } | undefined)?.phase === "Running" && p.status?.podIP).length === count;
      },
      120_000,
      250,
    );
    await waitFor("every ClusterIP in the proxy's table", () => names.every((n) => programmed(env.table, vip.get(n)!)), 60_000, 250);
    if (readyAt.size > 0) throw new Error(`${readyAt.size} pods were Ready before their readiness file existed`);
    progress(NAME, "flipping", { pods: count, every_ms: FLIP_EVERY_MS });

    const latency = new Map<string, number>();
    const answeredAt = new Map<string, number>();
    let stalled = 0;
    const deadline = Date.now() + 60_000 + count * FLIP_EVERY_MS;
    const pollers: Promise<void>[] = [];
    for (const name of names) {
      writeFileSync(join(www, name, "ready"), "ok");
      pollers.push(
        (async () => {
          for (;;) {
            const body = await httpGet(vip.get(name)!, 80, ATTEMPT_MS).catch((e: Error) => {
              if (e.message.startsWith("timeout")) stalled++;
              return "";
            });
            if (body === name) {
              const now = performance.now();
              const ready = readyAt.get(name);
              if (ready === undefined) throw new Error(`${name} answered through its ClusterIP before the watch showed it Ready`);
              latency.set(name, now - ready);
              answeredAt.set(name, now);
              return;
            }
            if (body !== "") throw new Error(`${name}'s ClusterIP answered ${JSON.stringify(body)}`);
            if (Date.now() > deadline) throw new Error(`${name} got no traffic through its ClusterIP (Ready: ${readyAt.has(name)})`);
            await sleep(POLL_MS);
          }
        })(),
      );
      await sleep(FLIP_EVERY_MS);
    }
    await Promise.all(pollers);
    watch.close();
    slices.close();
    await Promise.all([watching.catch(() => undefined), watchingSlices.catch(() => undefined)]);
    const [p50, p99, max] = percentiles([...latency.values()], [50, 99, 100]);
    const toSlice = names.filter((n) => sliceAt.has(n)).map((n) => sliceAt.get(n)! - readyAt.get(n)!);
    const [s50, s99] = percentiles(toSlice, [50, 99]);
    if (process.env.SKIFF_BENCH_TRACE) for (const n of names) process.stderr.write(`${n} ready=${readyAt.get(n)?.toFixed(0)} slice=${sliceAt.get(n)?.toFixed(0)} answer=${answeredAt.get(n)?.toFixed(0)}\n`);
    const m = { p50_ms: round(p50!, 1), p99_ms: round(p99!, 1), max_ms: round(max!, 1), ready_to_slice_p50_ms: round(s50!, 1), ready_to_slice_p99_ms: round(s99!, 1) };
    progress(NAME, "measured", m);
    return { metrics: { ...m, pods: count, stalled_polls: stalled }, targets: { p99_ms: "<= 1000" } };
  } finally {
    await env.cleanup();
    rmSync(www, { recursive: true, force: true });
  }
}
