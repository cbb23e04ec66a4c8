/**
 * @module A shared informer: a list+watch cache of one resource (optionally
 * narrowed by namespace and selectors) that tells handlers about adds,
 * updates and deletes.
 *
 * - Start: list (in pages), then watch with bookmarks from the list's
 *   resourceVersion.
 * - A watch that ends (server timeout, dropped connection, 429) is resumed
 *   from the last resourceVersion seen: no relist, no duplicate events.
 * - 410 Expired (the resourceVersion was compacted away) relists, and the
 *   difference between the old cache and the new list is emitted as adds,
 *   updates (resourceVersion changed) and deletes.
 * - Failures back off (jittered, 100 ms doubling to 5 s by default) and are
 *   logged; the loop itself never rejects.
 *
 * Cached objects are shared by every handler and reader: clone before changing.
 */
import { isApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import { type Logger, logger } from "../log.ts";
import { Backoff, type BackoffOptions, sleep } from "./backoff.ts";
import { keyFor, keyOf } from "./keys.ts";
import type { Client, Informer, InformerHandlers, ResourceRef, WatchEvent, WatchStream } from "./types.ts";

/** The index every informer has: objects by `metadata.namespace` ("" for cluster-scoped). */
export const NAMESPACE_INDEX = "namespace";

export interface InformerSelection {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** What the cache keeps of each object (see `InformerTransform`); informers with different transforms are separate. */
  transform?: InformerTransform;
}

/**
 * Keeps only part of each object in an informer's cache, as client-go's
 * `SetTransform`: a controller that reads a few fields of a chatty kind (the
 * Event TTL reads timestamps) need not hold every Event whole. `fn` gets the
 * object as received (shared: never change it) and returns what to cache; it
 * must keep `metadata.name`, `namespace`, `uid` and `resourceVersion`, and be
 * a pure function of the object. `name` identifies the transform: the factory
 * shares an informer only between callers asking for the same one.
 */
export interface InformerTransform {
  name: string;
  fn: (obj: KubeObject) => KubeObject;
}

export interface InformerOptions extends InformerSelection {
  /** Objects per list request; 0 lists everything at once. Default 500. */
  pageSize?: number;
  /** How long the server keeps each watch open. Default a random 5–10 minutes (as client-go). */
  watchTimeoutSeconds?: number;
  /** Delays between attempts while the server fails. */
  backoff?: BackoffOptions;
  log?: Logger;
  /**
   * Keep `metadata.managedFields` in cached objects. Default false: they are
   * dropped, as kube-scheduler and kube-controller-manager do with client-go's
   * TransformStripManagedFields (field ownership is the API server's business,
   * and its trees are a large share of a cached object's memory).
   */
  keepManagedFields?: boolean;
}

/**
 * One index. Its function is a pure function of the object (cached objects
 * never change), so the values an object was indexed under are computed again
 * from the cached object to undo them, as client-go's indexer does, instead
 * of being remembered per key: with 10,000 pods and half a dozen indexes that
 * bookkeeping was tens of megabytes. A value with one key (an index by uid or
 * by name) holds the key itself rather than a one-element Set.
 */
interface Index<T> {
  fn: (obj: T) => string[];
  /** value → its key, or its keys when there are several */
  byValue: Map<string, string | Set<string>>;
}

const NO_VALUES: readonly string[] = [];

/** A watch that ended without events this quickly is treated as a failure (backoff), not a timeout. */
const SHORT_WATCH_MS = 1000;

class Stopped extends Error {
  constructor() {
    super("informer stopped");
    this.name = "AbortError";
  }
}

/** Resolves like `p`, or rejects with `Stopped` as soon as `signal` aborts. */
function untilAborted<V>(p: Promise<V>, signal: AbortSignal): Promise<V> {
  p.catch(() => {});
  if (signal.aborted) return Promise.reject(new Stopped());
  return new Promise<V>((resolve, reject) => {
    const onAbort = () => reject(new Stopped());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

export class SharedInformer<T extends KubeObject = KubeObject> implements Informer<T> {
  readonly ref: ResourceRef;
  readonly #client: Client;
  readonly #opts: InformerOptions;
  readonly #log: Logger;
  readonly #items = new Map<string, T>();
  readonly #indexes = new Map<string, Index<T>>();
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #abort = new AbortController();
  #rv = "";
  #synced = false;
  readonly #sync: Promise<void>;
  #resolveSync!: () => void;
  #rejectSync!: (e: Error) => void;
  #watch: WatchStream<T> | undefined;
  #loop: Promise<void> | undefined;

  constructor(client: Client, ref: ResourceRef, opts: InformerOptions = {}) {
    this.#client = client;
    this.ref = ref;
    this.#opts = opts;
    this.#log = (opts.log ?? logger("informer")).child({
      resource: ref.group ? `${ref.resource}.${ref.group}` : ref.resource,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
    });
    this.#sync = new Promise<void>((resolve, reject) => {
      this.#resolveSync = resolve;
      this.#rejectSync = reject;
    });
    this.#sync.catch(() => {}); // rejected on stop; only callers of waitForSync care
    this.addIndex(NAMESPACE_INDEX, (o) => [o.metadata.namespace ?? ""]);
  }

  // ---- lifecycle ---------------------------------------------------------------

  /** Starts listing and watching. Idempotent; a stopped informer stays stopped. */
  start(): void {
    if (this.#loop || this.#abort.signal.aborted) return;
    this.#loop = this.#run();
  }

  /** Closes the watch, ends the loop, and rejects pending `waitForSync` calls if it never synced. */
  async stop(): Promise<void> {
    if (!this.#abort.signal.aborted) {
      this.#abort.abort();
      this.#watch?.close();
      if (!this.#synced) this.#rejectSync(new Error(`informer for ${this.ref.resource} stopped before it synced`));
    }
    await this.#loop;
  }

  get stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  // ---- Informer ----------------------------------------------------------------

  on(handlers: InformerHandlers<T>): () => void {
    this.#handlers.push(handlers);
    if (handlers.add) for (const obj of this.#items.values()) this.#call(handlers, "add", obj);
    return () => {
      const i = this.#handlers.indexOf(handlers);
      if (i >= 0) this.#handlers.splice(i, 1);
    };
  }

  hasIndex(name: string): boolean {
    return this.#indexes.has(name);
  }

  addIndex(name: string, fn: (obj: T) => string[]): void {
    if (this.#indexes.has(name)) throw new Error(`informer for ${this.ref.resource} already has an index named ${JSON.stringify(name)}`);
    const index: Index<T> = { fn, byValue: new Map() };
    this.#indexes.set(name, index);
    for (const [key, obj] of this.#items) for (const v of this.#values(index, key, obj)) this.#indexAdd(index, v, key);
  }

  byIndex(name: string, value: string): T[] {
    const index = this.#indexes.get(name);
    if (!index) throw new Error(`informer for ${this.ref.resource} has no index named ${JSON.stringify(name)}`);
    const keys = index.byValue.get(value);
    if (keys === undefined) return [];
    // A key whose object is gone can only be left by an index function that threw or was not pure.
    if (typeof keys === "string") {
      const obj = this.#items.get(keys);
      return obj === undefined ? [] : [obj];
    }
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.#items.get(k);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  getByKey(key: string): T | undefined {
    return this.#items.get(key);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#items.get(keyFor(name, namespace));
  }

  list(namespace?: string): T[] {
    return namespace === undefined ? [...this.#items.values()] : this.byIndex(NAMESPACE_INDEX, namespace);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  waitForSync(): Promise<void> {
    return this.#sync;
  }

  get resourceVersion(): string {
    return this.#rv;
  }

  // ---- the list+watch loop -------------------------------------------------------

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const backoff = new Backoff(this.#opts.backoff);
    let relist = true;
    let failures = 0;
    while (!signal.aborted) {
      let delay = 0;
      try {
        if (relist) {
          await this.#list(signal);
          relist = false;
        }
        const { events, ms } = await this.#watchOnce(signal);
        if (events > 0 || ms >= SHORT_WATCH_MS) {
          failures = 0;
          backoff.reset();
        } else {
          failures++;
          delay = backoff.next();
          this.#log.debug({ resourceVersion: this.#rv, ms: Math.round(ms) }, "watch ended at once; backing off");
        }
      } catch (e) {
        if (signal.aborted) break;
        failures++;
        const err = e instanceof Error ? e.message : String(e);
        if (isApiError(e) && e.code === 410) {
          // The resourceVersion is gone from history: only a fresh list can catch up.
          relist = true;
          delay = failures > 1 ? backoff.next() : 0;
          this.#log.info({ resourceVersion: this.#rv, err }, "watch expired; relisting");
        } else if (isApiError(e, "TooManyRequests")) {
          delay = Math.max((e.details?.retryAfterSeconds ?? 0) * 1000, backoff.next());
          this.#log.info({ resourceVersion: this.#rv, delayMs: delay }, "watch throttled; resuming");
        } else {
          delay = backoff.next();
          this.#log.warn(
            { err, ...(isApiError(e) ? { reason: e.reason, code: e.code } : {}), relist, delayMs: delay, failures },
            relist ? "list failed" : "watch failed",
          );
        }
      }
      if (delay > 0) await sleep(delay, signal);
    }
  }

  /** Lists everything (in pages) and replaces the cache with it, emitting the differences. */
  async #list(signal: AbortSignal): Promise<void> {
    const { namespace, labelSelector, fieldSelector } = this.#opts;
    const pageSize = this.#opts.pageSize ?? 500;
    const fresh = new Map<string, T>();
    let rv = "";
    let cont: string | undefined;
    let limit: number | undefined = pageSize > 0 ? pageSize : undefined;
    for (;;) {
      let page;
      try {
        page = await untilAborted(
          this.#client.list<T>(this.ref, { namespace, labelSelector, fieldSelector, limit, continue: cont }),
          signal,
        );
      } catch (e) {
        if (!(cont && isApiError(e) && e.code === 410)) throw e;
        // The paged list's snapshot was compacted mid-way: start over in one request.
        this.#log.info({ err: e.message }, "paged list expired; listing at once");
        fresh.clear();
        cont = undefined;
        limit = undefined;
        rv = "";
        continue;
      }
      if (!rv) rv = page.metadata.resourceVersion ?? "";
      const transform = this.#opts.transform?.fn as ((o: T) => T) | undefined;
      for (const item of page.items) {
        if (!this.#opts.keepManagedFields && item.metadata?.managedFields !== undefined) delete item.metadata.managedFields;
        fresh.set(keyOf(item), transform ? transform(item) : item);
      }
      cont = page.metadata.continue || undefined;
      if (!cont) break;
    }
    if (signal.aborted) return;
    this.#replace(fresh, rv);
  }

  #replace(fresh: Map<string, T>, rv: string): void {
    const gone: T[] = [];
    for (const [key, old] of this.#items) if (!fresh.has(key)) gone.push(old);
    for (const old of gone) this.#remove(keyOf(old));
    const changes: [T | undefined, T][] = [];
    for (const [key, obj] of fresh) changes.push([this.#store(key, obj), obj]);
    this.#rv = rv;
    for (const [old, obj] of changes) this.#changed(old, obj);
    for (const old of gone) this.#emit("delete", old);
    this.#log.debug({ resourceVersion: rv, items: fresh.size, deleted: gone.length }, "listed");
    if (!this.#synced) {
      this.#synced = true;
      this.#resolveSync();
    }
  }

  /** One watch from the current resourceVersion, until it ends. Throws its error. */
  async #watchOnce(signal: AbortSignal): Promise<{ events: number; ms: number }> {
    const { namespace, labelSelector, fieldSelector } = this.#opts;
    const started = performance.now();
    const w = this.#client.watch<T>(this.ref, {
      namespace,
      labelSelector,
      fieldSelector,
      resourceVersion: this.#rv,
      allowWatchBookmarks: true,
      timeoutSeconds: this.#opts.watchTimeoutSeconds ?? Math.round(300 * (1 + Math.random())),
      stripManagedFields: !this.#opts.keepManagedFields,
    });
    this.#watch = w;
    if (signal.aborted) w.close();
    let events = 0;
    try {
      for await (const ev of w) {
        if (signal.aborted) break;
        events++;
        this.#apply(ev);
      }
    } finally {
      this.#watch = undefined;
      w.close();
    }
    return { events, ms: performance.now() - started };
  }

  #apply(ev: WatchEvent<T>): void {
    let obj = ev.object;
    const rv = obj.metadata?.resourceVersion;
    if (ev.type === "BOOKMARK") {
      if (rv) this.#rv = rv;
      return;
    }
    if (this.#opts.transform) obj = this.#opts.transform.fn(obj) as T;
    const key = keyOf(obj);
    if (ev.type === "DELETED") {
      const old = this.#items.get(key);
      if (old) this.#remove(key);
      if (rv) this.#rv = rv;
      if (old) this.#emit("delete", obj);
      return;
    }
    const old = this.#store(key, obj);
    if (rv) this.#rv = rv;
    this.#changed(old, obj);
  }

  // ---- cache and indexes ---------------------------------------------------------

  /** Caches `obj` under `key` (re-indexing it where its values changed); returns what was there. */
  #store(key: string, obj: T): T | undefined {
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    for (const index of this.#indexes.values()) {
      const before = old ? this.#values(index, key, old) : NO_VALUES;
      const after = this.#values(index, key, obj);
      for (const v of before) if (!after.includes(v)) this.#indexRemove(index, v, key);
      for (const v of after) if (!before.includes(v)) this.#indexAdd(index, v, key);
    }
    return old;
  }

  #remove(key: string): void {
    const old = this.#items.get(key);
    if (old === undefined) return;
    this.#items.delete(key);
    for (const index of this.#indexes.values()) for (const v of this.#values(index, key, old)) this.#indexRemove(index, v, key);
  }

  /** The values `obj` is indexed under (none, logged, when the function throws). */
  #values(index: Index<T>, key: string, obj: T): readonly string[] {
    try {
      return index.fn(obj);
    } catch (e) {
      this.#log.error({ key, err: e instanceof Error ? e.message : String(e) }, "index function failed");
      return NO_VALUES;
    }
  }

  #indexAdd(index: Index<T>, value: string, key: string): void {
    const cur = index.byValue.get(value);
    if (cur === undefined) index.byValue.set(value, key);
    else if (typeof cur !== "string") cur.add(key);
    else if (cur !== key) index.byValue.set(value, new Set([cur, key]));
  }

  #indexRemove(index: Index<T>, value: string, key: string): void {
    const cur = index.byValue.get(value);
    if (cur === undefined) return;
    if (typeof cur === "string") {
      if (cur === key) index.byValue.delete(value);
      return;
    }
    cur.delete(key);
    if (cur.size === 1) index.byValue.set(value, cur.values().next().value!);
    else if (cur.size === 0) index.byValue.delete(value);
  }

  // ---- handlers -----------------------------------------------------------------

  /** add for a new object, update when its resourceVersion moved (nothing for a resync of the same version). */
  #changed(old: T | undefined, obj: T): void {
    if (!old) this.#emit("add", obj);
    else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#emitUpdate(old, obj);
  }

  #emit(kind: "add" | "delete", obj: T): void {
    for (const h of this.#handlers) if (h[kind]) this.#call(h, kind, obj);
  }

  #emitUpdate(old: T, obj: T): void {
    for (const h of this.#handlers) {
      if (!h.update) continue;
      try {
        h.update(old, obj);
      } catch (e) {
        this.#handlerFailed("update", obj, e);
      }
    }
  }

  #call(h: InformerHandlers<T>, kind: "add" | "delete", obj: T): void {
    try {
      h[kind]!(obj);
    } catch (e) {
      this.#handlerFailed(kind, obj, e);
    }
  }

  #handlerFailed(kind: string, obj: T, e: unknown): void {
    this.#log.error({ handler: kind, key: keyOf(obj), err: e instanceof Error ? e.message : String(e) }, "informer handler threw");
  }
}
