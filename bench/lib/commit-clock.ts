/**
 * @module Commit clock for the watch benchmark: wraps the SQLite driver's
 * `exec` (bun:sqlite's Database, libsql's Database) so the bench knows when a
 * write transaction's `COMMIT` returned, without touching store code.
 *
 * Why: the store publishes a batch's events (waking watchers) *before* it
 * resolves the writers' promises, so in microtask order every watcher sees an
 * event before the writer learns its write committed; "writer resolve time"
 * would make commit-to-delivery negative. The store's writer loop runs each
 * batch in its own macrotask (setImmediate): BEGIN … COMMIT, publish, resolve,
 * then possibly a compaction transaction in the same macrotask. So the *first*
 * COMMIT of a macrotask is the write batch's commit, and the watchers and
 * writers that wake in the microtasks right after it read it here.
 */
import type { DriverName } from "../../core/store/sql/driver.ts";

interface Patchable {
  prototype: { exec(sql: string, ...rest: unknown[]): unknown };
}

let firstCommitAt = NaN;
let armed = false;
let commits = 0;

/** When the first COMMIT of the most recent macrotask that committed returned. */
export function lastBatchCommitAt(): number {
  return firstCommitAt;
}

export function commitCount(): number {
  return commits;
}

function onCommit(): void {
  commits++;
  if (armed) return;
  armed = true;
  firstCommitAt = performance.now();
  // Runs before the continuations the store's publish/resolve queue right after this COMMIT.
  queueMicrotask(() => {
    armed = false;
  });
}

/** Installs the wrapper on the driver's class; returns an uninstall function. */
export async function installCommitClock(driver: DriverName): Promise<() => void> {
  const cls: Patchable =
    driver === "bun-sqlite"
      ? ((await import("bun:sqlite" as string)) as { Database: Patchable }).Database
      : ((await import("libsql")) as unknown as { default: Patchable }).default;
  const proto = cls.prototype;
  const original = proto.exec;
  proto.exec = function (this: unknown, sql: string, ...rest: unknown[]) {
    const r = original.call(this, sql, ...rest);
    if (sql === "COMMIT") onCommit();
    return r;
  };
  return () => {
    proto.exec = original;
  };
}
