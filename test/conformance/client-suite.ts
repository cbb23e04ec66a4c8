/**
 * @module The `Client` contract, as one suite every transport runs
 * (`clientConformance(name, open)`): CRUD on namespaced and cluster-scoped
 * kinds, the Status reasons of failures, the four patch types, dry runs,
 * deletion options, lists with selectors and paging, watches (order,
 * resume, bookmarks, timeouts, 410), subresources, and that writes leave
 * their input alone. Each test runs against its own in-memory kernel.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ApiError } from "../../core/api/errors.ts";
import type { KubeObject } from "../../core/api/meta.ts";
import type { Kernel, KernelOptions } from "../../core/kernel.ts";
import type { Client, ResourceRef, WatchEvent, WatchStream } from "../../core/client/types.ts";

export interface ClientHarness {
  client: Client;
  kernel: Kernel;
}

/** Starts a kernel (with these store options) and a client of the transport under test. */
export type OpenClient = (opts?: { store?: KernelOptions["store"] }) => Promise<ClientHarness>;

export const PODS: ResourceRef = { group: "", version: "v1", resource: "pods" };
export const CONFIGMAPS: ResourceRef = { group: "", version: "v1", resource: "configmaps" };
export const NODES: ResourceRef = { group: "", version: "v1", resource: "nodes", namespaced: false };
export const NAMESPACES: ResourceRef = { group: "", version: "v1", resource: "namespaces", namespaced: false };
export const DEPLOYMENTS: ResourceRef = { group: "apps", version: "v1", resource: "deployments" };

export function cm(name: string, extra: { labels?: Record<string, string>; data?: Record<string, string>; namespace?: string } = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: extra.namespace ?? "default", ...(extra.labels ? { labels: extra.labels } : {}) },
    data: extra.data ?? { k: "v" },
  };
}

export function pod(name: string, extra: { nodeName?: string } = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: name } },
    spec: { containers: [{ name: "c", image: "busybox" }], ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) },
  };
}

export function deployment(name: string): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: "a", image: "nginx:1" },
            { name: "b", image: "redis:1" },
          ],
        },
      },
    },
  };
}

/** Awaits `p`, failing the test after `ms`. */
export async function within<T>(p: Promise<T>, ms = 3000, what = "operation"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The ApiError `p` rejects with; fails unless it has this reason (and code). */
export async function rejects(p: Promise<unknown>, reason: ApiError["reason"], code?: number): Promise<ApiError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new Error(`expected a rejection with ${reason}, got success`);
  expect(err).toBeInstanceOf(ApiError);
  const a = err as ApiError;
  expect(a.reason).toBe(reason);
  if (code !== undefined) expect(a.code).toBe(code);
  return a;
}

