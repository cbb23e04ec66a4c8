/**
 * Watch checker. Writers create, update and delete at random while compaction
 * runs continuously; 20 watchers start at random revisions, disconnect and
 * resume at random (relisting on 410, resuming on a cut-off). Every stream
 * segment is then checked against the revision log the writers recorded:
 * ordered, unique, reliable (no gaps), atomic (each event is exactly the
 * logged version) and resumable; bookmarks only ever claim what was sent.
 */
import { describe, expect, test } from "bun:test";
import { ApiError } from "../core/api/errors.ts";
import { type LabelSelector, parseLabelSelector } from "../core/api/selectors.ts";
import type { SqliteStore } from "../core/store/sqlite-store.ts";
import type { WatchEvent } from "../core/store/types.ts";
import { DRIVERS, nextWithin, storeFactory } from "./fixtures/stores.ts";
import { Pods, pod } from "./fixtures/types.ts";

interface Logged {
  rev: number;
  type: "ADDED" | "MODIFIED" | "DELETED";
  ns: string;
  name: string;
  raw: string;
  labels: Record<string, string>;
  prevLabels?: Record<string, string>;
}

interface Segment {
  from: number;
  events: { type: WatchEvent["type"]; rev: number; raw: string }[];
  ended: "closed" | "expired" | "cutoff";
}

interface WatcherSpec {
  namespace?: string;
  selector?: LabelSelector;
  bookmarks: boolean;
}

const rnd = (n: number) => Math.floor(Math.random() * n);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const tick = () => new Promise<void>((r) => setTimeout(r, rnd(3)));

function expectedFor(log: Logged[], spec: WatcherSpec, from: number, to: number): Segment["events"] {
  const out: Segment["events"] = [];
  for (const e of log) {
    if (e.rev <= from || e.rev > to) continue;
    if (spec.namespace !== undefined && e.ns !== spec.namespace) continue;
    let type: Logged["type"] | null = e.type;
    if (spec.selector) {
      const now = spec.selector.matches(e.labels);
      if (e.type !== "MODIFIED") type = now ? e.type : null;
      else {
        const before = spec.selector.matches(e.prevLabels);
        type = now ? (before ? "MODIFIED" : "ADDED") : before ? "DELETED" : null;
      }
    }
    if (type) out.push({ type, rev: e.rev, raw: e.raw });
  }
  return out;
}

async function writer(store: SqliteStore, log: Logged[], count: number, id: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const ns = rnd(2) ? "a" : "b";
    const name = `p${rnd(25)}`;
    const labels = { tier: ["web", "db", "cache"][rnd(3)]!, w: String(id) };
    const r = rnd(10);
    try {
      if (r < 4) {
        const s = await store.create(Pods, pod(name, { ns, labels }));
        log.push({ rev: s.revision, type: "ADDED", ns, name, raw: s.raw, labels });
      } else if (r < 8) {
        let prev: Record<string, string> = {};
        const s = await store.guaranteedUpdate(Pods, ns, name, (o) => {
          prev = o.metadata.labels ?? {};
          return { ...o, metadata: { ...o.metadata, labels } };
        });
        if (s.raw !== undefined && !log.some((l) => l.rev === s.revision)) {
          log.push({ rev: s.revision, type: "MODIFIED", ns, name, raw: s.raw, labels, prevLabels: prev });
        }
      } else {
        const s = await store.delete(Pods, ns, name);
        log.push({ rev: s.revision, type: "DELETED", ns, name, raw: s.raw, labels: s.object.metadata.labels ?? {} });
      }
    } catch (e) {
      if (!(e instanceof ApiError) || (e.reason !== "NotFound" && e.reason !== "AlreadyExists")) throw e;
    }
    if (i % 7 === 0) await tick();
  }
}

const open = new Set<{ close(): void }>();

async function watcherLoop(store: SqliteStore, spec: WatcherSpec, segments: Segment[], done: () => boolean): Promise<void> {
  const cur = await store.currentRevision();
  const comp = await store.compactedRevision();
  let from = comp + rnd(Math.max(1, cur - comp + 1));
  while (!done()) {
    const w = store.watch(Pods, {
      fromRevision: from,
      bookmarks: spec.bookmarks,
      ...(spec.namespace !== undefined ? { namespace: spec.namespace } : {}),
      ...(spec.selector ? { labelSelector: spec.selector } : {}),
    });
    open.add(w);
    const seg: Segment = { from, events: [], ended: "closed" };
    segments.push(seg);
    const batches = 1 + rnd(6);
    try {
      for (let i = 0; i < batches && !done(); i++) {
        const b = await nextWithin(w.nextBatch(), 5000);
        if (b === null) break;
        for (const e of b) seg.events.push({ type: e.type, rev: e.revision, raw: e.raw });
        if (rnd(3) === 0) await tick();
        if (rnd(12) === 0) await sleep(150); // a stalled consumer: gets cut off (long enough for > maxWatchQueue events, even on a loaded machine)
      }
      from = w.lastRevision;
      w.close();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.code === 410) {
        seg.ended = "expired";
        from = (await store.list(Pods)).revision; // relist, then watch from the list's revision
      } else {
        expect(e.reason).toBe("TooManyRequests");
        seg.ended = "cutoff";
        from = w.lastRevision;
      }
    }
    open.delete(w);
    await tick();
    if (rnd(8) === 0) await sleep(60); // a long disconnect: history moves past it
  }
}

