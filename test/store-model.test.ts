/**
 * Model-based test: fast-check drives random rounds of concurrent
 * create/update/guaranteedUpdate/delete requests (several writers per round),
 * interleaved with lists, paged lists continued across rounds, compactions and
 * one long watch, against the store and a plain in-memory model. Every
 * outcome (revision or error reason), every list and the watch stream must agree.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { ApiError } from "../core/api/errors.ts";
import type { KubeObject } from "../core/api/meta.ts";
import { parseLabelSelector } from "../core/api/selectors.ts";
import { SqliteStore } from "../core/store/sqlite-store.ts";
import type { WatchEvent } from "../core/store/types.ts";
import { DRIVERS, nextWithin } from "./fixtures/stores.ts";
import { Pods } from "./fixtures/types.ts";

const NAMES = ["a", "b", "c", "d"];
const NSS = ["x", "y"];

type Op =
  | { t: "create"; ns: string; name: string; color: string }
  | { t: "update"; ns: string; name: string; color: string; rv: "current" | "stale" | "none" }
  | { t: "mutate"; ns: string; name: string; color: string }
  | { t: "delete"; ns: string; name: string; pre: "none" | "rv-current" | "rv-stale" };

type Step =
  | { t: "round"; ops: Op[] }
  | { t: "list"; ns?: string; color?: string }
  | { t: "page"; limit: number; color?: string }
  | { t: "continue" }
  | { t: "compact"; back: number };

const arbKey = { ns: fc.constantFrom(...NSS), name: fc.constantFrom(...NAMES) };
const arbColor = fc.constantFrom("red", "green", "blue");
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant("create" as const), ...arbKey, color: arbColor }),
  fc.record({ t: fc.constant("update" as const), ...arbKey, color: arbColor, rv: fc.constantFrom("current" as const, "stale" as const, "none" as const) }),
  fc.record({ t: fc.constant("mutate" as const), ...arbKey, color: arbColor }),
  fc.record({ t: fc.constant("delete" as const), ...arbKey, pre: fc.constantFrom("none" as const, "rv-current" as const, "rv-stale" as const) }),
);
const arbStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant("round" as const), ops: fc.array(arbOp, { minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("list" as const), ns: fc.option(fc.constantFrom(...NSS), { nil: undefined }), color: fc.option(arbColor, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("page" as const), limit: fc.integer({ min: 1, max: 3 }), color: fc.option(arbColor, { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("continue" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("compact" as const), back: fc.integer({ min: 0, max: 6 }) }) },
);

interface Entry {
  rev: number;
  color: string;
}

/** The model: a sequential map plus the full event history. */
class Model {
  rev = 0;
  compacted = 0;
  live = new Map<string, Entry>();
  history: { rev: number; key: string; type: WatchEvent["type"]; color: string }[] = [];

  stateAt(rev: number): Map<string, string> {
    const m = new Map<string, string>();
    for (const h of this.history) {
      if (h.rev > rev) break;
      if (h.type === "DELETED") m.delete(h.key);
      else m.set(h.key, h.color);
    }
    return m;
  }

  /** Applies one op; returns the revision written (or null for a no-op) or an error reason. */
  apply(op: Op, rvAtIssue: string | undefined): { rev: number; noop?: true } | { error: string } {
    const key = `${op.ns}/${op.name}`;
    const cur = this.live.get(key);
    const write = (type: WatchEvent["type"], color: string) => {
      this.rev++;
      this.history.push({ rev: this.rev, key, type, color });
      return { rev: this.rev };
    };
    switch (op.t) {
      case "create": {
        if (cur) return { error: "AlreadyExists" };
        const r = write("ADDED", op.color);
        this.live.set(key, { rev: r.rev, color: op.color });
        return r;
      }
      case "update":
      case "mutate": {
        if (!cur) return { error: "NotFound" };
        if (op.t === "update" && rvAtIssue !== undefined && rvAtIssue !== String(cur.rev)) return { error: "Conflict" };
        if (cur.color === op.color) return { rev: cur.rev, noop: true };
        const r = write("MODIFIED", op.color);
        this.live.set(key, { ...cur, rev: r.rev, color: op.color });
        return r;
      }
      case "delete": {
        if (!cur) return { error: "NotFound" };
        if (rvAtIssue !== undefined && rvAtIssue !== String(cur.rev)) return { error: "Conflict" };
        const r = write("DELETED", cur.color);
        this.live.delete(key);
        return r;
      }
    }
  }
}

function podOf(op: { ns: string; name: string; color: string }, rv?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: op.name, namespace: op.ns, labels: { color: op.color }, ...(rv !== undefined ? { resourceVersion: rv } : {}) },
    spec: { containers: [{ name: "c", image: "i" }] },
  };
}

function namesOf(items: { object: KubeObject }[]): string[] {
  return items.map((o) => `${o.object.metadata.namespace}/${o.object.metadata.name}=${o.object.metadata.labels?.color}`);
}

