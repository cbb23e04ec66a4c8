/**
 * @module History retention: how far compaction may go. History is bounded
 * both by count (at most `maxRevisions` revisions kept) and by age (nothing
 * older than `maxAgeMs`), whichever keeps less. Ages come from (time,
 * revision) samples taken in memory; after a restart, existing history counts
 * as new until it ages out (the count bound still holds).
 */

export interface RetentionOptions {
  /** Most revisions kept in history. Default 20,000. */
  maxRevisions: number;
  /** Oldest history kept. Default 5 minutes (kube-apiserver compacts etcd every 5 minutes). */
  maxAgeMs: number;
  /** How often the policy is evaluated. Default 1 s. */
  intervalMs: number;
  /** Revisions compacted per transaction, so writers are never stalled for long. Default 1,000. */
  batchRevisions: number;
}

export const DEFAULT_RETENTION: RetentionOptions = {
  maxRevisions: 20_000,
  maxAgeMs: 5 * 60_000,
  intervalMs: 1000,
  batchRevisions: 1000,
};

export class Retention {
  readonly options: RetentionOptions;
  readonly #samples: { at: number; revision: number }[] = [];
  #forced = 0;

  constructor(opts: Partial<RetentionOptions> = {}, private readonly now: () => number = Date.now) {
    this.options = { ...DEFAULT_RETENTION, ...opts };
  }

  /** Records that `revision` was current at this moment. */
  sample(revision: number): void {
    const at = this.now();
    this.#samples.push({ at, revision });
    const cutoff = at - this.options.maxAgeMs;
    // Keep only the newest sample at or before the cutoff, and everything after it.
    while (this.#samples.length > 1 && this.#samples[1]!.at <= cutoff) this.#samples.shift();
  }

  /** Asks for compaction up to `revision` regardless of policy. */
  force(revision: number): void {
    this.#forced = Math.max(this.#forced, revision);
  }

  /** The revision compaction should reach now (never the current one: the latest write stays). */
  target(current: number): number {
    const byCount = current - this.options.maxRevisions;
    const first = this.#samples[0];
    const byAge = first && first.at <= this.now() - this.options.maxAgeMs ? first.revision : 0;
    return Math.min(Math.max(byCount, byAge, this.#forced), current);
  }
}
