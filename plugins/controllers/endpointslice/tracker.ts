/**
 * @module Upstream EndpointSliceTracker: what this controller last wrote to
 * every slice, per Service, so that (a) the watch events of its own writes
 * do not trigger another sync, and (b) a sync that would read a cache that
 * has not caught up with those writes is postponed — a stale cache would
 * otherwise make it create the same slices twice. Memory only about
 * in-flight writes, which a restarted controller does not need (it lists
 * everything first).
 *
 * Upstream tracks `metadata.generation`; Skiff's EndpointSlices keep
 * generation 1 (the store moves it only when `spec` changes, and slices have
 * none), so this tracks the resourceVersion written instead — Skiff's single
 * global revision, which orders every write (compared as integers).
 */
import { keyFor } from "../../../core/client/keys.ts";
import { type EndpointSlice, SERVICE_NAME_LABEL } from "./reconciler.ts";

const DELETION_EXPECTED = -1n;

function serviceKeyOf(s: EndpointSlice): string | undefined {
  const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
  return svc ? keyFor(svc, s.metadata.namespace) : undefined;
}

/** The resourceVersion as a revision number (0 when absent or not a number). */
function revisionOf(s: EndpointSlice): bigint {
  const rv = s.metadata.resourceVersion ?? "";
  return /^\d+$/.test(rv) ? BigInt(rv) : 0n;
}

export class SliceTracker {
  /** service key → slice uid → revision written (or DELETION_EXPECTED). */
  readonly #revs = new Map<string, Map<string, bigint>>();

  #forSlice(s: EndpointSlice, create = false): Map<string, bigint> | undefined {
    const key = serviceKeyOf(s);
    if (!key) return undefined;
    let m = this.#revs.get(key);
    if (!m && create) this.#revs.set(key, (m = new Map()));
    return m;
  }

  /** Whether the slice is tracked at all. */
  has(s: EndpointSlice): boolean {
    return this.#forSlice(s)?.has(s.metadata.uid!) ?? false;
  }

  /** False for the echo of our own write (or anything older). */
  shouldSync(s: EndpointSlice): boolean {
    const r = this.#forSlice(s)?.get(s.metadata.uid!);
    return r === undefined || revisionOf(s) > r;
  }

  /**
   * Whether the cache (`slices`, the Service's managed slices) is behind our
   * writes: a slice older than written, one we deleted still there, or one we
   * created not there yet.
   */
  stale(serviceKey: string, slices: readonly EndpointSlice[]): boolean {
    const m = this.#revs.get(serviceKey);
    if (!m) return false;
    const present = new Set<string>();
    for (const s of slices) {
      present.add(s.metadata.uid!);
      const r = m.get(s.metadata.uid!);
      if (r !== undefined && (r === DELETION_EXPECTED || r > revisionOf(s))) return true;
    }
    for (const [uid, r] of m) if (r !== DELETION_EXPECTED && !present.has(uid)) return true;
    return false;
  }

  /** Records a slice as written (the object the server returned). */
  update(s: EndpointSlice): void {
    this.#forSlice(s, true)?.set(s.metadata.uid!, revisionOf(s));
  }

  expectDeletion(s: EndpointSlice): void {
    this.#forSlice(s, true)?.set(s.metadata.uid!, DELETION_EXPECTED);
  }

  /** On a slice's delete event: forgets it; false when the deletion was not ours (the Service should be synced). */
  handleDeletion(s: EndpointSlice): boolean {
    const m = this.#forSlice(s);
    if (!m) return true;
    const r = m.get(s.metadata.uid!);
    m.delete(s.metadata.uid!);
    return r === undefined || r === DELETION_EXPECTED;
  }

  deleteService(serviceKey: string): void {
    this.#revs.delete(serviceKey);
  }
}
