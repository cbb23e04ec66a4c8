/**
 * @module Scenario `store-write`: create throughput and latency of the file-backed store.
 *
 * - creates_per_s_c{1,16,256}: N writers, each looping `await store.create(Pods, pod(...))`
 *   with unique names, a fixed number of creates per level, a fresh store (and file) per
 *   level. Compaction is kept idle (maxRevisions huge) so these measure the write path only.
 * - p99_ms: p99 of individual create latencies (call to resolve) of the c256 workload on the
 *   pre-filled store below with compaction idle: the anchor that p99_ms_compacting is compared
 *   with (same database, same workload, only compaction differs). p99_ms_fresh is the c256
 *   run on a fresh store above.
 * - raw_inserts_per_s: the ceiling anchor. The same driver opened directly with openSql()
 *   (same pragmas, same durability) on a fresh file; rows/s of single-row INSERTs of a
 *   store-sized pod JSON into `CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT)`, 256 rows
 *   per `BEGIN IMMEDIATE … COMMIT` (what group commit gets at c256), in a tight synchronous
 *   loop: no JSON work, no lookups, no secondary indexes, no event loop turns.
 * - p99_ms_compacting: a store pre-filled with 1,000 pods updated 200,000 times (retention off),
 *   copied; one copy is reopened with compaction idle (→ p99_ms), the other with `retention: { maxRevisions: 1000, intervalMs: 50 }` so compaction has a
 *   ~199,000-revision backlog, then the same c256 create workload. The p99 is over creates
 *   that completed while the backlog was still being compacted (the window in which the
 *   compacted revision had not yet reached the pre-fill's target); the whole-run p99 is
 *   reported too. compacted_during_run = compactedRevision() after − before the run.
 */
import { type BenchOptions, type BenchResult, percentiles, progress, round, storeFlags, withTempDir } from "./lib/common.ts";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { openSql } from "../core/store/sql/driver.ts";
import { SqliteStore } from "../core/store/sqlite-store.ts";
import type { RetentionOptions } from "../core/store/retention.ts";
import { Pods, pod } from "../test/fixtures/types.ts";

const NAME = "store-write";
const IDLE: Partial<RetentionOptions> = { maxRevisions: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER };

interface CreateRun {
  n: number;
  errors: number;
  elapsedMs: number;
  /** Per create: completion time relative to the run's start, and latency. */
  doneAt: Float64Array;
  latency: Float64Array;
}

/** `concurrency` writers share `n` creates of uniquely named pods. */
async function runCreates(store: SqliteStore, concurrency: number, n: number, prefix: string): Promise<CreateRun> {
  const doneAt = new Float64Array(n);
  const latency = new Float64Array(n);
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  const writer = async () => {
    for (let i = next++; i < n; i = next++) {
      const obj = pod(`${prefix}-${i}`, { labels: { app: "bench", writer: prefix } });
      const s = performance.now();
      try {
        await store.create(Pods, obj);
      } catch {
        errors++;
      }
      const e = performance.now();
      latency[i] = e - s;
      doneAt[i] = e - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, writer));
  return { n, errors, elapsedMs: performance.now() - t0, doneAt, latency };
}

