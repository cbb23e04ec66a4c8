/**
 * @module Scenario `lease-churn`: 1,000 coordination.k8s.io Leases renewed
 * 500,000 times in all, round-robin (update k renews lease k % 1000 with a new
 * renewTime, so every update is a real write), by 64 concurrent updaters so
 * group commit applies. Each update is a `store.update` carrying the
 * resourceVersion from that lease's previous write (optimistic concurrency,
 * like a kubelet/leader-elector renewal). Compaction runs with the store's
 * DEFAULT retention (nothing tuned).
 * - updates: updates that succeeded; updates_per_s: their rate.
 * - db_bytes: database + WAL file size at the end, store still open.
 * - size_samples_mb: database + WAL size (MiB) after every 50,000 updates, to
 *   show whether it is flat after warm-up.
 * `--quick`: 50,000 updates (samples every 5,000).
 */
import { join } from "node:path";
import { defineType } from "../core/api/registry.ts";
import type { KubeObject } from "../core/api/meta.ts";
import { openSql } from "../core/store/sql/driver.ts";
import { SqliteStore } from "../core/store/sqlite-store.ts";
import { type BenchOptions, type BenchResult, dbBytes, progress, round, storeFlags, withTempDir } from "./lib/common.ts";

const NAME = "lease-churn";
const Leases = defineType({ group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true });
const NS = "kube-node-lease";
const MiB = 1024 * 1024;
const BASE_TIME = Date.UTC(2025, 0, 1);

/** Kubernetes MicroTime: RFC 3339 with microseconds. `us` is microseconds since BASE_TIME. */
function microTime(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(BASE_TIME + ms).toISOString(); // …SS.mmmZ
  return `${iso.slice(0, 23)}${String(us % 1000).padStart(3, "0")}Z`;
}

function lease(i: number, seq: number, transitions: number, resourceVersion?: string): KubeObject {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: `node-${i}`, namespace: NS, ...(resourceVersion ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: `node-${i}`,
      leaseDurationSeconds: 40,
      acquireTime: microTime(i * 1000),
      // Strictly increasing per lease: every update changes the object.
      renewTime: microTime(1_000_000_000 + seq * 10),
      leaseTransitions: transitions,
    },
  };
}

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  const leases = 1_000;
  const total = opts.quick ? 50_000 : 500_000;
  const every = opts.quick ? 5_000 : 50_000;
  const concurrency = 64;
  return withTempDir(async (dir) => {
    const path = join(dir, "store.db");
    const store = await SqliteStore.open({ path, ...storeFlags(opts) });
    const samples: number[] = [];
    let dbEnd = { db: 0, wal: 0 };
    let updates = 0;
    let conflicts = 0;
    let otherErrors = 0;
    let elapsed = 0;
    let revEnd = 0;
    let compactedEnd = 0;
    try {
      const rv: string[] = new Array(leases);
      for (let i = 0; i < leases; i++) rv[i] = (await store.create(Leases, lease(i, 0, 0))).object.metadata.resourceVersion!;
      let next = 0;
      const t0 = performance.now();
      const updater = async () => {
        for (let k = next++; k < total; k = next++) {
          const i = k % leases;
          try {
            const s = await store.update(Leases, lease(i, k + 1, Math.floor(k / (leases * 100)), rv[i]));
            rv[i] = String(s.revision);
            updates++;
          } catch (e) {
            if ((e as { code?: number }).code === 409) conflicts++;
            else otherErrors++;
          }
          if ((k + 1) % every === 0) {
            const b = dbBytes(path);
            samples.push(round((b.db + b.wal) / MiB, 2));
            progress(NAME, "sample", {
              updates: k + 1,
              db_mb: b.db / MiB,
              wal_mb: b.wal / MiB,
              per_s: Math.round((k + 1) / ((performance.now() - t0) / 1000)),
              revision: await store.currentRevision(),
              compacted: await store.compactedRevision(),
            });
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, updater));
      elapsed = performance.now() - t0;
      dbEnd = dbBytes(path);
      revEnd = await store.currentRevision();
      compactedEnd = await store.compactedRevision();
    } finally {
      await store.close();
    }
    // After close: what is in the file (separate connection, store closed).
    const closed = dbBytes(path);
    const conn = await openSql({ path, ...storeFlags(opts) });
    let logRows = 0;
    let freePages = 0;
    let pageSize = 0;
    try {
      logRows = Number(conn.prepare<{ n: number }>("SELECT count(*) AS n FROM log").get()!.n);
      freePages = Number(conn.prepare<{ freelist_count: number }>("PRAGMA freelist_count").get()!.freelist_count);
      pageSize = Number(conn.prepare<{ page_size: number }>("PRAGMA page_size").get()!.page_size);
    } finally {
      conn.close();
    }
    progress(NAME, "end", {
      updates,
      secs: elapsed / 1000,
      db_mb: dbEnd.db / MiB,
      wal_mb: dbEnd.wal / MiB,
      log_rows: logRows,
      free_mb: (freePages * pageSize) / MiB,
      conflicts,
      errors: otherErrors,
    });
    return {
      metrics: {
        updates,
        db_bytes: dbEnd.db + dbEnd.wal,
        size_samples_mb: samples,
        updates_per_s: Math.round(updates / (elapsed / 1000)),
        db_file_bytes: dbEnd.db,
        wal_bytes: dbEnd.wal,
        db_bytes_after_close: closed.db + closed.wal,
        log_rows_at_end: logRows,
        freelist_bytes_at_end: freePages * pageSize,
        revision_at_end: revEnd,
        compacted_revision_at_end: compactedEnd,
        conflicts,
        errors: otherErrors,
      },
      targets: { db_bytes: `<= ${64 * MiB} (64 MiB)`, size_samples_mb: "flat after warm-up" },
    };
  });
}