describe("watch checker", () => {
  // The memory window bounded by count, and by bytes (a few events' JSON): resumes cross its edge either way.
  const windows = [
    { label: "", watchWindow: 64 },
    { label: ", 2 KiB window", watchWindowBytes: 2048 },
  ];
  for (const driver of DRIVERS) {
    for (const { label, ...window } of windows)
      test(`20 watchers resuming at random through writes and compaction agree with the log (${driver}${label})`, async () => {
        const f = storeFactory(driver);
        const store = await f.open({
          retention: { maxRevisions: 150, intervalMs: 5, batchRevisions: 40 },
          ...window,
          maxWatchQueue: 200,
          bookmarkIntervalMs: 10,
        });
        const log: Logged[] = [];
        let finished = false;
        const specs: WatcherSpec[] = Array.from({ length: 20 }, (_, i) => ({
          bookmarks: i % 2 === 0,
          ...(i % 4 === 1 ? { namespace: "a" } : {}),
          ...(i % 3 === 2 ? { selector: parseLabelSelector(["tier=web", "tier in (db,cache)", "tier!=db,w"][i % 3]!) } : {}),
        }));
        const segments = specs.map(() => [] as Segment[]);
        const watchers = specs.map((s, i) => watcherLoop(store, s, segments[i]!, () => finished));
        await Promise.all([0, 1, 2, 3].map((id) => writer(store, log, 1500, id)));
        finished = true;
        for (const w of open) w.close();
        await Promise.all(watchers);
        const compacted = await store.compactedRevision();
        await store.close();
        f.cleanup();

        log.sort((a, b) => a.rev - b.rev);
        // The log itself is gap-free: every revision is one recorded write.
        expect(log.map((l) => l.rev)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
        expect(compacted).toBeGreaterThan(1000);
        let checked = 0;
        let expired = 0;
        for (const [i, segs] of segments.entries()) {
          for (const seg of segs) {
            if (seg.ended === "expired") {
              expired++;
              expect(seg.events).toEqual([]);
              continue;
            }
            let last = seg.from;
            for (const e of seg.events) {
              if (e.type === "BOOKMARK") expect(e.rev).toBeGreaterThanOrEqual(last);
              else expect(e.rev).toBeGreaterThan(last); // ordered and unique
              last = e.rev;
            }
            const got = seg.events.filter((e) => e.type !== "BOOKMARK");
            const want = expectedFor(log, specs[i]!, seg.from, last);
            expect(got).toEqual(want); // reliable, atomic; bookmarks covered by `last`
            checked += got.length;
          }
        }
        expect(checked).toBeGreaterThan(1000);
        const cutoffs = segments.flat().filter((s) => s.ended === "cutoff").length;
        // Both ways a watch can end badly were exercised, and ended as they should.
        expect(expired).toBeGreaterThan(0);
        expect(cutoffs).toBeGreaterThan(0);
      }, 60_000);

    test(`deletes at the compaction boundary are delivered (${driver})`, async () => {
      const f = storeFactory(driver);
      const store = await f.open({ retention: { maxRevisions: 1_000_000 } });
      for (let i = 0; i < 5; i++) await store.create(Pods, pod(`p${i}`));
      const d1 = await store.delete(Pods, "default", "p1");
      const d2 = await store.delete(Pods, "default", "p2");
      await store.compact(d1.revision - 1);
      const w = store.watch(Pods, { fromRevision: d1.revision - 1 });
      const evs = await nextWithin(w.nextBatch());
      expect(evs!.map((e) => [e.type, e.revision])).toEqual([
        ["DELETED", d1.revision],
        ["DELETED", d2.revision],
      ]);
      w.close();
      await store.compact(d1.revision);
      const w2 = store.watch(Pods, { fromRevision: d1.revision });
      expect((await nextWithin(w2.nextBatch()))!.map((e) => e.revision)).toEqual([d2.revision]);
      w2.close();
      const w3 = store.watch(Pods, { fromRevision: d1.revision - 1 });
      await expect(w3.nextBatch()).rejects.toMatchObject({ code: 410 });
      // The compacted tombstone is gone from lists at any retained revision.
      expect((await store.list(Pods, { revision: d1.revision })).items.map((o) => o.object.metadata.name)).toEqual(["p0", "p2", "p3", "p4"]);
      await store.close();
      f.cleanup();
    });
  }
});