/** Reads a watch one event at a time, each within a deadline. */
export function reader<T extends KubeObject>(w: WatchStream<T>) {
  const it = w[Symbol.asyncIterator]();
  return {
    /** The next event, or undefined when the stream ended. */
    async next(ms = 3000): Promise<WatchEvent<T> | undefined> {
      const r = await within(it.next(), ms, "watch event");
      return r.done ? undefined : r.value;
    },
    /** The next `n` events that are not bookmarks. */
    async take(n: number, ms = 3000): Promise<WatchEvent<T>[]> {
      const out: WatchEvent<T>[] = [];
      while (out.length < n) {
        const ev = await this.next(ms);
        if (!ev) throw new Error(`watch ended after ${out.length} of ${n} events`);
        if (ev.type !== "BOOKMARK") out.push(ev);
      }
      return out;
    },
  };
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object") {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

const rv = (o: KubeObject): number => Number(o.metadata.resourceVersion);

export function clientConformance(name: string, open: OpenClient): void {
  describe(`client conformance: ${name}`, () => {
    const kernels: Kernel[] = [];
    const mk = async (opts?: { store?: KernelOptions["store"] }): Promise<Client> => {
      const h = await open(opts);
      kernels.push(h.kernel);
      return h.client;
    };
    const kernel = (): Kernel => kernels[kernels.length - 1]!;
    afterEach(async () => {
      for (const k of kernels.splice(0)) await k.stop();
    });

    // ---- discovery -------------------------------------------------------------

    test("discover lists served resources with kind, scope and verbs, and no subresources", async () => {
      const c = await mk();
      const all = await c.discover();
      const find = (g: string, v: string, r: string) => all.find((x) => x.group === g && x.version === v && x.resource === r);
      expect(find("", "v1", "pods")).toMatchObject({ kind: "Pod", namespaced: true });
      expect(find("", "v1", "pods")!.verbs).toContain("watch");
      expect(find("", "v1", "nodes")).toMatchObject({ kind: "Node", namespaced: false });
      expect(find("apps", "v1", "deployments")).toMatchObject({ kind: "Deployment", namespaced: true });
      expect(find("autoscaling", "v2", "horizontalpodautoscalers")).toBeDefined();
      expect(all.some((x) => x.resource.includes("/"))).toBe(false);
    });

    // ---- CRUD and failures ----------------------------------------------------

    test("create, get, update and delete a namespaced object", async () => {
      const c = await mk();
      const created = await c.create(CONFIGMAPS, cm("a"));
      expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.kind).toBe("ConfigMap");
      const got = await c.get(CONFIGMAPS, "a", { namespace: "default" });
      expect(got).toEqual(created);
      const updated = await c.update(CONFIGMAPS, { ...got, data: { k: "w" } });
      expect(updated.data).toEqual({ k: "w" });
      expect(rv(updated)).toBeGreaterThan(rv(created));
      await c.delete(CONFIGMAPS, "a", { namespace: "default" });
      await rejects(c.get(CONFIGMAPS, "a", { namespace: "default" }), "NotFound", 404);
    });

    test("cluster-scoped kinds: nodes and namespaces", async () => {
      const c = await mk();
      const node = await c.create<KubeObject>(NODES, { apiVersion: "v1", kind: "Node", metadata: { name: "n1", labels: { zone: "a" } } });
      expect(node.metadata.namespace).toBeUndefined();
      expect((await c.get(NODES, "n1")).metadata.uid).toBe(node.metadata.uid!);
      const nodes = await c.list(NODES, { labelSelector: "zone=a" });
      expect(nodes.items.map((n) => n.metadata.name)).toEqual(["n1"]);
      expect(nodes.kind).toBe("NodeList");
      await c.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } });
      await c.create(CONFIGMAPS, cm("x", { namespace: "team-a" }));
      expect((await c.list(CONFIGMAPS, { namespace: "team-a" })).items.map((i) => i.metadata.name)).toEqual(["x"]);
      const all = await c.list(CONFIGMAPS);
      expect(all.items.some((i) => i.metadata.namespace === "team-a")).toBe(true);
      await c.delete(NODES, "n1");
      await rejects(c.get(NODES, "n1"), "NotFound");
    });

    test("create takes the namespace from opts when the object has none", async () => {
      const c = await mk();
      const o = cm("opt");
      delete o.metadata.namespace;
      const created = await c.create(CONFIGMAPS, o, { namespace: "kube-system" });
      expect(created.metadata.namespace).toBe("kube-system");
      await rejects(c.create(CONFIGMAPS, cm("nons", { namespace: "" })), "BadRequest", 400);
      await rejects(c.get(CONFIGMAPS, "opt"), "BadRequest", 400);
    });

    test("generateName", async () => {
      const c = await mk();
      const o = cm("");
      o.metadata = { generateName: "gen-", namespace: "default" };
      const a = await c.create(CONFIGMAPS, o);
      const b = await c.create(CONFIGMAPS, o);
      expect(a.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
      expect(b.metadata.name).not.toBe(a.metadata.name);
    });

    test("AlreadyExists, Conflict on a stale update, NotFound", async () => {
      const c = await mk();
      const a = await c.create(CONFIGMAPS, cm("a"));
      await rejects(c.create(CONFIGMAPS, cm("a")), "AlreadyExists", 409);
      await c.update(CONFIGMAPS, { ...a, data: { k: "1" } });
      const err = await rejects(c.update(CONFIGMAPS, { ...a, data: { k: "2" } }), "Conflict", 409);
      expect(err.message).toContain("the object has been modified");
      expect(err.details?.name).toBe("a");
      await rejects(c.get(CONFIGMAPS, "nope", { namespace: "default" }), "NotFound", 404);
      await rejects(c.delete(CONFIGMAPS, "nope", { namespace: "default" }), "NotFound", 404);
      await rejects(c.patch(CONFIGMAPS, "nope", "merge", { data: {} }, { namespace: "default" }), "NotFound", 404);
      await rejects(c.create(CONFIGMAPS, cm("a", { namespace: "missing" })), "NotFound", 404);
    });

    test("invalid objects and strict field validation carry the server's Status", async () => {
      const c = await mk();
      const bad = pod("bad");
      (bad.spec as { containers: unknown[] }).containers = [];
      const invalid = await rejects(c.create(PODS, bad), "Invalid", 422);
      expect(invalid.details?.causes?.length).toBeGreaterThan(0);
      expect(invalid.details?.kind).toBe("Pod");
      const unknown = { ...cm("u"), bogus: 1 };
      await rejects(c.create(CONFIGMAPS, unknown, { fieldValidation: "Strict" }), "BadRequest", 400);
      expect((await c.create(CONFIGMAPS, unknown, { fieldValidation: "Ignore" })).bogus).toBeUndefined();
    });

    test("updateStatus changes only status; update leaves status alone", async () => {
      const c = await mk();
      const p = await c.create(PODS, pod("p"));
      const withStatus = await c.updateStatus<KubeObject>(PODS, { ...p, metadata: { ...p.metadata, labels: { changed: "yes" } }, status: { phase: "Running" } });
      expect((withStatus.status as { phase: string }).phase).toBe("Running");
      expect(withStatus.metadata.labels).toEqual({ app: "p" });
      const updated = await c.update<KubeObject>(PODS, { ...withStatus, metadata: { ...withStatus.metadata, labels: { app: "p", x: "1" } }, status: { phase: "Failed" } });
      expect(updated.metadata.labels).toEqual({ app: "p", x: "1" });
      expect((updated.status as { phase: string }).phase).toBe("Running");
    });

    // ---- patches --------------------------------------------------------------------

    test("json, merge and strategic-merge patches", async () => {
      const c = await mk();
      await c.create(CONFIGMAPS, cm("p", { data: { a: "1", b: "2" } }));
      const j = await c.patch(CONFIGMAPS, "p", "json", [{ op: "add", path: "/data/c", value: "3" }, { op: "remove", path: "/data/a" }], { namespace: "default" });
      expect(j.data).toEqual({ b: "2", c: "3" });
      const m = await c.patch(CONFIGMAPS, "p", "merge", { data: { b: null, d: "4" } }, { namespace: "default" });
      expect(m.data).toEqual({ c: "3", d: "4" });
      await c.create(DEPLOYMENTS, deployment("d"));
      const s = await c.patch<KubeObject & { spec: { template: { spec: { containers: { name: string; image: string }[] } } } }>(
        DEPLOYMENTS,
        "d",
        "strategic",
        { spec: { template: { spec: { containers: [{ name: "b", image: "redis:2" }] } } } },
        { namespace: "default" },
      );
      // Strategic merge merges the list by name; a merge patch would have replaced it.
      expect(s.spec.template.spec.containers.map((x) => `${x.name}=${x.image}`)).toEqual(["a=nginx:1", "b=redis:2"]);
      await rejects(c.patch(CONFIGMAPS, "p", "json", [{ op: "test", path: "/data/c", value: "nope" }], { namespace: "default" }), "Invalid");
    });

    test("a patch of the status subresource", async () => {
      const c = await mk();
      await c.create(PODS, pod("s"));
      const p = await c.patch(PODS, "s", "merge", { status: { phase: "Running" }, metadata: { labels: { ignored: "y" } } }, { namespace: "default", subresource: "status" });
      expect((p.status as { phase: string }).phase).toBe("Running");
      expect(p.metadata.labels).toEqual({ app: "s" });
    });

    test("server-side apply: creates, tracks managers, conflicts unless forced", async () => {
      const c = await mk();
      const applied = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ap", namespace: "default" }, data: { a: "1" } };
      const created = await c.patch(CONFIGMAPS, "ap", "apply", applied, { namespace: "default", fieldManager: "alice" });
      expect(created.data).toEqual({ a: "1" });
      expect(created.metadata.managedFields?.map((f) => `${f.manager}:${f.operation}`)).toEqual(["alice:Apply"]);
      const other = { ...applied, data: { a: "2" } };
      const conflict = await rejects(c.patch(CONFIGMAPS, "ap", "apply", other, { namespace: "default", fieldManager: "bob" }), "Conflict", 409);
      expect(conflict.message).toContain("alice");
      const forced = await c.patch(CONFIGMAPS, "ap", "apply", other, { namespace: "default", fieldManager: "bob", force: true });
      expect(forced.data).toEqual({ a: "2" });
      // A YAML body is sent as is.
      const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ap\n  namespace: default\ndata:\n  b: '3'\n";
      const fromYaml = await c.patch(CONFIGMAPS, "ap", "apply", yaml, { namespace: "default", fieldManager: "carol" });
      expect(fromYaml.data).toEqual({ a: "2", b: "3" });
    });

    test("the client's field manager is the default", async () => {
      const c = await mk();
      const created = await c.create(CONFIGMAPS, cm("fm"));
      const manager = created.metadata.managedFields?.[0]?.manager;
      expect(manager).toBeTruthy();
      expect(manager).not.toBe("unknown");
      const applied = await c.patch(CONFIGMAPS, "fm2", "apply", cm("fm2"), { namespace: "default" });
      expect(applied.metadata.managedFields?.[0]?.manager).toBe(manager!);
    });

    // ---- dry run and deletion -----------------------------------------------------------

    test("dry run writes nothing", async () => {
      const c = await mk();
      const dry = await c.create(CONFIGMAPS, cm("dry"), { dryRun: true });
      expect(dry.metadata.name).toBe("dry");
      await rejects(c.get(CONFIGMAPS, "dry", { namespace: "default" }), "NotFound");
      const real = await c.create(CONFIGMAPS, cm("real"));
      await c.update(CONFIGMAPS, { ...real, data: { k: "dry" } }, { dryRun: true });
      await c.patch(CONFIGMAPS, "real", "merge", { data: { k: "dry" } }, { namespace: "default", dryRun: true });
      await c.delete(CONFIGMAPS, "real", { namespace: "default", dryRun: true });
      await c.deleteCollection(CONFIGMAPS, { namespace: "default", dryRun: true });
      const after = await c.get(CONFIGMAPS, "real", { namespace: "default" });
      expect(after.data).toEqual({ k: "v" });
      expect(after.metadata.resourceVersion).toBe(real.metadata.resourceVersion!);
    });

    test("delete with preconditions", async () => {
      const c = await mk();
      const a = await c.create(CONFIGMAPS, cm("a"));
      await rejects(c.delete(CONFIGMAPS, "a", { namespace: "default", preconditions: { uid: "00000000-0000-0000-0000-000000000000" } }), "Conflict", 409);
      await rejects(c.delete(CONFIGMAPS, "a", { namespace: "default", preconditions: { resourceVersion: "1" } }), "Conflict", 409);
      const out = await c.delete(CONFIGMAPS, "a", { namespace: "default", preconditions: { uid: a.metadata.uid!, resourceVersion: a.metadata.resourceVersion! } });
      // Kinds other than pods and namespaces answer a completed delete with a Status.
      expect(out.kind).toBe("Status");
      await rejects(c.get(CONFIGMAPS, "a", { namespace: "default" }), "NotFound");
      await c.create(PODS, pod("p"));
      const deletedPod = await c.delete(PODS, "p", { namespace: "default" });
      expect(deletedPod.kind).toBe("Pod");
      expect(deletedPod.metadata.name).toBe("p");
    });

    test("propagationPolicy: Foreground and Orphan hold the object with a finalizer; Background deletes", async () => {
      const c = await mk();
      // A finalizer of our own keeps the object around after the garbage collector has done its part.
      const held = (name: string) => ({ ...cm(name), metadata: { ...cm(name).metadata, finalizers: ["example.com/hold"] } });
      await c.create(CONFIGMAPS, held("fg"));
      const fg = await c.delete(CONFIGMAPS, "fg", { namespace: "default", propagationPolicy: "Foreground" });
      expect(fg.metadata.deletionTimestamp).toBeTruthy();
      expect(fg.metadata.finalizers).toContain("foregroundDeletion");
      await c.create(CONFIGMAPS, held("or"));
      const or = await c.delete(CONFIGMAPS, "or", { namespace: "default", propagationPolicy: "Orphan" });
      expect(or.metadata.finalizers).toContain("orphan");
      await c.create(CONFIGMAPS, cm("bg"));
      await c.delete(CONFIGMAPS, "bg", { namespace: "default", propagationPolicy: "Background" });
      await rejects(c.get(CONFIGMAPS, "bg", { namespace: "default" }), "NotFound");
      await rejects(c.delete(CONFIGMAPS, "fg", { namespace: "default", propagationPolicy: "Sideways" as "Orphan" }), "Invalid", 422);
    });

    test("a graceful pod delete returns the pod still there", async () => {
      const c = await mk();
      await c.create(NODES, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
      await c.create(PODS, pod("g", { nodeName: "n1" }));
      const out = await c.delete(PODS, "g", { namespace: "default", gracePeriodSeconds: 30 });
      expect(out.metadata.deletionTimestamp).toBeTruthy();
      expect(out.metadata.deletionGracePeriodSeconds).toBe(30);
      expect((await c.get(PODS, "g", { namespace: "default" })).metadata.deletionTimestamp).toBeTruthy();
    });

    test("deleteCollection by label selector", async () => {
      const c = await mk();
      await c.create(CONFIGMAPS, cm("a", { labels: { tier: "x" } }));
      await c.create(CONFIGMAPS, cm("b", { labels: { tier: "x" } }));
      await c.create(CONFIGMAPS, cm("c", { labels: { tier: "y" } }));
      await c.deleteCollection(CONFIGMAPS, { namespace: "default", labelSelector: "tier=x" });
      const left = await c.list(CONFIGMAPS, { namespace: "default", labelSelector: "tier" });
      expect(left.items.map((i) => i.metadata.name)).toEqual(["c"]);
    });

    // ---- lists ------------------------------------------------------------------------

    test("list with label and field selectors, limit and continue", async () => {
      const c = await mk();
      for (let i = 0; i < 7; i++) await c.create(CONFIGMAPS, cm(`cm-${i}`, { labels: { parity: i % 2 ? "odd" : "even", suite: "list" } }));
      const odd = await c.list(CONFIGMAPS, { namespace: "default", labelSelector: "parity=odd" });
      expect(odd.items.map((i) => i.metadata.name)).toEqual(["cm-1", "cm-3", "cm-5"]);
      expect(odd.metadata.resourceVersion).toMatch(/^\d+$/);
      const one = await c.list(CONFIGMAPS, { namespace: "default", fieldSelector: "metadata.name=cm-4" });
      expect(one.items.map((i) => i.metadata.name)).toEqual(["cm-4"]);
      const names: string[] = [];
      let cont: string | undefined;
      let pages = 0;
      do {
        const page = await c.list(CONFIGMAPS, { namespace: "default", labelSelector: "suite=list", limit: 3, ...(cont ? { continue: cont } : {}) });
        expect(page.items.length).toBeLessThanOrEqual(3);
        names.push(...page.items.map((i) => i.metadata.name!));
        cont = page.metadata.continue;
        pages++;
      } while (cont);
      expect(pages).toBe(3);
      expect(names).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `cm-${i}`));
      await rejects(c.list(CONFIGMAPS, { namespace: "default", labelSelector: "a in (" }), "BadRequest", 400);
      await rejects(c.list(CONFIGMAPS, { namespace: "default", fieldSelector: "data.k=v" }), "BadRequest", 400);
    });

    test("list at an exact resourceVersion", async () => {
      const c = await mk();
      const a = await c.create(CONFIGMAPS, cm("a"));
      await c.create(CONFIGMAPS, cm("b"));
      const old = await c.list(CONFIGMAPS, { namespace: "default", resourceVersion: a.metadata.resourceVersion!, resourceVersionMatch: "Exact" });
      expect(old.items.map((i) => i.metadata.name)).toEqual(["a"]);
      expect(old.metadata.resourceVersion).toBe(a.metadata.resourceVersion!);
    });

    // ---- watches ------------------------------------------------------------------------

    test("watch: ADDED, MODIFIED, DELETED in order from a resourceVersion", async () => {
      const c = await mk();
      const start = (await c.list(CONFIGMAPS, { namespace: "default" })).metadata.resourceVersion!;
      const w = c.watch(CONFIGMAPS, { namespace: "default", resourceVersion: start });
      const r = reader(w);
      const a = await c.create(CONFIGMAPS, cm("w"));
      await c.update(CONFIGMAPS, { ...a, data: { k: "2" } });
      await c.delete(CONFIGMAPS, "w", { namespace: "default" });
      await c.create(CONFIGMAPS, cm("other", { namespace: "kube-system" }));
      const evs = await r.take(3);
      expect(evs.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED w", "MODIFIED w", "DELETED w"]);
      expect(evs[1]!.object.data).toEqual({ k: "2" });
      const rvs = evs.map((e) => rv(e.object));
      expect([...rvs].sort((x, y) => x - y)).toEqual(rvs);
      expect(rvs[0]).toBeGreaterThan(Number(start));
      w.close();
    });

    test("watch with selectors sees objects enter and leave the selection", async () => {
      const c = await mk();
      const start = (await c.list(CONFIGMAPS)).metadata.resourceVersion!;
      const r = reader(c.watch(CONFIGMAPS, { resourceVersion: start, labelSelector: "sel=yes" }));
      const o = await c.create(CONFIGMAPS, cm("s", { labels: { sel: "no" } }));
      const in1 = await c.patch(CONFIGMAPS, "s", "merge", { metadata: { labels: { sel: "yes" } } }, { namespace: "default" });
      await c.patch(CONFIGMAPS, "s", "merge", { metadata: { labels: { sel: "no" } } }, { namespace: "default" });
      const evs = await r.take(2);
      expect(evs.map((e) => e.type)).toEqual(["ADDED", "DELETED"]);
      expect(evs[0]!.object.metadata.resourceVersion).toBe(in1.metadata.resourceVersion!);
      expect(o.metadata.name).toBe("s");
    });

    test("watch resumes from the last resourceVersion seen, missing nothing", async () => {
      const c = await mk();
      const start = (await c.list(CONFIGMAPS, { namespace: "default" })).metadata.resourceVersion!;
      const w1 = c.watch(CONFIGMAPS, { namespace: "default", resourceVersion: start });
      const r1 = reader(w1);
      await c.create(CONFIGMAPS, cm("r1"));
      await c.create(CONFIGMAPS, cm("r2"));
      const first = await r1.take(2);
      w1.close();
      expect(await r1.next()).toBeUndefined();
      await c.create(CONFIGMAPS, cm("r3"));
      await c.delete(CONFIGMAPS, "r1", { namespace: "default" });
      const r2 = reader(c.watch(CONFIGMAPS, { namespace: "default", resourceVersion: first[1]!.object.metadata.resourceVersion! }));
      const rest = await r2.take(2);
      expect(rest.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(["ADDED r3", "DELETED r1"]);
    });

    test("sendInitialEvents: the current objects, then a bookmark marking their end", async () => {
      const c = await mk();
      await c.create(CONFIGMAPS, cm("i1"));
      await c.create(CONFIGMAPS, cm("i2"));
      const w = c.watch(CONFIGMAPS, { namespace: "default", sendInitialEvents: true, allowWatchBookmarks: true });
      const r = reader(w);
      const evs = [await r.next(), await r.next(), await r.next()];
      expect(evs.map((e) => e?.type)).toEqual(["ADDED", "ADDED", "BOOKMARK"]);
      expect(evs.slice(0, 2).map((e) => e!.object.metadata.name).sort()).toEqual(["i1", "i2"]);
      expect(evs[2]!.object.metadata.annotations?.["k8s.io/initial-events-end"]).toBe("true");
      w.close();
    });

    test("a watch without a resourceVersion starts with the current objects (as Kubernetes does)", async () => {
      const c = await mk();
      await c.create(CONFIGMAPS, cm("existing"));
      const r = reader(c.watch(CONFIGMAPS, { namespace: "default" }));
      const [first] = await r.take(1);
      expect(`${first!.type} ${first!.object.metadata.name}`).toBe("ADDED existing");
      await c.create(CONFIGMAPS, cm("later"));
      const [next] = await r.take(1);
      expect(`${next!.type} ${next!.object.metadata.name}`).toBe("ADDED later");
    });

    test("an idle watch gets bookmarks", async () => {
      const c = await mk({ store: { bookmarkIntervalMs: 50 } });
      const start = (await c.create(CONFIGMAPS, cm("b0"))).metadata.resourceVersion!;
      await c.create(NODES, { apiVersion: "v1", kind: "Node", metadata: { name: "busy" } }); // another resource moves the revision on
      const w = c.watch(CONFIGMAPS, { namespace: "default", resourceVersion: start, allowWatchBookmarks: true });
      const ev = await reader(w).next(3000);
      expect(ev?.type).toBe("BOOKMARK");
      expect(Number(ev!.object.metadata.resourceVersion)).toBeGreaterThan(Number(start));
      expect(ev!.object.kind).toBe("ConfigMap");
      w.close();
    });

    test("timeoutSeconds ends the stream without an error", async () => {
      const c = await mk();
      const w = c.watch(CONFIGMAPS, { namespace: "default", timeoutSeconds: 1 });
      const started = performance.now();
      const seen: WatchEvent[] = [];
      await within(
        (async () => {
          for await (const ev of w) seen.push(ev);
        })(),
        5000,
        "stream end",
      );
      expect(performance.now() - started).toBeGreaterThan(900);
      expect(seen.filter((e) => e.type !== "BOOKMARK")).toEqual([]);
    });

    test("close() ends iteration cleanly, also while waiting and before the response", async () => {
      const c = await mk();
      const w = c.watch(CONFIGMAPS, { namespace: "default" });
      const done = (async () => {
        for await (const _ of w) {
          /* nothing comes */
        }
        return "ended";
      })();
      await new Promise((r) => setTimeout(r, 50));
      w.close();
      expect(await within(done, 2000, "closed watch")).toBe("ended");
      const early = c.watch(CONFIGMAPS, { namespace: "default" });
      early.close();
      expect(await reader(early).next()).toBeUndefined();
    });

    test("a compacted resourceVersion ends the watch with 410 Expired", async () => {
      const c = await mk({ store: { retention: { maxRevisions: 2 } } });
      const old = (await c.create(CONFIGMAPS, cm("c0"))).metadata.resourceVersion!;
      for (let i = 1; i <= 5; i++) await c.create(CONFIGMAPS, cm(`c${i}`));
      await kernel().store.compact(await kernel().store.currentRevision());
      const w = c.watch(CONFIGMAPS, { namespace: "default", resourceVersion: old });
      const err = await rejects(reader(w).next(), "Expired", 410);
      expect(err.message.length).toBeGreaterThan(0);
    });

    test("a watch on an unknown resource fails with NotFound when iterated", async () => {
      const c = await mk();
      const w = c.watch({ group: "nope.example.com", version: "v1", resource: "widgets" });
      await rejects(reader(w).next(), "NotFound", 404);
    });

    // ---- subresources --------------------------------------------------------------------

    test("scale: get and update on a deployment", async () => {
      const c = await mk();
      await c.create(DEPLOYMENTS, deployment("web"));
      const scale = await c.getSubresource<KubeObject & { spec: { replicas: number }; status: { selector: string } }>(DEPLOYMENTS, "web", "scale", { namespace: "default" });
      expect(scale.kind).toBe("Scale");
      expect(scale.spec.replicas).toBe(1);
      expect(scale.status.selector).toBe("app=web");
      const updated = await c.updateSubresource<KubeObject & { spec: { replicas: number } }>(DEPLOYMENTS, "web", "scale", { ...scale, spec: { replicas: 3 } }, { namespace: "default" });
      expect(updated.spec.replicas).toBe(3);
      expect(((await c.get(DEPLOYMENTS, "web", { namespace: "default" })).spec as { replicas: number }).replicas).toBe(3);
      await rejects(c.updateSubresource(DEPLOYMENTS, "web", "scale", { ...scale, spec: { replicas: 4 } }, { namespace: "default" }), "Conflict", 409);
      const patched = await c.patch<KubeObject & { spec: { replicas: number } }>(DEPLOYMENTS, "web", "merge", { spec: { replicas: 5 } }, { namespace: "default", subresource: "scale" });
      expect(patched.spec.replicas).toBe(5);
    });

    test("binding a pod to a node", async () => {
      const c = await mk();
      await c.create(NODES, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
      await c.create(PODS, pod("b"));
      const binding = { apiVersion: "v1", kind: "Binding", metadata: { name: "b", namespace: "default" }, target: { apiVersion: "v1", kind: "Node", name: "n1" } };
      await c.createSubresource(PODS, "b", "binding", binding, { namespace: "default" });
      const bound = await c.get<KubeObject & { spec: { nodeName?: string } }>(PODS, "b", { namespace: "default" });
      expect(bound.spec.nodeName).toBe("n1");
      await rejects(c.createSubresource(PODS, "b", "binding", binding, { namespace: "default" }), "Conflict", 409);
    });

    test("eviction deletes the pod", async () => {
      const c = await mk();
      await c.create(PODS, pod("e"));
      const eviction = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "e", namespace: "default" } };
      await c.createSubresource(PODS, "e", "eviction", eviction, { namespace: "default" });
      await rejects(c.get(PODS, "e", { namespace: "default" }), "NotFound");
      await rejects(c.createSubresource(PODS, "e", "eviction", eviction, { namespace: "default" }), "NotFound", 404);
    });

    // ---- ownership of objects -------------------------------------------------------------

    test("writes do not change their input", async () => {
      const c = await mk();
      const input = deepFreeze(cm("frozen", { labels: { a: "b" } }));
      const snapshot = JSON.stringify(input);
      const created = await c.create(CONFIGMAPS, input);
      expect(input.metadata.resourceVersion).toBeUndefined();
      deepFreeze(created);
      const createdJson = JSON.stringify(created);
      const updated = await c.update(CONFIGMAPS, { ...created, data: { k: "2" } });
      await c.update(CONFIGMAPS, updated, { dryRun: true });
      const p = deepFreeze(pod("fp"));
      const livePod = deepFreeze(await c.create(PODS, p));
      await c.updateStatus(PODS, livePod);
      const patch = deepFreeze([{ op: "replace", path: "/data/k", value: "3" }]);
      await c.patch(CONFIGMAPS, "frozen", "json", patch, { namespace: "default" });
      const applied = deepFreeze(cm("frozen-apply"));
      await c.patch(CONFIGMAPS, "frozen-apply", "apply", applied, { namespace: "default" });
      const binding = deepFreeze({ apiVersion: "v1", kind: "Binding", metadata: { name: "fp" }, target: { kind: "Node", name: "n1" } });
      await c.createSubresource(PODS, "fp", "binding", binding, { namespace: "default" });
      expect(JSON.stringify(input)).toBe(snapshot);
      expect(JSON.stringify(created)).toBe(createdJson);
      expect(JSON.stringify(p)).toBe(JSON.stringify(pod("fp")));
      expect(patch).toEqual([{ op: "replace", path: "/data/k", value: "3" }]);
      expect(JSON.stringify(applied)).toBe(JSON.stringify(cm("frozen-apply")));
      expect(binding.metadata).toEqual({ name: "fp" });
    });

    test("returned objects belong to the caller", async () => {
      const c = await mk();
      await c.create(CONFIGMAPS, cm("own"));
      const a = await c.get(CONFIGMAPS, "own", { namespace: "default" });
      (a.data as Record<string, string>).k = "changed locally";
      const b = await c.get(CONFIGMAPS, "own", { namespace: "default" });
      expect(b.data).toEqual({ k: "v" });
    });
  });
}
