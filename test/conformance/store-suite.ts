/**
 * @module The Store contract, as one suite every backend runs
 * (`storeConformance(name, open)`): CRUD semantics, bad input, lists with
 * consistent paging, and watch semantics including 410 and bookmarks.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { ApiError } from "../../core/api/errors.ts";
import { defineType } from "../../core/api/registry.ts";
import { parseFieldSelector, parseLabelSelector } from "../../core/api/selectors.ts";
import type { Store, WatchEvent } from "../../core/store/types.ts";
import { ConfigMaps, Nodes, Pods, pod } from "../fixtures/types.ts";
import { nextWithin } from "../fixtures/stores.ts";

export type OpenForSuite = (opts?: { retention?: { maxRevisions?: number; maxAgeMs?: number }; maxWatchQueue?: number; bookmarkIntervalMs?: number }) => Promise<Store>;

async function rejects(p: Promise<unknown>, reason: string, code?: number): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    const err = e as ApiError;
    expect(err.reason).toBe(reason as ApiError["reason"]);
    if (code !== undefined) expect(err.code).toBe(code);
    return err;
  }
  throw new Error(`expected rejection with ${reason}`);
}

async function take(w: { nextBatch(): Promise<WatchEvent[] | null> }, n: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  while (out.length < n) {
    const b = await nextWithin(w.nextBatch());
    if (b === null) break;
    out.push(...b);
  }
  return out;
}

export function storeConformance(name: string, open: OpenForSuite): void {
  describe(`store conformance: ${name}`, () => {
    const opened: Store[] = [];
    const mk: OpenForSuite = async (o) => {
      const s = await open(o);
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    test("create sets system fields; get returns the same bytes", async () => {
      const s = await mk();
      const created = await s.create(Pods, pod("a", { labels: { app: "x" } }));
      const m = created.object.metadata;
      expect(m.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(m.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(m.generation).toBe(1);
      expect(m.resourceVersion).toBe(String(created.revision));
      expect(await s.currentRevision()).toBe(created.revision);
      const got = await s.get(Pods, "default", "a");
      expect(got.raw).toBe(created.raw);
      expect(JSON.parse(got.raw).metadata.labels).toEqual({ app: "x" });
    });

    test("a client's uid is replaced; keepUid keeps one the API layer assigned", async () => {
      const s = await mk();
      const uid = "6b7a1f2e-8c3d-4e5f-9a0b-1c2d3e4f5a6b";
      const replaced = await s.create(Pods, { ...pod("u1"), metadata: { ...pod("u1").metadata, uid } });
      expect(replaced.object.metadata.uid).not.toBe(uid);
      const kept = await s.create(Pods, { ...pod("u2"), metadata: { ...pod("u2").metadata, uid } }, { keepUid: true });
      expect(kept.object.metadata.uid).toBe(uid);
    });

    test("types without generation do not get one", async () => {
      const s = await mk();
      const cm = await s.create(ConfigMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" }, data: { a: "1" } });
      expect(cm.object.metadata.generation).toBeUndefined();
    });

    test("generateName picks a free name", async () => {
      const s = await mk();
      const names = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const o = await s.create(Pods, { metadata: { generateName: "web-", namespace: "default" }, spec: {} });
        expect(o.object.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
        names.add(o.object.metadata.name!);
      }
      expect(names.size).toBe(20);
    });

    test("AlreadyExists, NotFound, and a stale resourceVersion conflicts", async () => {
      const s = await mk();
      const a = await s.create(Pods, pod("a"));
      await rejects(s.create(Pods, pod("a")), "AlreadyExists", 409);
      await rejects(s.get(Pods, "default", "nope"), "NotFound", 404);
      await rejects(s.delete(Pods, "default", "nope"), "NotFound", 404);
      const upd = structuredClone(a.object);
      (upd.spec as { x?: number }).x = 1;
      const b = await s.update(Pods, upd);
      expect(b.revision).toBeGreaterThan(a.revision);
      const err = await rejects(s.update(Pods, upd), "Conflict", 409);
      expect(err.message).toContain('pods "a": the object has been modified');
      // Without a resourceVersion the update is unconditional.
      const uncond = structuredClone(upd);
      delete uncond.metadata.resourceVersion;
      (uncond.spec as { x?: number }).x = 2;
      const c = await s.update(Pods, uncond);
      expect(c.object.metadata.generation).toBe(3);
      await rejects(s.update(Pods, { ...pod("ghost") }), "NotFound");
    });

    test("generation moves only when spec changes; a no-op update writes nothing", async () => {
      const s = await mk();
      const a = await s.create(Pods, pod("a"));
      const same = await s.update(Pods, structuredClone(a.object));
      expect(same.revision).toBe(a.revision);
      expect(await s.currentRevision()).toBe(a.revision);
      const withStatus = structuredClone(a.object);
      withStatus.status = { phase: "Running" };
      const b = await s.update(Pods, withStatus);
      expect(b.revision).toBe(a.revision + 1);
      expect(b.object.metadata.generation).toBe(1);
      const withSpec = structuredClone(b.object);
      (withSpec.spec as { nodeName?: string }).nodeName = "n1";
      const c = await s.update(Pods, withSpec);
      expect(c.object.metadata.generation).toBe(2);
    });

    test("a kind's generationChanged decides when generation moves", async () => {
      const s = await mk();
      const Annotated = defineType({
        group: "test.skiff.dev",
        version: "v1",
        kind: "Annotated",
        plural: "annotateds",
        namespaced: true,
        strategy: { generationChanged: (o, old) => JSON.stringify(o.metadata.annotations ?? {}) !== JSON.stringify(old.metadata.annotations ?? {}) },
      });
      const a = await s.create(Annotated, { metadata: { name: "a", namespace: "default" }, spec: { x: 1 } });
      const b = await s.update(Annotated, { ...structuredClone(a.object), spec: { x: 2 } });
      expect(b.object.metadata.generation).toBe(1);
      const c = await s.update(Annotated, { ...structuredClone(b.object), metadata: { ...b.object.metadata, annotations: { k: "v" } } });
      expect(c.object.metadata.generation).toBe(2);
    });

    test("uid and creationTimestamp are immutable; a wrong uid conflicts", async () => {
      const s = await mk();
      const a = await s.create(Pods, pod("a"));
      const u = structuredClone(a.object);
      u.metadata.creationTimestamp = "2000-01-01T00:00:00Z";
      u.metadata.labels = { x: "y" };
      const b = await s.update(Pods, u);
      expect(b.object.metadata.creationTimestamp).toBe(a.object.metadata.creationTimestamp!);
      const bad = structuredClone(b.object);
      bad.metadata.uid = "00000000-0000-4000-8000-000000000000";
      await rejects(s.update(Pods, bad), "Conflict");
    });

    test("delete with preconditions returns the final state at a new revision", async () => {
      const s = await mk();
      const a = await s.create(Pods, pod("a"));
      await rejects(s.delete(Pods, "default", "a", { preconditions: { uid: "other" } }), "Conflict");
      await rejects(s.delete(Pods, "default", "a", { preconditions: { resourceVersion: "999999" } }), "Conflict");
      const d = await s.delete(Pods, "default", "a", { preconditions: { uid: a.object.metadata.uid!, resourceVersion: a.object.metadata.resourceVersion! } });
      expect(d.revision).toBe(a.revision + 1);
      expect(d.object.metadata.resourceVersion).toBe(String(d.revision));
      await rejects(s.get(Pods, "default", "a"), "NotFound");
    });

    test("graceful delete marks the object; removing the last finalizer removes it", async () => {
      const s = await mk();
      const a = await s.create(Pods, { ...pod("a"), metadata: { ...pod("a").metadata, finalizers: ["x.io/y"] } });
      // deletionTimestamp cannot be set through an update: it is the delete path's to set.
      const ignored = await s.guaranteedUpdate(Pods, "default", "a", (o) => {
        o.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
        return o;
      });
      expect(ignored.revision).toBe(a.revision);
      const w = s.watch(Pods, { fromRevision: a.revision });
      const marked = await s.delete(Pods, "default", "a", { graceful: { gracePeriodSeconds: 0, finalizers: ["orphan"] } });
      expect(marked.object.metadata.deletionTimestamp).toBeString();
      expect(marked.object.metadata.deletionGracePeriodSeconds).toBe(0);
      expect(marked.object.metadata.finalizers).toEqual(["x.io/y", "orphan"]);
      expect(marked.object.metadata.generation).toBe(2);
      expect((await s.get(Pods, "default", "a")).revision).toBe(marked.revision);
      await s.guaranteedUpdate(Pods, "default", "a", (o) => ({ ...o, metadata: { ...o.metadata, finalizers: ["orphan"] } }));
      await s.guaranteedUpdate(Pods, "default", "a", (o) => ({ ...o, metadata: { ...o.metadata, finalizers: [] } }));
      const evs = await take(w, 3);
      expect(evs.map((e) => e.type)).toEqual(["MODIFIED", "MODIFIED", "DELETED"]);
      await rejects(s.get(Pods, "default", "a"), "NotFound");
      // Without finalizers and with no grace period left, a graceful delete deletes at once.
      await s.create(Pods, pod("b"));
      const gone = await s.delete(Pods, "default", "b", { graceful: { gracePeriodSeconds: 0 } });
      expect(gone.object.metadata.name).toBe("b");
      await rejects(s.get(Pods, "default", "b"), "NotFound");
      w.close();
    });

    test("guaranteedUpdate is atomic under concurrency", async () => {
      const s = await mk();
      await s.create(ConfigMaps, { metadata: { name: "counter", namespace: "default" }, data: { n: "0" } });
      await Promise.all(
        Array.from({ length: 50 }, () =>
          s.guaranteedUpdate(ConfigMaps, "default", "counter", (o) => {
            const d = o.data as { n: string };
            d.n = String(Number(d.n) + 1);
            return o;
          }),
        ),
      );
      const got = await s.get(ConfigMaps, "default", "counter");
      expect((got.object.data as { n: string }).n).toBe("50");
    });

    test("bad input is refused with the right typed error and nothing is written", async () => {
      const s = await mk();
      const before = await s.currentRevision();
      const cases: [unknown, string][] = [
        [pod("Bad_Name"), "Invalid"],
        [pod("-lead"), "Invalid"],
        [pod("a".repeat(254)), "Invalid"],
        [pod("ok", { labels: { "bad key!": "v" } }), "Invalid"],
        [pod("ok", { labels: { k: "x".repeat(64) } }), "Invalid"],
        [pod("ok", { ns: "Bad_NS" }), "Invalid"],
        [{ metadata: { namespace: "default" }, spec: {} }, "Invalid"],
        [{ ...pod("ok"), metadata: { name: "ok", namespace: "default", annotations: { a: "x".repeat(256 * 1024 + 1) } } }, "Invalid"],
        [{ ...pod("big"), data: "x".repeat(1.5 * 1024 * 1024) }, "RequestEntityTooLarge"],
        [{ ...pod("rv"), metadata: { name: "rv", namespace: "default", resourceVersion: "5" } }, "BadRequest"],
        [null, "BadRequest"],
        [[1, 2], "BadRequest"],
        [{ metadata: "nope" }, "Invalid"],
      ];
      for (const [obj, reason] of cases) await rejects(s.create(Pods, obj as never), reason);
      await rejects(s.create(Nodes, { metadata: { name: "n", namespace: "default" } }), "Invalid");
      expect(await s.currentRevision()).toBe(before);
      expect((await s.list(Pods)).items).toHaveLength(0);
      const a = await s.create(Pods, pod("a"));
      const big = structuredClone(a.object);
      big.data = "x".repeat(2 * 1024 * 1024);
      await rejects(s.update(Pods, big), "RequestEntityTooLarge");
      const renamed = structuredClone(a.object);
      renamed.metadata.labels = { "no spaces": "x" };
      await rejects(s.update(Pods, renamed), "Invalid");
      expect(await s.currentRevision()).toBe(a.revision);
      expect((await s.get(Pods, "default", "a")).raw).toBe(a.raw);
    });

    test("list filters by namespace, labels and fields", async () => {
      const s = await mk();
      for (let i = 0; i < 30; i++) {
        await s.create(Pods, pod(`p${i}`, { ns: i % 2 ? "odd" : "even", labels: { tier: i % 3 === 0 ? "web" : "db", i: String(i) }, ...(i % 5 === 0 ? { node: "n1" } : {}) }));
      }
      await s.create(Nodes, { metadata: { name: "n1" } });
      expect((await s.list(Pods)).items).toHaveLength(30);
      expect((await s.list(Pods, { namespace: "odd" })).items).toHaveLength(15);
      const web = await s.list(Pods, { labelSelector: parseLabelSelector("tier=web") });
      expect(web.items.map((o) => o.object.metadata.labels!.i).sort((a, b) => Number(a) - Number(b))).toEqual(["0", "3", "6", "9", "12", "15", "18", "21", "24", "27"]);
      const notWebEven = await s.list(Pods, { namespace: "even", labelSelector: parseLabelSelector("tier!=web,i in (2,4,6,8)") });
      expect(notWebEven.items.map((o) => o.object.metadata.name)).toEqual(["p2", "p4", "p8"]);
      const onN1 = await s.list(Pods, { fieldSelector: parseFieldSelector("spec.nodeName=n1") });
      expect(onN1.items).toHaveLength(6);
      const unscheduled = await s.list(Pods, { fieldSelector: parseFieldSelector("spec.nodeName=") });
      expect(unscheduled.items).toHaveLength(24);
      const byName = await s.list(Pods, { fieldSelector: parseFieldSelector("metadata.name=p7,metadata.namespace=odd") });
      expect(byName.items.map((o) => o.object.metadata.name)).toEqual(["p7"]);
      expect((await s.list(Nodes)).items).toHaveLength(1);
    });

    test("paging serves every page from the first page's revision", async () => {
      const s = await mk();
      for (let i = 0; i < 25; i++) await s.create(Pods, pod(`p${String(i).padStart(2, "0")}`));
      const first = await s.list(Pods, { limit: 10 });
      expect(first.items).toHaveLength(10);
      expect(first.remainingItemCount).toBe(15);
      expect(first.continue).toBeString();
      // Writes between pages must not show up.
      await s.delete(Pods, "default", "p15");
      await s.create(Pods, pod("p12a"));
      const p15 = await s.get(Pods, "default", "p16");
      await s.update(Pods, { ...structuredClone(p15.object), metadata: { ...p15.object.metadata, labels: { changed: "yes" } } });
      const second = await s.list(Pods, { limit: 10, continue: first.continue! });
      expect(second.revision).toBe(first.revision);
      const third = await s.list(Pods, { limit: 10, continue: second.continue! });
      expect(third.continue).toBeUndefined();
      const names = [...first.items, ...second.items, ...third.items].map((o) => o.object.metadata.name);
      expect(names).toEqual(Array.from({ length: 25 }, (_, i) => `p${String(i).padStart(2, "0")}`));
      expect(second.items.find((o) => o.object.metadata.name === "p16")!.object.metadata.labels).toBeUndefined();
      await rejects(s.list(Pods, { continue: "garbage!" }), "BadRequest", 400);
    });

    test("a continue token whose revision was compacted gets 410", async () => {
      const s = await mk();
      for (let i = 0; i < 5; i++) await s.create(Pods, pod(`p${i}`));
      const first = await s.list(Pods, { limit: 2 });
      await s.create(Pods, pod("later"));
      await s.compact(await s.currentRevision());
      await rejects(s.list(Pods, { limit: 2, continue: first.continue! }), "Expired", 410);
      await rejects(s.list(Pods, { revision: first.revision - 1 }), "Expired", 410);
    });

    test("list at an exact revision sees the past", async () => {
      const s = await mk();
      const a = await s.create(Pods, pod("a"));
      await s.create(Pods, pod("b"));
      await s.delete(Pods, "default", "a");
      const past = await s.list(Pods, { revision: a.revision });
      expect(past.items.map((o) => o.object.metadata.name)).toEqual(["a"]);
      expect((await s.list(Pods)).items.map((o) => o.object.metadata.name)).toEqual(["b"]);
    });

    test("watch from a revision replays then follows, in order, with DELETED carrying the final state", async () => {
      const s = await mk();
      const a = await s.create(Pods, pod("a"));
      const w = s.watch(Pods, { fromRevision: a.revision - 1 });
      await s.update(Pods, { ...structuredClone(a.object), metadata: { ...a.object.metadata, labels: { v: "2" } } });
      const d = await s.delete(Pods, "default", "a");
      const evs = await take(w, 3);
      expect(evs.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
      expect(evs.map((e) => e.revision)).toEqual([a.revision, a.revision + 1, d.revision]);
      expect(evs[2]!.object.metadata.resourceVersion).toBe(String(d.revision));
      expect(evs[2]!.object.metadata.labels).toEqual({ v: "2" });
      w.close();
      expect(await w.nextBatch()).toBeNull();
    });

    test("watch selectors follow Kubernetes transitions", async () => {
      const s = await mk();
      const w = s.watch(Pods, { labelSelector: parseLabelSelector("app=web"), namespace: "default" });
      const a = await s.create(Pods, pod("a", { labels: { app: "db" } }));
      await s.create(Pods, pod("other-ns", { ns: "x", labels: { app: "web" } }));
      const b = await s.update(Pods, { ...structuredClone(a.object), metadata: { ...a.object.metadata, labels: { app: "web" } } });
      const c = await s.update(Pods, { ...structuredClone(b.object), metadata: { ...b.object.metadata, labels: { app: "web", x: "1" } } });
      await s.update(Pods, { ...structuredClone(c.object), metadata: { ...c.object.metadata, labels: { app: "db" } } });
      const evs = await take(w, 3);
      expect(evs.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
      w.close();
    });

    test("sendInitialEvents lists then follows, with an initial-events-end bookmark", async () => {
      const s = await mk();
      await s.create(Pods, pod("a"));
      await s.create(Pods, pod("b"));
      const w = s.watch(Pods, { sendInitialEvents: true, bookmarks: true });
      const evs = await take(w, 3);
      expect(evs.map((e) => e.type)).toEqual(["ADDED", "ADDED", "BOOKMARK"]);
      expect(evs[2]!.object.metadata.annotations).toEqual({ "k8s.io/initial-events-end": "true" });
      await s.create(Pods, pod("c"));
      expect((await take(w, 1))[0]!.object.metadata.name).toBe("c");
      w.close();
    });

    test("bookmarks come when idle and never precede an unsent event", async () => {
      const s = await mk({ bookmarkIntervalMs: 20 });
      const w = s.watch(Pods, { bookmarks: true, labelSelector: parseLabelSelector("keep") });
      await s.create(Pods, pod("skip"));
      const created = await s.create(Pods, pod("keep", { labels: { keep: "1" } }));
      await s.create(Pods, pod("skip2"));
      const evs = await take(w, 2);
      expect(evs[0]!.type).toBe("ADDED");
      expect(evs[1]!.type).toBe("BOOKMARK");
      expect(evs[1]!.revision).toBe(created.revision + 1);
      w.close();
    });

    test("a watch from a compacted revision fails with 410 Expired", async () => {
      const s = await mk({ retention: { maxRevisions: 1_000_000 } });
      const first = await s.create(Pods, pod("a"));
      for (let i = 0; i < 5; i++) await s.create(Pods, pod(`b${i}`));
      await s.compact((await s.currentRevision()) - 1);
      const w = s.watch(Pods, { fromRevision: first.revision });
      const err = await w.nextBatch().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe(410);
      expect((err as ApiError).message).toContain("too old resource version");
    });

    test("a slow watcher is cut off with a resumable error, and resuming loses nothing", async () => {
      const s = await mk({ maxWatchQueue: 10 });
      const start = await s.currentRevision();
      const w = s.watch(Pods, { fromRevision: start });
      const first = await s.create(Pods, pod("first"));
      expect((await take(w, 1))[0]!.revision).toBe(first.revision);
      for (let i = 0; i < 30; i++) await s.create(Pods, pod(`p${i}`));
      const err = await w.nextBatch().then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as ApiError).reason).toBe("TooManyRequests");
      expect(w.lastRevision).toBe(first.revision);
      const resumed = s.watch(Pods, { fromRevision: w.lastRevision });
      const evs = await take(resumed, 30);
      expect(evs.map((e) => e.object.metadata.name)).toEqual(Array.from({ length: 30 }, (_, i) => `p${i}`));
      resumed.close();
    });
  });
}
