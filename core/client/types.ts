/**
 * @module The `Client` contract: the only way plugins reach the kernel.
 *
 * Two implementations pass one shared suite (`test/conformance/client-suite.ts`):
 * the in-process client (requests go straight into the API server's router,
 * no socket and no HTTP parsing, so semantics are exactly the HTTP API's) and
 * the HTTP client (agents on other machines). Failures are `ApiError`s carrying
 * the server's Status (reason and code), whichever transport was used.
 *
 * Objects returned by `get`/`list`/`watch` belong to the caller; objects held
 * by an informer's cache are shared and must be cloned before being changed.
 */
import type { KubeObject, ListMeta } from "../api/meta.ts";

/** Which resource: group ("" for core), version and plural resource name. */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  /** Plural, lower case: `pods`, `deployments`. */
  readonly resource: string;
  /** Cluster-scoped resources (nodes, namespaces) set this to false. Default true. */
  readonly namespaced?: boolean;
}

export interface ObjectList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

export interface ListOptions {
  /** Omit for all namespaces (or for cluster-scoped resources). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: "Exact" | "NotOlderThan";
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Changes after this revision. Omitted or "0": as Kubernetes, an ADDED for
   * every current object first, then changes.
   */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** First an ADDED per current object (then a bookmark marking the end when bookmarks are on). */
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  /**
   * Events carry their objects without `metadata.managedFields` (client-go's
   * TransformStripManagedFields). Informers ask for it unless told to keep them.
   */
  stripManagedFields?: boolean;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** Defaults to the client's own manager name. */
  fieldManager?: string;
  fieldValidation?: "Strict" | "Warn" | "Ignore";
}

export type PatchType = "json" | "merge" | "strategic" | "apply";

export interface PatchOptions extends WriteOptions {
  namespace?: string;
  subresource?: string;
  /** Server-side apply: take conflicting fields from other managers. */
  force?: boolean;
}

export interface DeleteOptions {
  namespace?: string;
  gracePeriodSeconds?: number;
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

/**
 * A running watch. Iteration ends when the server closes the stream (timeout)
 * or `close()` is called; it throws an `ApiError` on an ERROR event (410
 * Expired: relist; 429: resume from the last seen resourceVersion).
 */
export interface WatchStream<T extends KubeObject = KubeObject> extends AsyncIterable<WatchEvent<T>> {
  close(): void;
}

/** One served resource, from discovery. */
export interface ApiResourceInfo {
  group: string;
  version: string;
  /** Plural. Subresources are not listed. */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

export interface Client {
  /**
   * Every resource the server serves, in every served version (kube's
   * discovery: `/api`, `/apis`); within a group the preferred version comes first.
   */
  discover(): Promise<ApiResourceInfo[]>;
  get<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, opts?: { namespace?: string }): Promise<T>;
  list<T extends KubeObject = KubeObject>(ref: ResourceRef, opts?: ListOptions): Promise<ObjectList<T>>;
  watch<T extends KubeObject = KubeObject>(ref: ResourceRef, opts?: WatchOptions): WatchStream<T>;
  /** The namespace comes from `obj.metadata.namespace` (or `opts.namespace`). Does not change `obj`. */
  create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts?: WriteOptions & { namespace?: string }): Promise<T>;
  /** PUT; fails with Conflict when `obj.metadata.resourceVersion` is stale. */
  update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT to the `status` subresource. */
  updateStatus<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts?: WriteOptions): Promise<T>;
  patch<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, type: PatchType, patch: unknown, opts?: PatchOptions): Promise<T>;
  /** Returns the object as it is after the call (still there when graceful or held by finalizers). */
  delete(ref: ResourceRef, name: string, opts?: DeleteOptions): Promise<KubeObject>;
  deleteCollection(ref: ResourceRef, opts?: ListOptions & Omit<DeleteOptions, "preconditions">): Promise<void>;
  /** POST to a subresource (pods/binding, pods/eviction). */
  createSubresource<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    name: string,
    subresource: string,
    body: KubeObject,
    opts?: WriteOptions & { namespace?: string },
  ): Promise<T>;
  getSubresource<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, subresource: string, opts?: { namespace?: string }): Promise<T>;
  updateSubresource<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    name: string,
    subresource: string,
    body: KubeObject,
    opts?: WriteOptions & { namespace?: string },
  ): Promise<T>;
}

// ---- informers, work queues, reconcilers ------------------------------------

export interface InformerHandlers<T extends KubeObject = KubeObject> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  /** `obj` is the last state known (after a relist it may be older than the real final state). */
  delete?(obj: T): void;
}

/**
 * A list+watch cache of one resource (optionally narrowed by namespace and
 * selectors). Resumes its watch from the last seen resourceVersion after a
 * disconnect or a 429, relists on 410 Expired (emitting the differences as
 * add/update/delete), and backs off while the server is unreachable.
 */
export interface Informer<T extends KubeObject = KubeObject> {
  readonly ref: ResourceRef;
  /** Registers handlers; objects already cached are replayed to `add`. Returns a function that removes them. */
  on(handlers: InformerHandlers<T>): () => void;
  /**
   * Adds an index: `fn` returns the index values of an object, and must be a
   * pure function of it (the informer calls it again on the cached object to
   * unindex it, rather than remembering the values per object). A name used
   * twice is an error; plugins get informers whose index names are their own
   * (and where adding an index again after a restart keeps the first).
   */
  addIndex(name: string, fn: (obj: T) => string[]): void;
  hasIndex(name: string): boolean;
  byIndex(name: string, value: string): T[];
  /** `name` for cluster-scoped, `namespace/name` otherwise. */
  getByKey(key: string): T | undefined;
  get(name: string, namespace?: string): T | undefined;
  /** Everything cached, or one namespace's. */
  list(namespace?: string): T[];
  hasSynced(): boolean;
  /** Resolves once the first list is in the cache. Rejects if the informer is stopped first. */
  waitForSync(): Promise<void>;
  /** The resourceVersion the cache reflects. */
  readonly resourceVersion: string;
}

export interface InformerFactory {
  /** One shared informer per (ref, namespace, selectors, transform name); starts it when the factory is running. */
  informer<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    opts?: { namespace?: string; labelSelector?: string; fieldSelector?: string; transform?: { name: string; fn: (obj: KubeObject) => KubeObject } },
  ): Informer<T>;
  start(): void;
  waitForSync(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A rate-limited, de-duplicating work queue (client-go's semantics): a key
 * added while queued is queued once; a key added while being processed is
 * queued again only after `done`; `addRateLimited` backs off per key
 * (exponential, capped) until `forget`.
 */
export interface WorkQueue<K = string> {
  add(key: K): void;
  addAfter(key: K, ms: number): void;
  addRateLimited(key: K): void;
  forget(key: K): void;
  numRequeues(key: K): number;
  /** The next key, or undefined once shut down and drained. */
  get(): Promise<K | undefined>;
  done(key: K): void;
  readonly length: number;
  shutDown(): void;
}

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds. */
  requeueAfter?: number;
}

/**
 * Level-based reconciliation of one kind of object. `reconcile` reads the
 * informer caches, acts through the client, and returns (done, or requeue
 * later) or throws (retried with per-key backoff). It keeps no state a
 * restart would lose.
 */
export interface Reconciler {
  readonly name: string;
  reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void>;
}