/** Rows/s of 256-row INSERT transactions on a plain table, same driver and pragmas. */
async function rawInserts(path: string, opts: BenchOptions, rows: number, payload: string): Promise<number> {
  const conn = await openSql({ path, ...storeFlags(opts) });
  try {
    conn.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, data TEXT)");
    const ins = conn.prepare("INSERT INTO t (id, data) VALUES (?, ?)");
    // Vary each row a little (the name), as the store's rows differ.
    const cut = payload.indexOf("PLACEHOLDER");
    const head = payload.slice(0, cut);
    const tail = payload.slice(cut + "PLACEHOLDER".length);
    const t0 = performance.now();
    for (let id = 1; id <= rows; ) {
      conn.exec("BEGIN IMMEDIATE");
      for (let k = 0; k < 256 && id <= rows; k++, id++) ins.run(id, head + id + tail);
      conn.exec("COMMIT");
    }
    return rows / ((performance.now() - t0) / 1000);
  } finally {
    conn.close();
  }
}

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  const q = opts.quick;
  const levels: [number, number][] = [
    [1, q ? 500 : 5_000],
    [16, q ? 4_000 : 40_000],
    [256, q ? 10_000 : 100_000],
  ];
  const metrics: Record<string, number> = {};
  let sampleRaw = "";

  for (const [c, n] of levels) {
    await withTempDir(async (dir) => {
      const store = await SqliteStore.open({ path: join(dir, "store.db"), ...storeFlags(opts), retention: IDLE });
      try {
        const r = await runCreates(store, c, n, `c${c}`);
        const perSec = r.n / (r.elapsedMs / 1000);
        metrics[`creates_per_s_c${c}`] = Math.round(perSec);
        const [p50, p99] = percentiles(r.latency, [50, 99]);
        if (c === 256) {
          metrics.p99_ms_fresh = round(p99!);
          metrics.p50_ms_fresh = round(p50!);
        }
        if (r.errors) metrics[`errors_c${c}`] = r.errors;
        if (!sampleRaw) sampleRaw = (await store.get(Pods, "default", `c${c}-0`)).raw;
        progress(NAME, `c${c}`, { creates: r.n, secs: r.elapsedMs / 1000, per_s: Math.round(perSec), p50_ms: p50!, p99_ms: p99!, errors: r.errors });
      } finally {
        await store.close();
      }
    });
  }

  // Ceiling anchor: same driver/pragmas, plain table, 256 rows per transaction.
  await withTempDir(async (dir) => {
    const rows = q ? 20_000 : 100_000;
    const payload = sampleRaw.replace('"c1-0"', '"PLACEHOLDER"');
    const perSec = await rawInserts(join(dir, "raw.db"), opts, rows, payload);
    metrics.raw_inserts_per_s = Math.round(perSec);
    progress(NAME, "raw", { rows, payload_bytes: payload.length, per_s: Math.round(perSec) });
  });

  // Latency while compaction works through a large backlog.
  await withTempDir(async (dir) => {
    const path = join(dir, "store.db");
    const objects = 1_000;
    const updates = q ? 20_000 : 200_000;
    const t0 = performance.now();
    const pre = await SqliteStore.open({ path, ...storeFlags(opts), retention: IDLE });
    try {
      await runCreates(pre, 256, objects, "obj");
      let next = 0;
      const updater = async () => {
        for (let i = next++; i < updates; i = next++) {
          const o = pod(`obj-${i % objects}`, { labels: { app: "bench", writer: "obj" } });
          o.metadata = { ...o.metadata, annotations: { "bench/seq": String(i) } } as typeof o.metadata;
          await pre.update(Pods, o);
        }
      };
      await Promise.all(Array.from({ length: 256 }, updater));
    } finally {
      await pre.close();
    }
    progress(NAME, "prefill", { objects, updates, secs: (performance.now() - t0) / 1000 });
    // The anchor: the same pre-filled database and workload with compaction idle.
    const idlePath = join(dir, "idle.db");
    copyFileSync(path, idlePath);
    {
      const idle = await SqliteStore.open({ path: idlePath, ...storeFlags(opts), retention: IDLE });
      try {
        const r = await runCreates(idle, 256, levels[2]![1], "prefilled-idle");
        const [p50, p99] = percentiles(r.latency, [50, 99]);
        metrics.p99_ms = round(p99!);
        metrics.p50_ms = round(p50!);
        metrics.creates_per_s_c256_prefilled = Math.round(r.n / (r.elapsedMs / 1000));
        progress(NAME, "prefilled-idle", { creates: r.n, secs: r.elapsedMs / 1000, p50_ms: p50!, p99_ms: p99! });
      } finally {
        await idle.close();
      }
    }

    const store = await SqliteStore.open({ path, ...storeFlags(opts), retention: { maxRevisions: 1000, intervalMs: 50 } });
    try {
      const rev0 = await store.currentRevision();
      const backlogTarget = rev0 - 1000;
      const compacted0 = await store.compactedRevision();
      // Poll compaction progress to find when the pre-fill backlog was done.
      const start = performance.now();
      let caughtUpAt = Infinity;
      const poll = setInterval(() => {
        void store.compactedRevision().then((c) => {
          if (c >= backlogTarget && caughtUpAt === Infinity) caughtUpAt = performance.now() - start;
        });
      }, 5);
      const n = levels[2]![1];
      const r = await runCreates(store, 256, n, "compacting");
      clearInterval(poll);
      const compacted1 = await store.compactedRevision();
      if (compacted1 >= backlogTarget && caughtUpAt === Infinity) caughtUpAt = r.elapsedMs;
      const windowMs = Math.min(caughtUpAt, r.elapsedMs);
      const inWindow: number[] = [];
      for (let i = 0; i < r.n; i++) if (r.doneAt[i]! <= windowMs) inWindow.push(r.latency[i]!);
      const [p99Window] = percentiles(inWindow, [99]);
      const [p50All, p99All] = percentiles(r.latency, [50, 99]);
      metrics.p99_ms_compacting = round(p99Window!);
      metrics.p99_ms_compacting_whole_run = round(p99All!);
      metrics.p50_ms_compacting_whole_run = round(p50All!);
      metrics.compacted_during_run = compacted1 - compacted0;
      metrics.compaction_backlog_at_start = Math.max(0, backlogTarget - compacted0);
      metrics.compacting_window_ms = Math.round(windowMs);
      metrics.compacting_run_ms = Math.round(r.elapsedMs);
      metrics.creates_in_compacting_window = inWindow.length;
      metrics.creates_per_s_c256_compacting = Math.round(r.n / (r.elapsedMs / 1000));
      if (r.errors) metrics.errors_compacting = r.errors;
      progress(NAME, "compacting", {
        creates: r.n,
        secs: r.elapsedMs / 1000,
        compacted_from: compacted0,
        compacted_to: compacted1,
        backlog_done_ms: Number.isFinite(caughtUpAt) ? Math.round(caughtUpAt) : "never",
        p99_window_ms: p99Window!,
        p99_all_ms: p99All!,
      });
    } finally {
      const tc = performance.now();
      await store.close();
      progress(NAME, "close", { secs: (performance.now() - tc) / 1000 });
    }
  });

  const ordered: Record<string, number> = {};
  for (const k of ["creates_per_s_c1", "creates_per_s_c16", "creates_per_s_c256", "raw_inserts_per_s", "p99_ms", "p99_ms_compacting"]) {
    ordered[k] = metrics[k]!;
  }
  return {
    metrics: { ...ordered, ...metrics },
    targets: { creates_per_s_c256: ">= 30000", p99_ms_compacting: "<= 2 x p99_ms" },
  };
}
