/**
 * @module Expectations (client-go's `ControllerExpectations` with
 * `UIDTrackingControllerExpectations`): a controller that has just asked for
 * N creations or deletions records them, and does not act on the same owner
 * again until its informer has observed them all (or they expire after five
 * minutes). This is what keeps a controller from creating twice when its
 * cache lags behind its own writes. Kept in memory only: after a restart the
 * informers list everything first, so there is nothing to remember.
 */

/** How long a recorded expectation is trusted (client-go's ExpectationsTimeout). */
export const EXPECTATIONS_TTL_MS = 5 * 60_000;

interface Record {
  add: number;
  del: number;
  /** uids of pods whose deletion was asked for and not yet observed. */
  deleting: Set<string>;
  at: number;
}

export class Expectations {
  readonly #m = new Map<string, Record>();
  readonly #now: () => number;
  readonly #ttl: number;

  constructor(opts: { now?: () => number; ttlMs?: number } = {}) {
    this.#now = opts.now ?? Date.now;
    this.#ttl = opts.ttlMs ?? EXPECTATIONS_TTL_MS;
  }

  /** Whether the controller may act on `key`: nothing pending, or what is pending has expired. */
  satisfied(key: string): boolean {
    const r = this.#m.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del <= 0) return true;
    return this.#now() - r.at > this.#ttl;
  }

  /** Records `n` creations about to be sent (replacing what was recorded). */
  expectCreations(key: string, n: number): void {
    this.#m.set(key, { add: n, del: 0, deleting: new Set(), at: this.#now() });
  }

  /** Records the deletion of these pods (by uid) about to be sent. */
  expectDeletions(key: string, uids: readonly string[]): void {
    this.#m.set(key, { add: 0, del: uids.length, deleting: new Set(uids), at: this.#now() });
  }

  /** An informer saw a pod created for `key` (or a create failed and will not be seen). */
  creationObserved(key: string): void {
    const r = this.#m.get(key);
    if (r) r.add--;
  }

  /** An informer saw this pod go (or start terminating). Only pods whose deletion was expected count. */
  deletionObserved(key: string, uid: string): void {
    const r = this.#m.get(key);
    if (r?.deleting.delete(uid)) r.del--;
  }

  /** Pending creations and deletions (tests, logs). */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.#m.get(key);
    return r ? { add: r.add, del: r.del } : undefined;
  }

  /** Forgets the owner (deleted). */
  delete(key: string): void {
    this.#m.delete(key);
  }
}
