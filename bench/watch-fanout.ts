/**
 * @module Scenario `watch-fanout`: 1,000 watchers on Pods, one writer doing
 * 1,000 writes/s for 10 s (every 10 ms: 10 writes, alternating create of a new
 * pod and guaranteedUpdate of the pod created just before), file-backed store.
 *
 * - p50_ms / p99_ms: commit-to-delivery, over every (watcher, event) pair:
 *   delivery = `performance.now()` when the watcher's `await w.nextBatch()`
 *   returns the event; commit = when the SQLite COMMIT of the event's write
 *   batch returned (see lib/commit-clock.ts: the writer's own promise resolves
 *   only after all watchers were woken, so it cannot serve as the commit time).
 *   Samples go to a histogram with 0.01 ms buckets up to 1 s.
 * - bytes_per_watcher: heap after forced GC with N idle watchers (created, no
 *   consumer yet) minus heap before them, / N. With the consumer loops (one
 *   pending `nextBatch()` each) as an extra key.
 * - missed_events: Σ over watchers of (events written − events received), plus
 *   any out-of-order/duplicate deliveries and failed watches (expected 0).
 * `--quick`: 100 watchers, 2 s.
 */
import { join } from "node:path";
import { defaultDriver } from "../core/store/sql/driver.ts";
import { SqliteStore } from "../core/store/sqlite-store.ts";
import type { Watch } from "../core/store/types.ts";
import { Pods, pod } from "../test/fixtures/types.ts";
import { commitCount, installCommitClock, lastBatchCommitAt } from "./lib/commit-clock.ts";
import {
  type BenchOptions,
  type BenchResult,
  forceGc,
  Histogram,
  percentiles,
  progress,
  round,
  settledHeapUsed,
  sleep,
  storeFlags,
  withTempDir,
} from "./lib/common.ts";

