/**
 * @module The in-process watch's object channel: how a client in the same
 * process as the API server (the kernel's controllers, scheduler, agent) gets
 * watch events as objects instead of JSON lines it would parse again.
 *
 * The request still goes through the API server's router, so everything a
 * watch means (selectors, resourceVersion rules, 410 on compaction, version
 * conversion, timeouts) is decided there exactly as for an HTTP client. Only
 * the last step differs: the client attaches a sink to its `Request` object
 * (a WeakMap, so nothing on the wire can name it), and the watch handler,
 * finding one, pushes each batch's events into it and writes a bare newline
 * to the body, which every watch decoder skips. The client takes queued
 * events whenever a chunk arrives. Errors (the 410 ERROR event) still come
 * as lines, after the events that preceded them.
 *
 * The objects are the store's own parsed copies, shared by every in-process
 * watcher of the change (and so by every informer cache): they are
 * read-only, as client-go's informer caches are. Like client-go's
 * `KUBE_CACHE_MUTATION_DETECTOR`, `SKIFF_CACHE_MUTATION_DETECTOR=1` (set for
 * every `bun test` run by test/setup.ts) deep-freezes them, so a consumer
 * that changes a cached object fails loudly instead of corrupting its
 * neighbours' caches; it is off otherwise because freezing costs about what
 * the parse it replaces did. Why the channel: one parse per change instead
 * of one per watcher (the all-in-one has several pod informers), and the
 * caches share memory.
 */
import type { KubeObject } from "./meta.ts";

export interface ChannelEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: KubeObject;
}

/** Whether delivered objects are deep-frozen (the mutation detector). Read once. */
export const FREEZE_SHARED_OBJECTS = ["1", "true"].includes(globalThis.process?.env?.SKIFF_CACHE_MUTATION_DETECTOR ?? "");

/** Where the handler puts events for one in-process watch request. */
export interface ObjectSink {
  push(events: ChannelEvent[]): void;
  /** Deliver objects without `metadata.managedFields` (see `withoutManagedFields`). */
  stripManagedFields?: boolean;
}

/**
 * `o` without `metadata.managedFields` — a shallow copy of the object and its
 * metadata sharing everything else (`o` itself when it has none), as
 * client-go's TransformStripManagedFields, which kube-scheduler and
 * kube-controller-manager apply to their informers: field ownership is the
 * API server's business, and its trees are most of a cached object's memory.
 */
export function withoutManagedFields<T extends KubeObject>(o: T): T {
  const meta = o.metadata;
  if (meta === undefined || meta.managedFields === undefined) return o;
  const { managedFields: _, ...rest } = meta;
  return { ...o, metadata: rest };
}

/** Stripped copies by original, so every watcher of one change shares one (and informer caches share memory). */
const stripped = new WeakMap<KubeObject, KubeObject>();

/** `withoutManagedFields(o)` for a shared (read-only) object: one copy per original. */
export function sharedWithoutManagedFields<T extends KubeObject>(o: T): T {
  if (o.metadata?.managedFields === undefined) return o;
  let s = stripped.get(o);
  if (s === undefined) {
    s = withoutManagedFields(o);
    if (FREEZE_SHARED_OBJECTS) deepFreeze(s);
    stripped.set(o, s);
  }
  return s as T;
}

const sinks = new WeakMap<Request, ObjectSink>();

/** Asks for `req`'s watch events as objects, delivered to `sink`. */
export function attachObjectSink(req: Request, sink: ObjectSink): void {
  sinks.set(req, sink);
}

/** The sink attached to `req`, if its sender is in this process and asked for objects. */
export function objectSinkOf(req: Request): ObjectSink | undefined {
  return sinks.get(req);
}

/**
 * Freezes `o` and everything below it (in place); returns it. Children are
 * frozen before their parent, so a frozen object's subtree is frozen too and
 * is skipped (objects the store shares between events are frozen once).
 */
export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === "object" && !Object.isFrozen(o)) {
    if (Array.isArray(o)) {
      for (const v of o) deepFreeze(v);
    } else {
      for (const k in o) deepFreeze((o as Record<string, unknown>)[k]);
    }
    Object.freeze(o);
  }
  return o;
}
