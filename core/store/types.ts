/**
 * @module The store contract. The SQLite/libSQL store implements it today; a
 * backend on a distributed engine (etcd) implements the same contract and
 * passes the same conformance suite. Guarantees are etcd's: one global
 * revision orders every write; watches are ordered, unique, reliable,
 * atomic and resumable; bookmarks mean "everything up to here was sent".
 */
import type { KubeObject } from "../api/meta.ts";
import type { ResourceType } from "../api/registry.ts";
import type { FieldSelector, LabelSelector } from "../api/selectors.ts";

/** An object as stored: its revision, its JSON text, and the parsed object (parsed once, on first use). */
export interface StoredObject {
  readonly revision: number;
  /** The object's JSON, with `metadata.resourceVersion` already set. Safe to splice into responses. */
  readonly raw: string;
  /** The parsed object. Shared: treat as read-only, clone before changing. */
  readonly object: KubeObject;
}

export interface WriteOptions {
  /** Run every check and return the would-be result without writing. */
  dryRun?: boolean;
  /** Leave `metadata.generation` as it is (writes to the status subresource, as upstream's status strategies). */
  keepGeneration?: boolean;
}

export interface CreateOptions extends WriteOptions {
  /**
   * Keep `metadata.uid` as given instead of assigning one. For the API layer,
   * which assigns the uid before the kind's strategy runs (as kube-apiserver
   * does), never for a client's own uid.
   */
  keepUid?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  /** Fail with Conflict unless the live object has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
  /**
   * Graceful deletion: set `deletionTimestamp` (now + grace; an earlier one is
   * kept) and `deletionGracePeriodSeconds`, add `finalizers`, and keep the
   * object while it has finalizers or a grace period. With neither, it is
   * deleted at once, unless `hold` is set: then another component (the
   * namespace lifecycle, a node agent) finishes the deletion with a plain delete.
   * An update that removes the last finalizer of an object whose grace period
   * is 0 deletes it.
   */
  graceful?: { gracePeriodSeconds: number; finalizers?: string[]; hold?: boolean };
}

export interface ListOptions {
  /** Only this namespace; omit for all namespaces (or cluster-scoped types). */
  namespace?: string;
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  /** Page size; 0 or absent = everything. */
  limit?: number;
  /** The token from a previous page; the page is served from that page's revision. */
  continue?: string;
  /** Serve exactly this revision (resourceVersionMatch=Exact). 410 if compacted. */
  revision?: number;
}

export interface ListResult {
  items: StoredObject[];
  /** The revision the list reflects. */
  revision: number;
  continue?: string;
  /** Objects after this page, when it could be counted cheaply (no selectors). */
  remainingItemCount?: number;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly revision: number;
  /** The object's JSON (for BOOKMARK: `{kind, apiVersion, metadata:{resourceVersion}}`). */
  readonly raw: string;
  readonly object: KubeObject;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  /**
   * Send changes after this revision. Absent = from now. A revision older than
   * the compacted one fails with Expired (410).
   */
  fromRevision?: number;
  /** First send an ADDED for every current object, then changes (resourceVersion "0" / sendInitialEvents). */
  sendInitialEvents?: boolean;
  /** Send periodic BOOKMARK events; after initial events, one annotated `k8s.io/initial-events-end`. */
  bookmarks?: boolean;
}

/**
 * A running watch. Consume with `for await` or `nextBatch()`; `close()` ends it.
 * A watch fails with an ApiError: Expired (410: relist) when its start revision
 * was compacted away, or TooManyRequests (429: resume from `lastRevision`) when
 * its consumer fell too far behind and it was cut off.
 */
export interface Watch extends AsyncIterable<WatchEvent> {
  /** Resolves with one or more events, or null once closed. Rejects on failure. */
  nextBatch(): Promise<WatchEvent[] | null>;
  close(): void;
  /** The revision of the last event handed to the consumer (to resume from). */
  readonly lastRevision: number;
}

export interface Store {
  /**
   * Creates an object. Sets uid, creationTimestamp, generation, resourceVersion;
   * fills `metadata.name` from `generateName` when empty. AlreadyExists if taken.
   */
  create(type: ResourceType, obj: KubeObject, opts?: CreateOptions): Promise<StoredObject>;
  /** NotFound if absent. */
  get(type: ResourceType, namespace: string, name: string): Promise<StoredObject>;
  /**
   * Replaces an object. If `obj.metadata.resourceVersion` is set it must equal the
   * live one (else Conflict). An update that changes nothing writes nothing. An
   * object left with a deletionTimestamp and no finalizers is deleted.
   */
  update(type: ResourceType, obj: KubeObject, opts?: WriteOptions): Promise<StoredObject>;
  /**
   * Read-modify-write done atomically in the writer: `mutate` gets a private
   * copy of the live object and returns the new one (or throws an ApiError).
   * Must be synchronous; it runs exactly once, inside the write transaction.
   */
  guaranteedUpdate(
    type: ResourceType,
    namespace: string,
    name: string,
    mutate: (current: KubeObject) => KubeObject,
    opts?: WriteOptions,
  ): Promise<StoredObject>;
  /** Deletes an object and returns its final state (at the delete's revision). */
  delete(type: ResourceType, namespace: string, name: string, opts?: DeleteOptions): Promise<StoredObject>;
  list(type: ResourceType, opts?: ListOptions): Promise<ListResult>;
  watch(type: ResourceType, opts?: WatchOptions): Watch;
  /** The last committed revision. */
  currentRevision(): Promise<number>;
  /** Revisions at or below this are gone from history. */
  compactedRevision(): Promise<number>;
  /** Compacts history up to `revision` (default: what the retention policy allows). */
  compact(revision?: number): Promise<void>;
  close(): Promise<void>;
}