const NAME = "watch-fanout";

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  const watchers = opts.quick ? 100 : 1_000;
  const seconds = opts.quick ? 2 : 10;
  const ratePerSec = 1_000;
  const tickMs = 10;
  const perTick = (ratePerSec * tickMs) / 1000;
  const totalWrites = ratePerSec * seconds;

  const uninstall = await installCommitClock(opts.driver ?? defaultDriver());
  try {
    return await withTempDir(async (dir) => {
      const store = await SqliteStore.open({ path: join(dir, "store.db"), ...storeFlags(opts) });
      try {
        if (!forceGc()) progress(NAME, "warn", { gc: "unavailable: bytes_per_watcher is noisy" });
        const rev0 = await store.currentRevision();

        // Consumer bookkeeping, allocated before the heap baseline so it does not count.
        const received = new Float64Array(watchers);
        const lastRev = new Float64Array(watchers).fill(rev0);
        const disorder = new Float64Array(watchers);
        const failed: string[] = [];
        const hist = new Histogram(0.01, 1000);
        // Commit time per revision, memoized on first sight (see lib/commit-clock.ts).
        const commitAt = new Float64Array(totalWrites + 1).fill(NaN);
        const commitOf = (rev: number): number => {
          const i = rev - rev0;
          let t = commitAt[i]!;
          if (Number.isNaN(t)) commitAt[i] = t = lastBatchCommitAt();
          return t;
        };
        // ---- memory of idle watchers
        const heap0 = settledHeapUsed();
        const ws: Watch[] = [];
        for (let i = 0; i < watchers; i++) ws.push(store.watch(Pods, { fromRevision: rev0 }));
        await sleep(10);
        const heap1 = settledHeapUsed();

        // ---- consumers
        const consume = async (w: Watch, id: number) => {
          try {
            for (;;) {
              const batch = await w.nextBatch();
              if (batch === null) return;
              const now = performance.now();
              let last = lastRev[id]!;
              for (const ev of batch) {
                if (ev.revision !== last + 1) disorder[id]!++;
                last = ev.revision;
                hist.add(now - commitOf(ev.revision));
              }
              lastRev[id] = last;
              received[id]! += batch.length;
            }
          } catch (e) {
            failed.push(e instanceof Error ? e.message : String(e));
          }
        };
        const consumers = ws.map((w, i) => consume(w, i));
        await sleep(10);
        const heap2 = settledHeapUsed();
        const bytesPerWatcher = (heap1 - heap0) / watchers;
        const bytesWithConsumer = (heap2 - heap0) / watchers;
        progress(NAME, "watchers", { n: watchers, bytes_per_watcher: Math.round(bytesPerWatcher), with_consumer: Math.round(bytesWithConsumer) });

        // ---- paced writer
        const ackAfterCommit = new Float64Array(totalWrites);
        const issueToAck = new Float64Array(totalWrites);
        const clockMismatch = { n: 0 };
        let writeErrors = 0;
        const inflight: Promise<void>[] = [];
        const write = (j: number): Promise<void> => {
          const issued = performance.now();
          const p =
            j % 2 === 0
              ? store.create(Pods, pod(`p-${j}`, { labels: { app: "fanout" } }))
              : store.guaranteedUpdate(Pods, "default", `p-${j - 1}`, (cur) => {
                  cur.metadata.annotations = { ...cur.metadata.annotations, "bench/seq": String(j) };
                  return cur;
                });
          return p.then(
            (s) => {
              const now = performance.now();
              const c = commitOf(s.revision);
              if (c !== lastBatchCommitAt()) clockMismatch.n++;
              ackAfterCommit[j] = now - c;
              issueToAck[j] = now - issued;
            },
            () => {
              writeErrors++;
            },
          );
        };
        const commits0 = commitCount();
        const t0 = performance.now();
        let lateTicks = 0;
        for (let tick = 0, j = 0; j < totalWrites; tick++) {
          const wait = t0 + tick * tickMs - performance.now();
          if (wait > 0) await sleep(wait);
          else if (wait < -tickMs) lateTicks++;
          for (let k = 0; k < perTick && j < totalWrites; k++, j++) inflight.push(write(j));
        }
        await Promise.all(inflight);
        const writeMs = performance.now() - t0;
        const revEnd = await store.currentRevision();
        const written = revEnd - rev0;

        // ---- drain: wait until every live watcher has reached revEnd (bounded)
        const deadline = performance.now() + 5000;
        while (performance.now() < deadline) {
          let behind = 0;
          for (let i = 0; i < watchers; i++) if (lastRev[i]! < revEnd) behind++;
          if (behind === failed.length) break;
          await sleep(5);
        }
        let missed = 0;
        let disordered = 0;
        for (let i = 0; i < watchers; i++) {
          missed += Math.max(0, written - received[i]!);
          disordered += disorder[i]!;
        }
        for (const w of ws) w.close();
        await Promise.all(consumers);

        const [ackP50, ackP99] = percentiles(ackAfterCommit, [50, 99]);
        const [issueP50, issueP99] = percentiles(issueToAck, [50, 99]);
        const p50 = hist.percentile(50);
        const p99 = hist.percentile(99);
        progress(NAME, "writes", {
          writes: written,
          secs: writeMs / 1000,
          per_s: Math.round(written / (writeMs / 1000)),
          commits: commitCount() - commits0,
          late_ticks: lateTicks,
          errors: writeErrors,
        });
        progress(NAME, "delivery", {
          samples: hist.count,
          p50_ms: p50,
          p99_ms: p99,
          max_ms: hist.max,
          missed,
          disordered,
          failed_watches: failed.length,
          ...(failed[0] ? { first_failure: JSON.stringify(failed[0]) } : {}),
        });
        return {
          metrics: {
            p50_ms: round(p50),
            p99_ms: round(p99),
            bytes_per_watcher: Math.round(bytesPerWatcher),
            missed_events: missed + disordered,
            failed_watches: failed.length,
            out_of_order_events: disordered,
            max_ms: round(hist.max),
            mean_ms: round(hist.mean),
            deliveries: hist.count,
            watchers,
            writes: written,
            writes_per_s_achieved: Math.round(written / (writeMs / 1000)),
            write_errors: writeErrors,
            write_commits: commitCount() - commits0,
            writer_ack_after_commit_p50_ms: round(ackP50!),
            writer_ack_after_commit_p99_ms: round(ackP99!),
            writer_issue_to_ack_p50_ms: round(issueP50!),
            writer_issue_to_ack_p99_ms: round(issueP99!),
            commit_clock_mismatches: clockMismatch.n,
            bytes_per_watcher_with_consumer: Math.round(bytesWithConsumer),
          },
          targets: { p99_ms: "<= 10", missed_events: "== 0" },
        };
      } finally {
        await store.close();
      }
    });
  } finally {
    uninstall();
  }
}
