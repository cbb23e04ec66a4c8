import { afterEach, expect, test } from "bun:test";
import { httpClient, inProcessClient } from "../client/fetch-client.ts";
import type { WatchEvent, WatchStream } from "../client/types.ts";
import { createKernel, type Kernel } from "../kernel.ts";
import { KERNEL_IDENTITY } from "../server/auth/cluster-security.ts";
import { tlsFetch } from "../server/pki/tls-client.ts";
import type { KubeObject } from "./meta.ts";
import { deepFreeze, FREEZE_SHARED_OBJECTS } from "./object-channel.ts";

const CM = { group: "", version: "v1", resource: "configmaps" };
const HPA_V1 = { group: "autoscaling", version: "v1", resource: "horizontalpodautoscalers" };

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.stop();
  kernel = undefined;
});

async function first<T extends KubeObject>(w: WatchStream<T>, n = 1): Promise<WatchEvent<T>[]> {
  const out: WatchEvent<T>[] = [];
  for await (const e of w) {
    out.push(e);
    if (out.length === n) break;
  }
  return out;
}

test("the test run has the mutation detector on (test/setup.ts)", () => {
  expect(FREEZE_SHARED_OBJECTS).toBe(true);
});

test("in-process watchers of one change share one frozen object; the HTTP answer is the same JSON", async () => {
  kernel = await createKernel({ memory: true, inlineControllers: false, listen: { host: "127.0.0.1", port: 0 } });
  const a = kernel.client.watch(CM, { namespace: "default" });
  // The listening kernel is secure: an in-process client of the router needs an identity.
  const b = inProcessClient(kernel.api.app.fetch, { user: KERNEL_IDENTITY }).watch(CM, { namespace: "default" });
  const http = httpClient({ server: kernel.url!, fetch: tlsFetch(kernel.clientTls!) }).watch(CM, { namespace: "default" });
  const got = Promise.all([first(a), first(b), first(http)]);
  await Bun.sleep(30);
  await kernel.client.create(CM, { metadata: { name: "shared", namespace: "default" }, data: { k: "v" } });
  const [[ea], [eb], [eh]] = await got;
  expect(ea!.type).toBe("ADDED");
  expect(ea!.object).toBe(eb!.object);
  expect(Object.isFrozen(ea!.object)).toBe(true);
  expect(Object.isFrozen(ea!.object.metadata)).toBe(true);
  expect(() => {
    (ea!.object.metadata as { name: string }).name = "changed";
  }).toThrow(TypeError);
  expect(Object.isFrozen(eh!.object)).toBe(false);
  expect(eh!.object).toEqual(JSON.parse(JSON.stringify(ea!.object)));
});

test("in-process watches keep the API's semantics: selectors, version conversion, 410 on a compacted revision", async () => {
  kernel = await createKernel({ memory: true, inlineControllers: false });
  const c = kernel.client;
  const labelled = c.watch(CM, { namespace: "default", labelSelector: "pick=yes" });
  const labelledEvents = first(labelled);
  await Bun.sleep(20);
  await c.create(CM, { metadata: { name: "no", namespace: "default", labels: { pick: "no" } } });
  await c.create(CM, { metadata: { name: "yes", namespace: "default", labels: { pick: "yes" } } });
  expect((await labelledEvents).map((e) => e.object.metadata.name)).toEqual(["yes"]);

  const hpas = c.watch(HPA_V1, { namespace: "default" });
  const hpaEvents = first(hpas);
  await Bun.sleep(20);
  await c.create(HPA_V1, {
    metadata: { name: "web", namespace: "default" },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, maxReplicas: 3, targetCPUUtilizationPercentage: 50 },
  } as KubeObject);
  const [h] = await hpaEvents;
  expect(h!.object.apiVersion).toBe("autoscaling/v1");
  expect((h!.object as unknown as { spec: { targetCPUUtilizationPercentage?: number } }).spec.targetCPUUtilizationPercentage).toBe(50);

  await kernel.store.compact(Number((await c.list(CM, { namespace: "default" })).metadata.resourceVersion));
  const old = c.watch(CM, { namespace: "default", resourceVersion: "1" });
  await expect(first(old)).rejects.toMatchObject({ code: 410 });
});

test("deepFreeze freezes children before parents and leaves frozen subtrees alone", () => {
  const shared = deepFreeze({ x: [1, { y: 2 }] });
  const o = deepFreeze({ a: shared, b: { c: "d" } });
  expect(Object.isFrozen(o.b)).toBe(true);
  expect(Object.isFrozen((shared.x as unknown[])[1])).toBe(true);
  expect(deepFreeze(null)).toBeNull();
  expect(deepFreeze(3)).toBe(3);
});

test("informers drop managedFields unless told to keep them, in-process and over HTTP alike", async () => {
  kernel = await createKernel({ memory: true, inlineControllers: false, listen: { host: "127.0.0.1", port: 0 } });
  const { SharedInformerFactory } = await import("../client/informer.ts");
  const http = httpClient({ server: kernel.url!, fetch: tlsFetch(kernel.clientTls!) });
  const factories = [
    new SharedInformerFactory(kernel.client),
    new SharedInformerFactory(http),
    new SharedInformerFactory(kernel.client, { keepManagedFields: true }),
  ];
  await kernel.client.create(CM, { metadata: { name: "listed", namespace: "default" }, data: { k: "v" } });
  const informers = factories.map((f) => f.informer(CM, { namespace: "default" }));
  for (const f of factories) f.start();
  for (const i of informers) await i.waitForSync();
  await kernel.client.create(CM, { metadata: { name: "watched", namespace: "default" }, data: { k: "v" } });
  for (const name of ["listed", "watched"]) {
    for (const i of informers) {
      const o = await waitFor(() => i.get(name, "default"));
      expect(o.metadata.managedFields === undefined).toBe(i !== informers[2]);
      expect(o.data).toEqual({ k: "v" });
    }
  }
  // The shared, frozen original still has them for everyone else.
  const w = kernel.client.watch(CM, { namespace: "default" });
  const [e] = await first(w);
  expect(e!.object.metadata.managedFields?.length).toBe(1);
  for (const f of factories) await f.stop();
});

async function waitFor<T>(f: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = f();
    if (v !== undefined) return v;
    await Bun.sleep(10);
  }
  throw new Error("timed out");
}
