import { afterEach, describe, expect, test } from "bun:test";
import pino from "pino";
import type { KubeObject } from "../api/meta.ts";
import { createKernel, type Kernel } from "../kernel.ts";
import { tlsFetch } from "../server/pki/tls-client.ts";
import { httpClient, inProcessClient } from "./fetch-client.ts";
import { NAMESPACE_INDEX, SharedInformer, SharedInformerFactory, type InformerOptions } from "./informer.ts";
import { FaultyFetch, isList, isWatch } from "./testing.ts";
import type { Client, ResourceRef } from "./types.ts";

const CONFIGMAPS: ResourceRef = { group: "", version: "v1", resource: "configmaps" };
const NODES: ResourceRef = { group: "", version: "v1", resource: "nodes", namespaced: false };

function cm(name: string, opts: { namespace?: string; labels?: Record<string, string>; data?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: opts.namespace ?? "default", ...(opts.labels ? { labels: opts.labels } : {}) },
    data: opts.data ?? { k: "v" },
  };
}

async function until(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const deadline = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function capture(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

/** Records handler calls as `add a`, `update a`, `delete a`. */
function journal<T extends KubeObject>(inf: SharedInformer<T>): string[] {
  const out: string[] = [];
  inf.on({
    add: (o) => out.push(`add ${o.metadata.name}`),
    update: (o, n) => out.push(`update ${n.metadata.name} ${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`),
    delete: (o) => out.push(`delete ${o.metadata.name}`),
  });
  return out;
}

describe("SharedInformer", () => {
  let kernel: Kernel;
  let faulty: FaultyFetch;
  let client: Client;
  const informers: SharedInformer<KubeObject>[] = [];

  async function setup(): Promise<void> {
    kernel = await createKernel({ memory: true });
    faulty = new FaultyFetch(kernel.api.app.fetch);
    client = inProcessClient(faulty.fetch);
  }

  function informer(ref: ResourceRef, opts: InformerOptions = {}): SharedInformer<KubeObject> {
    const inf = new SharedInformer(client, ref, { backoff: { initialMs: 10, maxMs: 80 }, log: pino({ level: "silent" }), ...opts });
    informers.push(inf);
    return inf;
  }

  const lists = () => faulty.count((r) => isList(r, r.url));
  const watches = () => faulty.requests.filter((r) => r.url.searchParams.get("watch") === "1");

  afterEach(async () => {
    for (const i of informers.splice(0)) await i.stop();
    await kernel?.stop();
  });

  test("lists, then watches: handlers see adds, updates and deletes; on() replays the cache", async () => {
    await setup();
    await client.create(CONFIGMAPS, cm("a"));
    await client.create(CONFIGMAPS, cm("b"));
    const inf = informer(CONFIGMAPS, { namespace: "default" });
    inf.start();
    await inf.waitForSync();
    expect(inf.hasSynced()).toBe(true);
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual(["a", "b"]);
    const events = journal(inf);
    expect(events.sort()).toEqual(["add a", "add b"]);
    events.length = 0;
    const a = inf.get("a", "default")!;
    const a2 = await client.update(CONFIGMAPS, { ...a, data: { k: "2" } });
    await client.create(CONFIGMAPS, cm("c"));
    await client.delete(CONFIGMAPS, "b", { namespace: "default" });
    await client.create(CONFIGMAPS, cm("elsewhere", { namespace: "kube-system" }));
    await until(() => events.length === 3, 3000, "three events");
    expect(events).toEqual([`update a ${a.metadata.resourceVersion}->${a2.metadata.resourceVersion}`, "add c", "delete b"]);
    expect(inf.getByKey("default/a")?.data).toEqual({ k: "2" });
    expect(inf.get("b", "default")).toBeUndefined();
    // The last event was the delete, after c's creation; the kube-system write is not this informer's.
    const cRv = Number((await client.get(CONFIGMAPS, "c", { namespace: "default" })).metadata.resourceVersion);
    expect(Number(inf.resourceVersion)).toBe(cRv + 1);
    expect(inf.list("kube-system")).toEqual([]);
    // It watched with bookmarks from the list's resourceVersion.
    const w = watches()[0]!.url.searchParams;
    expect(w.get("allowWatchBookmarks")).toBe("true");
    expect(Number(w.get("resourceVersion"))).toBeGreaterThan(0);
  });

  test("cluster-scoped resources are keyed by name", async () => {
    await setup();
    await client.create(NODES, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    const inf = informer(NODES);
    inf.start();
    await inf.waitForSync();
    expect(inf.getByKey("n1")?.metadata.name).toBe("n1");
    expect(inf.get("n1")?.metadata.name).toBe("n1");
    expect(inf.byIndex(NAMESPACE_INDEX, "").length).toBe(1);
  });

  test("indexes follow adds, updates and deletes; the namespace index is built in", async () => {
    await setup();
    await client.create(CONFIGMAPS, cm("a", { labels: { app: "web" } }));
    await client.create(CONFIGMAPS, cm("b", { labels: { app: "db" }, namespace: "kube-system" }));
    const inf = informer(CONFIGMAPS);
    inf.start();
    await inf.waitForSync();
    // Added after the first list: built from the cache.
    inf.addIndex("app", (o) => (o.metadata.labels?.app ? [o.metadata.labels.app] : []));
    expect(() => inf.addIndex("app", () => [])).toThrow("already has an index");
    expect(() => inf.byIndex("nope", "x")).toThrow("no index");
    expect(inf.byIndex("app", "web").map((o) => o.metadata.name)).toEqual(["a"]);
    expect(inf.list("kube-system").map((o) => o.metadata.name)).toEqual(["b"]);
    await client.patch(CONFIGMAPS, "a", "merge", { metadata: { labels: { app: "db" } } }, { namespace: "default" });
    await client.create(CONFIGMAPS, cm("c", { labels: { app: "web" } }));
    await until(() => inf.byIndex("app", "web").length === 1 && inf.byIndex("app", "web")[0]!.metadata.name === "c", 3000, "index update");
    expect(inf.byIndex("app", "db").map((o) => o.metadata.name).sort()).toEqual(["a", "b"]);
    await client.delete(CONFIGMAPS, "b", { namespace: "kube-system" });
    await until(() => inf.byIndex("app", "db").length === 1, 3000, "index delete");
    expect(inf.list("kube-system")).toEqual([]);
    expect(inf.list("default").map((o) => o.metadata.name).sort()).toEqual(["a", "c"]);
  });

  test("multi-valued indexes: values with one key, with several, shared and dropped, through updates and deletes", async () => {
    await setup();
    const tags = (o: KubeObject) => (o.metadata.labels?.tags ?? "").split(".").filter((t) => t !== "");
    await client.create(CONFIGMAPS, cm("a", { labels: { tags: "x.y.x" } })); // a duplicate value is one entry
    await client.create(CONFIGMAPS, cm("b", { labels: { tags: "y" } }));
    const inf = informer(CONFIGMAPS, { namespace: "default" });
    inf.addIndex("tags", tags);
    inf.start();
    await inf.waitForSync();
    const names = (v: string) => inf.byIndex("tags", v).map((o) => o.metadata.name).sort();
    expect([names("x"), names("y"), names("z")]).toEqual([["a"], ["a", "b"], []]);
    // y loses a (down to one key), z gains it, x keeps it.
    await client.patch(CONFIGMAPS, "a", "merge", { metadata: { labels: { tags: "x.z" } } }, { namespace: "default" });
    await until(() => names("z").length === 1, 3000, "a re-indexed");
    expect([names("x"), names("y"), names("z")]).toEqual([["a"], ["b"], ["a"]]);
    // A change that leaves the values alone keeps the entries.
    await client.patch(CONFIGMAPS, "a", "merge", { data: { k: "v" } }, { namespace: "default" });
    await until(() => (inf.get("a", "default") as { data?: Record<string, string> } | undefined)?.data?.k === "v", 3000, "a updated");
    expect([names("x"), names("y"), names("z")]).toEqual([["a"], ["b"], ["a"]]);
    // y gains keys again after shrinking to one.
    await client.create(CONFIGMAPS, cm("c", { labels: { tags: "y.z" } }));
    await until(() => names("y").length === 2, 3000, "c indexed");
    expect([names("y"), names("z")]).toEqual([["b", "c"], ["a", "c"]]);
    await client.delete(CONFIGMAPS, "b", { namespace: "default" });
    await client.delete(CONFIGMAPS, "a", { namespace: "default" });
    await until(() => names("x").length === 0, 3000, "deletes unindexed");
    expect([names("x"), names("y"), names("z")]).toEqual([[], ["c"], ["c"]]);
    // A value down to one key takes a second again.
    await client.create(CONFIGMAPS, cm("d", { labels: { tags: "y" } }));
    await until(() => names("y").length === 2, 3000, "d indexed");
    expect(names("y")).toEqual(["c", "d"]);
  });

  test("an index function that throws is logged and leaves the object out of that index only", async () => {
    await setup();
    await client.create(CONFIGMAPS, cm("ok", { labels: { app: "web" } }));
    await client.create(CONFIGMAPS, cm("bad", { labels: { app: "boom" } }));
    const inf = informer(CONFIGMAPS, { namespace: "default" });
    inf.addIndex("app", (o) => {
      if (o.metadata.labels?.app === "boom") throw new Error("boom");
      return [o.metadata.labels?.app ?? ""];
    });
    inf.start();
    await inf.waitForSync();
    expect(inf.byIndex("app", "web").map((o) => o.metadata.name)).toEqual(["ok"]);
    expect(inf.byIndex("app", "boom")).toEqual([]);
    expect(inf.list("default").map((o) => o.metadata.name).sort()).toEqual(["bad", "ok"]);
    // Its update out of the throwing state indexes it; its delete unindexes it.
    await client.patch(CONFIGMAPS, "bad", "merge", { metadata: { labels: { app: "web" } } }, { namespace: "default" });
    await until(() => inf.byIndex("app", "web").length === 2, 3000, "bad indexed");
    await client.delete(CONFIGMAPS, "bad", { namespace: "default" });
    await until(() => inf.byIndex("app", "web").length === 1, 3000, "bad unindexed");
    expect(inf.byIndex("app", "web").map((o) => o.metadata.name)).toEqual(["ok"]);
  });

  test("410 Expired relists and emits the differences: deletes for objects gone", async () => {
    await setup();
    await client.create(CONFIGMAPS, cm("stays"));
    await client.create(CONFIGMAPS, cm("changes"));
    await client.create(CONFIGMAPS, cm("goes"));
    const inf = informer(CONFIGMAPS, { namespace: "default" });
    inf.start();
    await inf.waitForSync();
    const events = journal(inf);
    events.length = 0;
    const listsBefore = lists();
    // Keep the informer from watching while the world changes and history is compacted.
    faulty.fail({ match: isWatch, times: Infinity, status: { code: 503, reason: "ServiceUnavailable" } });
    faulty.endWatches();
    await client.delete(CONFIGMAPS, "goes", { namespace: "default" });
    await client.patch(CONFIGMAPS, "changes", "merge", { data: { k: "new" } }, { namespace: "default" });
    await client.create(CONFIGMAPS, cm("new"));
    await kernel.store.compact(await kernel.store.currentRevision());
    expect(events).toEqual([]);
    faulty.heal();
    await until(() => events.length === 3, 3000, "relist events");
    expect(events.filter((e) => !e.startsWith("update")).sort()).toEqual(["add new", "delete goes"]);
    expect(events.filter((e) => e.startsWith("update"))).toEqual([expect.stringMatching(/^update changes \d+->\d+$/)]);
    expect(lists()).toBe(listsBefore + 1);
    expect(inf.list().map((o) => o.metadata.name).sort()).toEqual(["changes", "new", "stays"]);
    // Back to watching from the new list: later changes arrive as events.
    await client.delete(CONFIGMAPS, "stays", { namespace: "default" });
    await until(() => events.includes("delete stays"), 3000, "watch after relist");
  });

  test("a watch the server ends (timeoutSeconds) resumes from the last resourceVersion, without a relist", async () => {
    await setup();
    const inf = informer(CONFIGMAPS, { namespace: "default", watchTimeoutSeconds: 1 });
    inf.start();
    await inf.waitForSync();
    const events = journal(inf);
    const first = await client.create(CONFIGMAPS, cm("before-timeout"));
    await until(() => events.includes("add before-timeout"));
    await until(() => watches().length >= 2, 4000, "second watch");
    const second = watches()[1]!.url.searchParams;
    expect(second.get("resourceVersion")).toBe(first.metadata.resourceVersion!);
    expect(second.get("timeoutSeconds")).toBe("1");
    await client.create(CONFIGMAPS, cm("after-timeout"));
    await until(() => events.includes("add after-timeout"));
    expect(lists()).toBe(1);
    expect(events.filter((e) => e.startsWith("add before"))).toEqual(["add before-timeout"]);
  });

  test("a dropped stream and a 429 resume from the last resourceVersion, without a relist", async () => {
    await setup();
    const inf = informer(CONFIGMAPS, { namespace: "default" });
    inf.start();
    await inf.waitForSync();
    const events = journal(inf);
    await client.create(CONFIGMAPS, cm("one"));
    await until(() => events.includes("add one"));
    const rv = inf.resourceVersion;
    faulty.fail({ match: isWatch, status: { code: 429, reason: "TooManyRequests" } });
    faulty.endWatches();
    await until(() => watches().length >= 3, 3000, "retry after 429");
    for (const w of watches().slice(1)) expect(w.url.searchParams.get("resourceVersion")).toBe(rv);
    await client.create(CONFIGMAPS, cm("two"));
    await until(() => events.includes("add two"));
    expect(events).toEqual(["add one", "add two"]);
    expect(lists()).toBe(1);
  });

  test("backs off while the server is unreachable, then syncs; nothing is left unhandled", async () => {
    await setup();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      faulty.fail({ network: true, times: Infinity });
      const inf = informer(CONFIGMAPS, { backoff: { initialMs: 20, maxMs: 200 } });
      inf.start();
      await new Promise((r) => setTimeout(r, 300));
      const attempts = faulty.requests.length;
      // 20 + 40 + 80 + 160 ms (±20%): about five attempts in 300 ms, never a hot loop.
      expect(attempts).toBeGreaterThanOrEqual(3);
      expect(attempts).toBeLessThanOrEqual(7);
      expect(inf.hasSynced()).toBe(false);
      faulty.heal();
      await inf.waitForSync();
      expect(inf.hasSynced()).toBe(true);
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test("stop() closes the watch; waitForSync rejects when stopped before syncing", async () => {
    await setup();
    const inf = informer(CONFIGMAPS);
    inf.start();
    await inf.waitForSync();
    await until(() => faulty.openWatches === 1, 2000, "open watch");
    await inf.stop();
    expect(faulty.openWatches).toBe(0);
    const requests = faulty.requests.length;
    await client.create(CONFIGMAPS, cm("after-stop"));
    await new Promise((r) => setTimeout(r, 30));
    expect(faulty.requests.length).toBe(requests + 1); // only the create
    faulty.fail({ network: true, times: Infinity });
    const never = informer(CONFIGMAPS);
    never.start();
    const sync = never.waitForSync();
    await never.stop();
    await expect(sync).rejects.toThrow("stopped before it synced");
  });

  test("lists in pages; a continue token that expires mid-way falls back to one full list", async () => {
    await setup();
    for (let i = 0; i < 5; i++) await client.create(CONFIGMAPS, cm(`p${i}`));
    const paged = informer(CONFIGMAPS, { namespace: "default", pageSize: 2 });
    paged.start();
    await paged.waitForSync();
    expect(paged.list().length).toBe(5);
    const pages = faulty.requests.filter((r) => isList(r, r.url));
    expect(pages.map((r) => r.url.searchParams.get("limit"))).toEqual(["2", "2", "2"]);
    expect(pages.slice(1).every((r) => r.url.searchParams.has("continue"))).toBe(true);

    faulty.fail({ match: (_req, url) => url.searchParams.has("continue"), status: { code: 410, reason: "Expired" } });
    const fallback = informer(CONFIGMAPS, { namespace: "default", pageSize: 2 });
    fallback.start();
    await fallback.waitForSync();
    expect(fallback.list().map((o) => o.metadata.name).sort()).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    const last = faulty.requests.filter((r) => isList(r, r.url)).at(-1)!;
    expect(last.url.searchParams.has("limit")).toBe(false);
  });

  test("over HTTP: syncs, follows changes, and stop() closes the network watch at once", async () => {
    kernel = await createKernel({ memory: true, listen: { host: "127.0.0.1", port: 0 } });
    client = httpClient({ server: kernel.url!, fetch: tlsFetch(kernel.clientTls!) });
    const inf = informer(CONFIGMAPS, { namespace: "default" });
    inf.start();
    await inf.waitForSync();
    const events = journal(inf);
    await client.create(CONFIGMAPS, cm("net"));
    await until(() => events.includes("add net"));
    const t0 = performance.now();
    await inf.stop();
    expect(performance.now() - t0).toBeLessThan(500);
  });

  test("a throwing handler is logged and breaks neither the informer nor other handlers", async () => {
    await setup();
    const { log, lines } = capture();
    const inf = new SharedInformer(client, CONFIGMAPS, { log });
    informers.push(inf);
    inf.on({
      add: () => {
        throw new Error("handler bug");
      },
    });
    const events = journal(inf);
    inf.start();
    await inf.waitForSync();
    await client.create(CONFIGMAPS, cm("x"));
    await client.create(CONFIGMAPS, cm("y"));
    await until(() => events.length === 2);
    expect(events).toEqual(["add x", "add y"]);
    const errs = lines.filter((l) => l.msg === "informer handler threw");
    expect(errs.length).toBe(2);
    expect(errs[0]).toMatchObject({ handler: "add", key: "default/x", err: "handler bug", resource: "configmaps" });
  });
});

describe("SharedInformerFactory", () => {
  test("one informer per resource and selection; start, sync and stop together", async () => {
    const kernel = await createKernel({ memory: true });
    try {
      const client = inProcessClient(kernel.api.app.fetch);
      await client.create(CONFIGMAPS, cm("a", { labels: { app: "x" } }));
      const f = new SharedInformerFactory(client, { log: pino({ level: "silent" }) });
      const all = f.informer(CONFIGMAPS);
      expect(f.informer(CONFIGMAPS)).toBe(all);
      const sel = f.informer(CONFIGMAPS, { labelSelector: "app=x" });
      expect(sel).not.toBe(all);
      expect(f.informer(CONFIGMAPS, { namespace: "default" })).not.toBe(all);
      expect(all.hasSynced()).toBe(false);
      f.start();
      await f.waitForSync();
      expect(sel.list().map((o) => o.metadata.name)).toEqual(["a"]);
      // Asked for after start: started at once.
      const nodes = f.informer(NODES);
      await nodes.waitForSync();
      await f.stop();
      expect(all.stopped && sel.stopped && nodes.stopped).toBe(true);
      await expect(f.informer({ group: "", version: "v1", resource: "secrets" }).waitForSync()).rejects.toThrow("stopped");
    } finally {
      await kernel.stop();
    }
  });

  test("a transform keeps only what it returns, from the list and the watch; each transform has its own informer", async () => {
    const kernel = await createKernel({ memory: true });
    try {
      const client = inProcessClient(kernel.api.app.fetch);
      await client.create(CONFIGMAPS, cm("a", { labels: { app: "x" }, data: { big: "x".repeat(1000) } }));
      const f = new SharedInformerFactory(client, { log: pino({ level: "silent" }) });
      const seen: string[] = [];
      const transform = {
        name: "labels-only",
        fn: (o: KubeObject): KubeObject => {
          seen.push(o.metadata.name!);
          const { name, namespace, uid, resourceVersion, labels } = o.metadata;
          return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name, namespace, uid, resourceVersion, ...(labels ? { labels } : {}) } };
        },
      };
      const slim = f.informer(CONFIGMAPS, { transform });
      expect(f.informer(CONFIGMAPS, { transform })).toBe(slim);
      const whole = f.informer(CONFIGMAPS);
      expect(whole).not.toBe(slim);
      const deleted: KubeObject[] = [];
      slim.on({ delete: (o) => deleted.push(o) });
      f.start();
      await f.waitForSync();
      expect(slim.get("a", "default")).toEqual({ apiVersion: "v1", kind: "ConfigMap", metadata: expect.objectContaining({ name: "a", labels: { app: "x" } }) });
      expect((whole.get("a", "default") as { data?: Record<string, string> }).data?.big).toHaveLength(1000);
      await client.create(CONFIGMAPS, cm("b", { data: { k: "v" } }));
      await client.patch(CONFIGMAPS, "a", "merge", { metadata: { labels: { app: "y" } } }, { namespace: "default" });
      await until(() => slim.get("a", "default")?.metadata.labels?.app === "y" && slim.get("b", "default") !== undefined, 3000, "watched changes");
      expect("data" in slim.get("b", "default")!).toBe(false);
      expect(slim.byIndex(NAMESPACE_INDEX, "default").length).toBe(2);
      await client.delete(CONFIGMAPS, "b", { namespace: "default" });
      await until(() => deleted.length === 1, 3000, "delete");
      expect("data" in deleted[0]!).toBe(false);
      expect(seen).toEqual(["a", "b", "a", "b"]); // list a; watch: add b, update a, delete b
      await f.stop();
    } finally {
      await kernel.stop();
    }
  });
});
