/**
 * @module Key rotation chores over an EncryptingStore: re-sealing every
 * object with the primary key (after `rotate-key`, at server start, or by
 * `skiff secrets rewrite`), and finding which keys stored data still needs
 * (before `prune-keys` drops any). Plus the data dir's server lock that
 * keeps the offline commands from writing under a running server.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ResourceType } from "../../api/registry.ts";
import type { Store } from "../../store/types.ts";
import { EncryptingStore } from "./encrypting-store.ts";

export interface RewriteResult {
  /** Objects re-sealed with the primary key. */
  rewritten: number;
  /** Objects looked at. */
  total: number;
}

/**
 * Re-seals every object of `types` that is stored in plaintext or under a
 * non-primary key, then (when anything was rewritten) compacts history up to
 * now so that no older version sealed with another key (or not at all)
 * stays in the revision log. Watchers resuming from before that get 410 and
 * relist, as after any compaction.
 */
export async function rewriteAll(store: EncryptingStore, raw: Store, types: ResourceType[]): Promise<RewriteResult> {
  let rewritten = 0;
  let total = 0;
  for (const type of types.filter((t) => store.encrypts(t))) {
    let cont: string | undefined;
    do {
      const page = await raw.list(type, { limit: 500, ...(cont ? { continue: cont } : {}) });
      for (const item of page.items) {
        total++;
        if (EncryptingStore.sealedWith(item.object) === store.keys.primary) continue;
        const m = item.object.metadata;
        try {
          if (await store.reseal(type, m.namespace ?? "", m.name ?? "")) rewritten++;
        } catch (e) {
          if ((e as { reason?: string }).reason !== "NotFound") throw e; // deleted meanwhile
        }
      }
      cont = page.continue;
    } while (cont);
  }
  if (rewritten > 0) await raw.compact(await raw.currentRevision());
  return { rewritten, total };
}

/**
 * Key names that stored objects of `types` are sealed with, live or in
 * history (`"(plaintext)"` for objects not sealed at all), read through the
 * raw store: the live objects by list, the history after the compacted
 * revision by a watch replay.
 */
export async function keysInUse(raw: Store, types: ResourceType[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const count = (o: Parameters<typeof EncryptingStore.sealedWith>[0]) => {
    const k = EncryptingStore.sealedWith(o) ?? "(plaintext)";
    out.set(k, (out.get(k) ?? 0) + 1);
  };
  const current = await raw.currentRevision();
  const compacted = await raw.compactedRevision();
  for (const type of types) {
    let cont: string | undefined;
    do {
      const page = await raw.list(type, { limit: 500, ...(cont ? { continue: cont } : {}) });
      for (const item of page.items) count(item.object);
      cont = page.continue;
    } while (cont);
    if (current <= compacted) continue;
    const w = raw.watch(type, { fromRevision: compacted });
    try {
      while (w.lastRevision < current) {
        const batch = await Promise.race([w.nextBatch(), new Promise<null>((r) => setTimeout(() => r(null), 1000))]);
        if (batch === null) break; // replay done: nothing newer for this type
        for (const e of batch) if (e.type !== "BOOKMARK") count(e.object);
      }
    } finally {
      w.close();
    }
  }
  return out;
}

const LOCK = "server.pid";

/**
 * Marks `dataDir` as in use by this process (a pid file beside the keys);
 * returns the release function. The offline `skiff secrets` commands refuse
 * to write while a live process holds it.
 */
export function lockDataDir(dataDir: string): () => void {
  const dir = join(dataDir, "encryption");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK);
  writeFileSync(path, String(process.pid), { mode: 0o600 });
  return () => {
    try {
      if (readFileSync(path, "utf8") === String(process.pid)) rmSync(path, { force: true });
    } catch {
      /* already gone */
    }
  };
}

/** The pid of a live server using `dataDir`, if any (a stale pid file from a crash is ignored). */
export function serverHolding(dataDir: string): number | undefined {
  const path = join(dataDir, "encryption", LOCK);
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, "utf8").trim());
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM" ? pid : undefined;
  }
}
