/**
 * @module The SQLite/libSQL store: one connection, one writer that commits
 * concurrent requests together (group commit) and then publishes their events
 * in revision order, reads served straight from SQLite, watches from the
 * in-memory window or the revision log, and incremental compaction
 * interleaved with writes. Design: README.md beside this file.
 */
import { setImmediate } from "node:timers";
import { errors, type ApiError, isApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import type { ResourceType } from "../api/registry.ts";
import { decodeContinue, encodeContinue } from "./continue-token.ts";
import { type DriverName, type Durability, openSql, type SqlConnection } from "./sql/driver.ts";
import { type KeyRow, type LogRow, Statements } from "./sql/statements.ts";
import { OP_ADDED, OP_DELETED, OP_MODIFIED } from "./schema.ts";
import { Retention, type RetentionOptions } from "./retention.ts";
import { type ChangeEvent, WatchHub, Watcher } from "./watch-hub.ts";
import { deepEqual } from "../api/json.ts";
import { finalizeObject, markDeleted, prepareCreate, prepareUpdate, type Sel, selOf } from "./write-path.ts";
import type {
  CreateOptions,
  DeleteOptions,
  ListOptions,
  ListResult,
  Store,
  StoredObject,
  Watch,
  WatchOptions,
  WriteOptions,
} from "./types.ts";

export interface SqliteStoreOptions {
  /** Database file, or `:memory:`. */
  path: string;
  driver?: DriverName;
  durability?: Durability;
  retention?: Partial<RetentionOptions>;
  /** Events kept in memory for watch resumes. Default 10,000. */
  watchWindow?: number;
  /** Undelivered events a watcher may hold before it is cut off. Default 10,000. */
  maxWatchQueue?: number;
  /** How often idle watchers that asked for bookmarks get one. Default 5 s. */
  bookmarkIntervalMs?: number;
  /** Most write requests committed in one transaction. Default 1,000. */
  maxBatch?: number;
}

class Stored implements StoredObject {
  #parsed: KubeObject | undefined;
  constructor(
    readonly revision: number,
    readonly raw: string,
    parsed?: KubeObject,
  ) {
    this.#parsed = parsed;
  }
  get object(): KubeObject {
    return (this.#parsed ??= JSON.parse(this.raw) as KubeObject);
  }
}

/** One queued write. `run` does all checks before it writes anything. */
interface WriteOp {
  run(tx: Tx): { result: StoredObject; event?: ChangeEvent };
  resolve(v: StoredObject): void;
  reject(e: unknown): void;
}

/** What an op sees inside the write transaction. */
interface Tx {
  nextRevision(): number;
}

const LIST_CHUNK = 1000;
/** Compaction time allowed inside a write batch, and alone when writers are idle. */
const WRITE_COMPACT_BUDGET_MS = 1;
const IDLE_COMPACT_BUDGET_MS = 5;
const REPLAY_PAGE = 1000;

export class SqliteStore implements Store {
  readonly #conn: SqlConnection;
  readonly #st: Statements;
  readonly #hub: WatchHub;
  readonly #retention: Retention;
  readonly #opts: Required<Pick<SqliteStoreOptions, "maxWatchQueue" | "maxBatch">>;
  #revision: number;
  #compacted: number;
  /** Per resource: the revision of its latest write (lists newer than this can use `current`). */
  readonly #lastWrite = new Map<string, number>();
  #queue: WriteOp[] = [];
  /** Revisions compacted per millisecond (moving average), to size compaction slices. */
  #compactRate = 40;
  /**
   * Per resource, loaded on its first selector list and kept current by the
   * writer: every live key with its revision and parsed `sel`, by namespace.
   * Selector lists filter here and read only the matching objects' data.
   */
  readonly #liveIndex = new Map<string, Map<string, Map<string, LiveEntry>>>();
  #scheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];
  readonly #timers: ReturnType<typeof setInterval>[] = [];

  private constructor(conn: SqlConnection, opts: SqliteStoreOptions) {
    this.#conn = conn;
    this.#st = new Statements(conn);
    this.#revision = Math.max(this.#st.getMeta.get("revision")?.value ?? 0, 0);
    this.#compacted = this.#st.getMeta.get("compacted")?.value ?? 0;
    for (const r of this.#st.lastWritePerResource.all()) {
      this.#lastWrite.set(r.resource, r.rev);
      this.#revision = Math.max(this.#revision, r.rev);
    }
    this.#hub = new WatchHub(this.#revision, { windowSize: opts.watchWindow ?? 10_000 });
    this.#retention = new Retention(opts.retention);
    this.#opts = { maxWatchQueue: opts.maxWatchQueue ?? 10_000, maxBatch: opts.maxBatch ?? 1000 };
    this.#retention.sample(this.#revision);
    const tick = setInterval(() => {
      this.#retention.sample(this.#revision);
      if (this.#retention.target(this.#revision) > this.#compacted) this.#schedule();
    }, this.#retention.options.intervalMs);
    const bm = setInterval(() => this.#hub.tickBookmarks(), opts.bookmarkIntervalMs ?? 5000);
    for (const t of [tick, bm]) {
      (t as { unref?: () => void }).unref?.();
      this.#timers.push(t);
    }
  }

  static async open(opts: SqliteStoreOptions): Promise<SqliteStore> {
    const conn = await openSql({
      path: opts.path,
      ...(opts.driver ? { driver: opts.driver } : {}),
      ...(opts.durability ? { durability: opts.durability } : {}),
    });
    return new SqliteStore(conn, opts);
  }

  get driver(): DriverName {
    return this.#conn.driver;
  }

  // ---- writes -------------------------------------------------------------

  #enqueue(run: WriteOp["run"]): Promise<StoredObject> {
    if (this.#closed) return Promise.reject(errors.serviceUnavailable("store is closed"));
    return new Promise((resolve, reject) => {
      this.#queue.push({ run, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#loop());
  }

  #loop(): void {
    this.#scheduled = false;
    if (this.#queue.length > 0) this.#flush();
    else if (!this.#closed && this.#compactionDue()) this.#compactAlone();
    if (this.#queue.length > 0 || (!this.#closed && this.#compactionDue())) {
      this.#schedule();
    } else {
      for (const f of this.#idle.splice(0)) f();
    }
  }

  #compactionDue(): boolean {
    return this.#retention.target(this.#revision) > this.#compacted;
  }

  /** Commits up to maxBatch queued writes in one transaction, then publishes. */
  #flush(): void {
    const batch = this.#queue.splice(0, this.#opts.maxBatch);
    const start = this.#revision;
    let rev = start;
    let compactedTo: number | undefined;
    const done: { op: WriteOp; result?: StoredObject; error?: unknown; event?: ChangeEvent }[] = [];
    const tx: Tx = { nextRevision: () => rev + 1 };
    try {
      this.#conn.exec("BEGIN IMMEDIATE");
    } catch (e) {
      for (const op of batch) op.reject(errors.internal(`cannot begin transaction: ${(e as Error).message}`));
      return;
    }
    try {
      for (const op of batch) {
        try {
          const r = op.run(tx);
          if (r.event) rev = r.event.revision;
          done.push({ op, result: r.result, ...(r.event ? { event: r.event } : {}) });
        } catch (e) {
          if (!isApiError(e)) throw e; // an SQL failure mid-write: abort the whole batch
          done.push({ op, error: e });
        }
      }
      if (rev !== start) this.#st.setMeta.run("revision", rev);
      // A slice of compaction rides in the same transaction (and fsync) as the writes.
      compactedTo = this.#compactSlice(WRITE_COMPACT_BUDGET_MS);
      this.#conn.exec("COMMIT");
    } catch (e) {
      try {
        this.#conn.exec("ROLLBACK");
      } catch {
        /* the transaction may already be gone */
      }
      this.#liveIndex.clear();
      const err = errors.internal(`write failed: ${(e as Error).message}`);
      for (const op of batch) op.reject(err);
      return;
    }
    this.#revision = rev;
    if (compactedTo !== undefined) this.#compacted = compactedTo;
    const events: ChangeEvent[] = [];
    for (const d of done) {
      if (d.event) {
        events.push(d.event);
        this.#lastWrite.set(d.event.resource, d.event.revision);
      }
    }
    this.#hub.publish(events);
    for (const d of done) (d.error !== undefined ? d.op.reject(d.error) : d.op.resolve(d.result!));
  }

  #exists(type: ResourceType, ns: string, name: string): boolean {
    return this.#st.exists.get(type.key, ns, name) !== undefined;
  }

  /** Reads the live row of a key inside or outside a transaction. */
  #live(type: ResourceType, ns: string, name: string) {
    return this.#st.getLive(type.key, ns, name);
  }

  create(type: ResourceType, obj: KubeObject, opts: CreateOptions = {}): Promise<StoredObject> {
    let draft: ReturnType<typeof prepareCreate>;
    try {
      draft = prepareCreate(type, obj, { keepUid: opts.keepUid ?? false });
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#enqueue((tx) => {
      const ns = draft.namespace;
      let name = draft.name;
      if (!name) {
        do name = draft.generateName(); while (this.#exists(type, ns, name));
      } else if (this.#exists(type, ns, name)) {
        throw errors.alreadyExists({ resource: type.plural, group: type.group, name });
      }
      if (opts.dryRun) {
        const o = draft.build(name, undefined);
        return { result: new Stored(0, JSON.stringify(o), o) };
      }
      const rev = tx.nextRevision();
      const o = draft.build(name, rev);
      return this.#commitWrite(type, o, rev, OP_ADDED, undefined);
    });
  }

  /** Serializes, size-checks and writes one new version; returns its result and event. */
  #commitWrite(
    type: ResourceType,
    o: KubeObject,
    rev: number,
    op: number,
    prev: { rev: number; sel: string } | undefined,
  ): { result: StoredObject; event: ChangeEvent } {
    const raw = finalizeObject(type, o);
    const sel = selOf(type, o);
    const selText = JSON.stringify(sel);
    const ns = o.metadata.namespace ?? "";
    const name = o.metadata.name!;
    this.#st.insertLog.run(rev, type.key, ns, name, op, prev?.rev ?? 0, selText, raw);
    if (op === OP_DELETED) this.#st.deleteCurrent.run(type.key, ns, name);
    else this.#st.upsertCurrent.run(type.key, ns, name, rev);
    const idx = this.#liveIndex.get(type.key);
    if (idx) {
      let byName = idx.get(ns);
      if (op === OP_DELETED) byName?.delete(name);
      else {
        if (!byName) idx.set(ns, (byName = new Map()));
        byName.set(name, { rev, sel });
      }
    }
    const prevSel = prev ? (JSON.parse(prev.sel) as Sel) : undefined;
    const event: ChangeEvent = {
      type: op === OP_ADDED ? "ADDED" : op === OP_DELETED ? "DELETED" : "MODIFIED",
      revision: rev,
      resource: type.key,
      ns,
      raw,
      labels: sel.l,
      fields: sel.f,
      ...(prevSel ? { prevLabels: prevSel.l, prevFields: prevSel.f } : {}),
      parsed: o,
    };
    return { result: new Stored(rev, raw, o), event };
  }

  update(type: ResourceType, obj: KubeObject, opts: WriteOptions = {}): Promise<StoredObject> {
    const ns = obj?.metadata?.namespace ?? "";
    const name = obj?.metadata?.name ?? "";
    return this.#enqueue((tx) => this.#applyUpdate(tx, type, ns, name, () => obj, opts, true));
  }

  guaranteedUpdate(
    type: ResourceType,
    namespace: string,
    name: string,
    mutate: (current: KubeObject) => KubeObject,
    opts: WriteOptions = {},
  ): Promise<StoredObject> {
    return this.#enqueue((tx) => this.#applyUpdate(tx, type, namespace, name, mutate, opts, false));
  }

  #applyUpdate(
    tx: Tx,
    type: ResourceType,
    ns: string,
    name: string,
    next: (cur: KubeObject) => KubeObject,
    opts: WriteOptions,
    checkVersion: boolean,
  ): { result: StoredObject; event?: ChangeEvent } {
    const live = this.#live(type, ns, name);
    if (!live) throw errors.notFound({ resource: type.plural, group: type.group, name });
    const cur = JSON.parse(live.data) as KubeObject;
    // A mutate may change what it is given; `cur` must stay the stored version (a second parse is cheaper than structuredClone).
    const proposed = checkVersion ? next(cur) : next(JSON.parse(live.data) as KubeObject);
    const o = prepareUpdate(type, cur, proposed, { checkVersion, liveRevision: live.rev, keepGeneration: opts.keepGeneration === true });
    // Semantically unchanged (key order aside): no new revision, no event, as in Kubernetes.
    if (deepEqual(o, cur)) return { result: new Stored(live.rev, live.data, cur) };
    const unchangedRaw = finalizeObject(type, o);
    // As kube-apiserver: an update that removes the last finalizer of an object
    // being deleted with no grace period left completes the deletion.
    const finished =
      o.metadata.deletionTimestamp !== undefined &&
      (o.metadata.finalizers?.length ?? 0) === 0 &&
      (cur.metadata.finalizers?.length ?? 0) > 0 &&
      o.metadata.deletionGracePeriodSeconds === 0;
    if (opts.dryRun) return { result: new Stored(live.rev, unchangedRaw, o) };
    const rev = tx.nextRevision();
    o.metadata.resourceVersion = String(rev);
    return this.#commitWrite(type, o, rev, finished ? OP_DELETED : OP_MODIFIED, live);
  }

  delete(type: ResourceType, namespace: string, name: string, opts: DeleteOptions = {}): Promise<StoredObject> {
    return this.#enqueue((tx) => {
      const live = this.#live(type, namespace, name);
      const q = { resource: type.plural, group: type.group, name };
      if (!live) throw errors.notFound(q);
      const cur = JSON.parse(live.data) as KubeObject;
      const pre = opts.preconditions;
      if (pre?.uid !== undefined && pre.uid !== cur.metadata.uid) {
        throw errors.conflict(q, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid ?? ""}`);
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== String(live.rev)) {
        throw errors.conflict(
          q,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${live.rev}`,
        );
      }
      const marked = opts.graceful ? markDeleted(type, cur, opts.graceful) : undefined;
      if (opts.dryRun) return { result: new Stored(live.rev, marked ? JSON.stringify(marked) : live.data, marked ?? cur) };
      const rev = tx.nextRevision();
      const o = marked ?? cur;
      o.metadata.resourceVersion = String(rev);
      return this.#commitWrite(type, o, rev, marked ? OP_MODIFIED : OP_DELETED, live);
    });
  }

  // ---- reads --------------------------------------------------------------

  async get(type: ResourceType, namespace: string, name: string): Promise<StoredObject> {
    const live = this.#live(type, namespace, name);
    if (!live) throw errors.notFound({ resource: type.plural, group: type.group, name });
    return new Stored(live.rev, live.data);
  }

  async list(type: ResourceType, opts: ListOptions = {}): Promise<ListResult> {
    let revision = this.#revision;
    let after: [string, string] | undefined;
    if (opts.continue) {
      const t = decodeContinue(opts.continue);
      revision = t.revision;
      after = t.after;
      if (revision < this.#compacted) {
        throw errors.expired(
          "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
        );
      }
    } else if (opts.revision !== undefined) {
      revision = opts.revision;
      if (revision < this.#compacted) throw errors.expired(`too old resource version: ${revision} (${this.#compacted})`);
    }
    if (revision > this.#revision) {
      throw errors.timeout(`Too large resource version: ${revision}, current: ${this.#revision}`);
    }
    const snapshot = revision < (this.#lastWrite.get(type.key) ?? 0);
    const namespaced = opts.namespace !== undefined && type.namespaced;
    const filtered = opts.labelSelector !== undefined || opts.fieldSelector !== undefined;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const plan: ListPlan = { type, opts, revision, after, limit, namespaced };
    if (snapshot) return this.#listSnapshot(plan);
    if (filtered) return this.#listIndexed(plan);
    const items: StoredObject[] = [];
    let more = false;
    for (const row of this.#liveRows(type, opts, after, limit, true)) {
      if (items.length >= limit) {
        more = true;
        break;
      }
      items.push(new Stored(row.rev, row.data!));
    }
    const result: ListResult = { items, revision };
    if (more) {
      const key = lastKeyOf(items);
      result.continue = encodeContinue({ revision, after: key });
      const cp: string[] = [type.key];
      if (namespaced) cp.push(opts.namespace!);
      cp.push(key[0], key[1]);
      result.remainingItemCount = this.#st.countAfter(namespaced).get(...cp)?.n ?? 0;
    }
    return result;
  }

  /** Live rows in key order after `after`, read from `current` in chunks. */
  *#liveRows(type: ResourceType, opts: ListOptions, after: [string, string] | undefined, limit: number, withData: boolean): Generator<KeyRow> {
    const namespaced = opts.namespace !== undefined && type.namespaced;
    const chunk = limit === Infinity ? LIST_CHUNK * 10 : Math.max(LIST_CHUNK, limit + 1);
    let lastKey = after;
    for (;;) {
      const params: (string | number)[] = [type.key];
      if (namespaced) params.push(opts.namespace!);
      if (lastKey) params.push(lastKey[0], lastKey[1]);
      params.push(chunk);
      const rows = this.#st.list({ namespaced, after: lastKey !== undefined, withData }).all(...params);
      for (const row of rows) {
        lastKey = [row.ns, row.name];
        yield row;
      }
      if (rows.length < chunk) return;
    }
  }

  /**
   * A list as of a past revision R: the live keys, except that every key
   * written after R is replaced by its version at R (the `prev_rev` of its
   * first row after R; none if it was created after R). Compaction never removes
   * those versions while R is above the compacted revision.
   */
  #listSnapshot(plan: ListPlan): ListResult {
    const { type, opts, revision, after, limit, namespaced } = plan;
    const overridden = new Set<string>();
    const extras: { ns: string; name: string; rev: number }[] = [];
    for (const c of this.#st.changesAfter.all(type.key, revision)) {
      if (namespaced && c.ns !== opts.namespace) continue;
      overridden.add(`${c.ns}\u0000${c.name}`);
      if (c.prev > 0 && (!after || keyCmp(c, { ns: after[0], name: after[1] }) > 0)) extras.push({ ns: c.ns, name: c.name, rev: c.prev });
    }
    extras.sort(keyCmp);
    const filtered = opts.labelSelector !== undefined || opts.fieldSelector !== undefined;
    const items: StoredObject[] = [];
    let more = false;
    let e = 0;
    const take = (rev: number, sel: string, data: string | undefined): boolean => {
      if (items.length >= limit) {
        more = true;
        return false;
      }
      if (!filtered || selected(JSON.parse(sel) as Sel, opts)) items.push(new Stored(rev, data ?? this.#st.dataAt.get(rev)!.data));
      return true;
    };
    const takeExtra = (): boolean => {
      const x = this.#st.rowAt.get(extras[e++]!.rev)!;
      return take(x.rev, x.sel, x.data);
    };
    scan: {
      for (const row of this.#liveRows(type, opts, after, limit, !filtered)) {
        while (e < extras.length && keyCmp(extras[e]!, row) < 0) if (!takeExtra()) break scan;
        if (overridden.has(`${row.ns}\u0000${row.name}`)) continue;
        if (!take(row.rev, row.sel!, row.data)) break scan;
      }
      while (e < extras.length) if (!takeExtra()) break scan;
    }
    const result: ListResult = { items, revision };
    if (more) result.continue = encodeContinue({ revision, after: lastKeyOf(items) });
    return result;
  }

  /** The live index of a resource, loaded from `current` on first use. */
  #index(resource: string): Map<string, Map<string, LiveEntry>> {
    let idx = this.#liveIndex.get(resource);
    if (idx) return idx;
    idx = new Map();
    for (const r of this.#st.liveKeys.all(resource)) {
      let byName = idx.get(r.ns);
      if (!byName) idx.set(r.ns, (byName = new Map()));
      byName.set(r.name, { rev: r.rev, sel: JSON.parse(r.sel) as Sel });
    }
    this.#liveIndex.set(resource, idx);
    return idx;
  }

  /** A selector list of live objects, served from the live index. */
  #listIndexed(plan: ListPlan): ListResult {
    const { type, opts, revision, after, limit, namespaced } = plan;
    const idx = this.#index(type.key);
    const found: { ns: string; name: string; rev: number }[] = [];
    const scan = (ns: string, byName: Map<string, LiveEntry>) => {
      for (const [name, e] of byName) {
        if (after && (ns < after[0] || (ns === after[0] && name <= after[1]))) continue;
        if (selected(e.sel, opts)) found.push({ ns, name, rev: e.rev });
      }
    };
    if (namespaced) {
      const byName = idx.get(opts.namespace!);
      if (byName) scan(opts.namespace!, byName);
    } else for (const [ns, byName] of idx) scan(ns, byName);
    found.sort(keyCmp);
    const page = found.length > limit ? found.slice(0, limit) : found;
    const items = page.map((f) => new Stored(f.rev, this.#st.dataAt.get(f.rev)!.data));
    const result: ListResult = { items, revision };
    if (found.length > limit) {
      const last = page[page.length - 1]!;
      result.continue = encodeContinue({ revision, after: [last.ns, last.name] });
    }
    return result;
  }

  watch(type: ResourceType, opts: WatchOptions = {}): Watch {
    const from = opts.fromRevision ?? this.#revision;
    const w = new Watcher(
      {
        type,
        ...(opts.namespace !== undefined && type.namespaced ? { namespace: opts.namespace } : {}),
        ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
        ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
        bookmarks: opts.bookmarks ?? false,
      },
      opts.sendInitialEvents ? this.#revision : from,
      this.#opts.maxWatchQueue,
    );
    if (this.#closed) {
      w.close();
      return w;
    }
    if (opts.sendInitialEvents) {
      this.#startWithInitialEvents(w, opts).catch((e: unknown) => w.fail(asApiError(e)));
    } else {
      this.#catchUp(w, from).catch((e: unknown) => w.fail(asApiError(e)));
    }
    return w;
  }

  /** Sends ADDED for every live object (one consistent snapshot), then goes live. */
  async #startWithInitialEvents(w: Watcher, opts: WatchOptions): Promise<void> {
    const snap = await this.list(w.filter.type, {
      ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
      ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}),
      ...(opts.fieldSelector ? { fieldSelector: opts.fieldSelector } : {}),
    });
    // list() is synchronous underneath: no commit can have happened in between.
    for (const item of snap.items) w.push({ type: "ADDED", revision: item.revision, raw: item.raw, object: item.object });
    w.queuedRevision = snap.revision;
    if (opts.bookmarks) w.bookmark(snap.revision, { "k8s.io/initial-events-end": "true" });
    this.#hub.add(w);
    w.wake();
  }

  /**
   * Replays history after `from` (from the memory window, else the log), a
   * page at a time and no faster than the consumer drains it, then goes live.
   * Going live happens in the same synchronous step as reading the last page,
   * so no commit can fall between them.
   */
  async #catchUp(w: Watcher, from: number): Promise<void> {
    const key = w.filter.type.key;
    const page = Math.min(REPLAY_PAGE, Math.max(1, this.#opts.maxWatchQueue >> 1));
    let cursor = from;
    for (;;) {
      if (!w.active) return;
      if (cursor < this.#compacted) {
        throw errors.expired(`too old resource version: ${cursor} (${this.#compacted})`);
      }
      const mem = this.#hub.since(key, cursor, page);
      let complete: boolean;
      if (mem) {
        for (const ev of mem.events) w.offer(ev, true);
        complete = mem.complete;
      } else {
        const rows = this.#st.replay.all(key, cursor, page);
        for (const r of rows) w.offer(changeFromRow(key, r), true);
        complete = rows.length < page;
      }
      if (complete) {
        this.#hub.add(w);
        w.wake();
        return;
      }
      cursor = w.queuedRevision;
      w.wake();
      await w.drained();
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  async currentRevision(): Promise<number> {
    return this.#revision;
  }

  async compactedRevision(): Promise<number> {
    return this.#compacted;
  }

  // ---- compaction ---------------------------------------------------------

  /**
   * Compacts as many revisions as fit in `budgetMs` (by the measured rate),
   * inside the caller's transaction. Returns the new compacted revision, to be
   * adopted once the transaction commits; undefined when there is nothing to do.
   */
  #compactSlice(budgetMs: number): number | undefined {
    const target = this.#retention.target(this.#revision);
    const from = this.#compacted;
    if (target <= from) return undefined;
    const n = Math.max(16, Math.min(this.#retention.options.batchRevisions, Math.floor(budgetMs * this.#compactRate)));
    const to = Math.min(target, from + n);
    const t0 = performance.now();
    this.#st.compactSuperseded.run(from, to);
    this.#st.compactTombstones.run(from, to);
    this.#st.setMeta.run("compacted", to);
    const rate = (to - from) / Math.max(performance.now() - t0, 0.05);
    this.#compactRate = this.#compactRate * 0.7 + rate * 0.3;
    return to;
  }

  /** A compaction slice in a transaction of its own, when no writes are waiting. */
  #compactAlone(): void {
    this.#conn.exec("BEGIN IMMEDIATE");
    let to: number | undefined;
    try {
      to = this.#compactSlice(IDLE_COMPACT_BUDGET_MS);
      this.#conn.exec("COMMIT");
    } catch {
      try {
        this.#conn.exec("ROLLBACK");
      } catch {
        /* already rolled back */
      }
      return;
    }
    if (to !== undefined) this.#compacted = to;
  }

  async compact(revision?: number): Promise<void> {
    const target = Math.min(revision ?? this.#retention.target(this.#revision), this.#revision);
    if (target <= this.#compacted) return;
    this.#retention.force(target);
    this.#schedule();
    await this.#whenIdle();
  }

  #whenIdle(): Promise<void> {
    return new Promise((r) => {
      this.#idle.push(r);
      this.#schedule();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#whenIdle();
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    this.#hub.closeAll();
    try {
      this.#conn.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch {
      /* best effort: the WAL is replayed at next open anyway */
    }
    this.#st.finalize();
    this.#conn.close();
  }

  /**
   * Ends every live watch (clients resume from their last resourceVersion).
   * For shutdown, and for tests that need clients to reconnect.
   */
  closeWatchers(): void {
    this.#hub.closeAll();
  }

  /** Live watchers (metrics, tests). */
  get watcherCount(): number {
    return this.#hub.watcherCount;
  }
}

/** Order of keys as SQLite's binary collation sorts them (names are ASCII). */
function keyCmp(a: { ns: string; name: string }, b: { ns: string; name: string }): number {
  return a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function lastKeyOf(items: StoredObject[]): [string, string] {
  const m = items[items.length - 1]!.object.metadata;
  return [m.namespace ?? "", m.name ?? ""];
}

/** One list request, resolved: the revision it is served at and where the page starts. */
interface ListPlan {
  type: ResourceType;
  opts: ListOptions;
  revision: number;
  after: [string, string] | undefined;
  limit: number;
  /** Restricted to `opts.namespace`. */
  namespaced: boolean;
}

interface LiveEntry {
  rev: number;
  sel: Sel;
}

function selected(sel: Sel, opts: ListOptions): boolean {
  return (!opts.labelSelector || opts.labelSelector.matches(sel.l)) && (!opts.fieldSelector || opts.fieldSelector.matches(sel.f));
}

function changeFromRow(resource: string, r: LogRow): ChangeEvent {
  const sel = JSON.parse(r.sel) as Sel;
  const psel = r.psel ? (JSON.parse(r.psel) as Sel) : undefined;
  return {
    type: r.op === OP_ADDED ? "ADDED" : r.op === OP_DELETED ? "DELETED" : "MODIFIED",
    revision: r.rev,
    resource,
    ns: r.ns,
    raw: r.data,
    labels: sel.l,
    fields: sel.f,
    ...(psel ? { prevLabels: psel.l, prevFields: psel.f } : {}),
  };
}

function asApiError(e: unknown): ApiError {
  return isApiError(e) ? e : errors.internal(e instanceof Error ? e.message : String(e));
}