function expectedList(state: Map<string, string>, filter: { ns?: string; color?: string } = {}): string[] {
  return [...state.entries()]
    .filter(([k, c]) => (!filter.ns || k.startsWith(`${filter.ns}/`)) && (!filter.color || c === filter.color))
    .map(([k, c]) => `${k}=${c}`)
    .sort();
}

async function run(driver: (typeof DRIVERS)[number], steps: Step[]): Promise<void> {
  const store = await SqliteStore.open({ path: ":memory:", driver, retention: { maxRevisions: 1_000_000 } });
  const model = new Model();
  const watch = store.watch(Pods, { fromRevision: 0 });
  let paging: { rev: number; cont: string; seen: string[]; color?: string } | undefined;
  try {
    for (const step of steps) {
      if (step.t === "round") {
        // Every op is issued before any commits: the writer batches them in issue order.
        const issued = step.ops.map((op) => {
          const cur = model.live.get(`${op.ns}/${op.name}`);
          const rv =
            op.t === "update"
              ? op.rv === "current" ? String(cur?.rev ?? 1) : op.rv === "stale" ? String((cur?.rev ?? 2) - 1) : undefined
              : op.t === "delete"
                ? op.pre === "rv-current" ? String(cur?.rev ?? 1) : op.pre === "rv-stale" ? String((cur?.rev ?? 2) - 1) : undefined
                : undefined;
          let p: Promise<{ revision: number }>;
          if (op.t === "create") p = store.create(Pods, podOf(op));
          else if (op.t === "update") p = store.update(Pods, podOf(op, rv));
          else if (op.t === "mutate")
            p = store.guaranteedUpdate(Pods, op.ns, op.name, (o) => ({ ...o, metadata: { ...o.metadata, labels: { color: op.color } } }));
          else p = store.delete(Pods, op.ns, op.name, rv !== undefined ? { preconditions: { resourceVersion: rv } } : {});
          return { op, rv, p: p.then((r) => ({ revision: r.revision }), (e: unknown) => ({ error: (e as ApiError).reason as string })) };
        });
        for (const { op, rv, p } of issued) {
          const got = await p;
          const want = model.apply(op, rv);
          expect(got).toEqual("error" in want ? { error: want.error } : { revision: want.rev });
        }
        expect(await store.currentRevision()).toBe(model.rev);
      } else if (step.t === "list") {
        const r = await store.list(Pods, {
          ...(step.ns ? { namespace: step.ns } : {}),
          ...(step.color ? { labelSelector: parseLabelSelector(`color=${step.color}`) } : {}),
        });
        expect(r.revision).toBe(model.rev);
        expect(namesOf(r.items).sort()).toEqual(expectedList(model.stateAt(model.rev), step));
      } else if (step.t === "page") {
        const sel = step.color ? { labelSelector: parseLabelSelector(`color=${step.color}`) } : {};
        const r = await store.list(Pods, { limit: step.limit, ...sel });
        paging = r.continue ? { rev: r.revision, cont: r.continue, seen: namesOf(r.items), ...(step.color ? { color: step.color } : {}) } : undefined;
        if (!r.continue) expect(namesOf(r.items).sort()).toEqual(expectedList(model.stateAt(model.rev), step.color ? { color: step.color } : {}));
      } else if (step.t === "continue") {
        if (!paging) continue;
        if (paging.rev < model.compacted) {
          await expect(store.list(Pods, { limit: 2, continue: paging.cont })).rejects.toMatchObject({ code: 410 });
          paging = undefined;
          continue;
        }
        const sel = paging.color ? { labelSelector: parseLabelSelector(`color=${paging.color}`) } : {};
        const r = await store.list(Pods, { limit: 2, continue: paging.cont, ...sel });
        expect(r.revision).toBe(paging.rev);
        paging.seen.push(...namesOf(r.items));
        if (r.continue) paging.cont = r.continue;
        else {
          expect(paging.seen.sort()).toEqual(expectedList(model.stateAt(paging.rev), paging.color ? { color: paging.color } : {}));
          paging = undefined;
        }
      } else {
        const to = Math.max(0, model.rev - step.back);
        await store.compact(to);
        model.compacted = Math.max(model.compacted, to);
        expect(await store.compactedRevision()).toBe(model.compacted);
      }
    }
    // The watch from revision 0 saw exactly the model's history, in order.
    const seen: { rev: number; key: string; type: string; color: string }[] = [];
    while (seen.length < model.history.length) {
      const batch = await nextWithin(watch.nextBatch());
      if (!batch) break;
      for (const e of batch) {
        const m = e.object.metadata;
        seen.push({ rev: e.revision, key: `${m.namespace}/${m.name}`, type: e.type, color: m.labels!.color! });
      }
    }
    expect(seen).toEqual(model.history);
  } finally {
    watch.close();
    await store.close();
  }
}

describe("store model", () => {
  for (const driver of DRIVERS) {
    test(`random concurrent histories agree with the model (${driver})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(arbStep, { minLength: 5, maxLength: 40 }), (steps) => run(driver, steps)),
        { numRuns: 150 },
      );
    }, 60_000);
  }
});
