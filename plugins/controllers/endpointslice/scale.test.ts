/**
 * Batching: 1,000 pods of one Service created and made ready through the API
 * (two writes each) must not cost anything like 1,000 Endpoints or
 * EndpointSlice writes. Writes are counted as watch events on those
 * resources; the final content is checked in full.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { ResourceRef } from "../../../core/client/types.ts";
import { ENDPOINT_SLICES, ENDPOINTS, type EndpointPod } from "../common/endpoints-util.ts";
import { PODS } from "../common/refs.ts";
import { startCluster, type TestCluster, until } from "../common/testing.ts";
import { createEndpointsPlugin } from "../endpoints/index.ts";
import { createNode, createPod, createService, getEndpoints, listSlices, setPodStatus } from "../endpoints/testing.ts";
import { createEndpointSlicePlugin } from "./index.ts";

setDefaultTimeout(60_000);

const NS = "default";
const N = 1000;
let c: TestCluster;

beforeAll(async () => {
  // Defaults: batch period 200 ms, 100 endpoints per slice.
  c = await startCluster([createEndpointsPlugin() as never, createEndpointSlicePlugin() as never]);
  await createNode(c.client, "node-1", "zone-a");
});
afterAll(() => c.stop());

/** Counts the watch events (= writes) on a resource in NS from `rv` on. */
function countWrites(ref: ResourceRef, rv: string): { count: () => number; stop: () => void } {
  let n = 0;
  const w = c.client.watch<KubeObject>(ref, { namespace: NS, resourceVersion: rv });
  void (async () => {
    try {
      for await (const ev of w) if (ev.type !== "BOOKMARK") n++;
    } catch {
      // closed
    }
  })();
  return { count: () => n, stop: () => w.close() };
}

const ip = (i: number) => `10.20.${Math.floor(i / 250)}.${(i % 250) + 1}`;

async function inParallel<T>(items: T[], width: number, f: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(f));
}

test(`scaling a Service to ${N} ready pods writes Endpoints and EndpointSlices a few times, not ${N}`, async () => {
  await createService(c.client, NS, "big", { selector: { app: "big" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] });
  await until("empty Endpoints", () => getEndpoints(c.client, NS, "big"));
  await until("placeholder slice", async () => (await listSlices(c.client, NS, "big")).length === 1);
  const rv = (await c.client.list(ENDPOINTS, { namespace: NS })).metadata.resourceVersion!;
  const epWrites = countWrites(ENDPOINTS, rv);
  const sliceWrites = countWrites(ENDPOINT_SLICES, rv);
  try {
    const started = Date.now();
    const idx = [...Array(N).keys()];
    const pods: EndpointPod[] = [];
    await inParallel(idx, 50, async (i) => pods.push(await createPod(c.client, NS, `big-${i}`, { labels: { app: "big" }, nodeName: "node-1" })));
    await inParallel(pods, 50, (p) => setPodStatus(c.client, p, { ip: ip(Number(p.metadata.name!.slice(4))), ready: true }));
    const apiMs = Date.now() - started;

    const ep = await until(
      `${N} ready addresses in Endpoints`,
      async () => {
        const e = await getEndpoints(c.client, NS, "big");
        return e?.subsets?.[0]?.addresses?.length === N && e;
      },
      30_000,
    );
    const slices = await until(
      `${N} ready endpoints in slices`,
      async () => {
        const s = await listSlices(c.client, NS, "big");
        return s.reduce((n, x) => n + (x.endpoints ?? []).filter((e) => e.conditions?.ready).length, 0) === N && s;
      },
      30_000,
    );
    // Let any sync still queued run (two batch periods) before counting.
    await new Promise((r) => setTimeout(r, 600));
    const endpointsWrites = epWrites.count();
    const slicesWrites = sliceWrites.count();
    process.stderr.write(
      `endpoints scale: ${N} pods (${2 * N} API writes in ${apiMs} ms) → ${endpointsWrites} Endpoints writes, ${slicesWrites} EndpointSlice writes\n`,
    );

    // Content: one subset of N ready addresses; N endpoints in ceil(N/100) full slices.
    expect(ep.subsets).toHaveLength(1);
    expect(ep.subsets![0]!.notReadyAddresses).toBeUndefined();
    expect(new Set(ep.subsets![0]!.addresses!.map((a) => a.ip))).toEqual(new Set(idx.map(ip)));
    expect(ep.subsets![0]!.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(ep.metadata.annotations?.["endpoints.kubernetes.io/over-capacity"]).toBeUndefined();
    expect(slices.map((s) => s.endpoints!.length)).toEqual(Array(N / 100).fill(100));
    expect(new Set(slices.flatMap((s) => s.endpoints!.map((e) => e.addresses[0])))).toEqual(new Set(idx.map(ip)));
    expect(slices.every((s) => s.endpoints!.every((e) => e.zone === "zone-a" && e.nodeName === "node-1"))).toBe(true);

    // Batched: one sync per batch period at most, so a handful of writes, not one per pod change.
    expect(endpointsWrites).toBeGreaterThan(0);
    expect(endpointsWrites).toBeLessThanOrEqual(Math.ceil(apiMs / 200) + 3);
    expect(slicesWrites).toBeLessThan(100);

    // Scale down by half: still batched, still exact.
    const before = { ep: epWrites.count(), slices: sliceWrites.count() };
    const gone = pods.filter((p) => Number(p.metadata.name!.slice(4)) % 2 === 0);
    await inParallel(gone, 50, (p) => c.client.delete(PODS, p.metadata.name!, { namespace: NS, gracePeriodSeconds: 0 }));
    const half = await until(`${N / 2} endpoints`, async () => {
      const s = await listSlices(c.client, NS, "big");
      return s.reduce((n, x) => n + (x.endpoints ?? []).length, 0) === N / 2 && s;
    });
    await until(`${N / 2} addresses`, async () => (await getEndpoints(c.client, NS, "big"))?.subsets?.[0]?.addresses?.length === N / 2);
    await new Promise((r) => setTimeout(r, 600));
    const downEp = epWrites.count() - before.ep;
    const downSlices = sliceWrites.count() - before.slices;
    process.stderr.write(`endpoints scale-down: ${N / 2} pods deleted → ${downEp} Endpoints writes, ${downSlices} EndpointSlice writes\n`);
    expect(new Set(half.flatMap((s) => s.endpoints!.map((e) => e.addresses[0])))).toEqual(new Set(idx.filter((i) => i % 2 === 1).map(ip)));
    expect(half.every((s) => s.endpoints!.length <= 100)).toBe(true);
    expect(downEp).toBeLessThan(20);
    expect(downSlices).toBeLessThan(60);
  } finally {
    epWrites.stop();
    sliceWrites.stop();
  }
});
