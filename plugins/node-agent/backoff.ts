/**
 * @module CrashLoopBackOff bookkeeping, as the kubelet's (client-go
 * flowcontrol.Backoff keyed by pod and container): the first restart of a
 * container is immediate; each later one waits `initial` doubling up to
 * `max` after the previous container finished; an entry not bumped for
 * `reset` (2 × max: the container ran that long) starts over.
 */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A container that ran at least this long restarts as if it had never failed. */
  resetMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 10_000, maxMs: 300_000, resetMs: 600_000 };

interface Entry {
  delayMs: number;
  /** When the last restart was allowed (ms). */
  lastUpdate: number;
}

export class CrashBackoff {
  readonly #entries = new Map<string, Entry>();

  constructor(
    readonly opts: BackoffOptions = DEFAULT_BACKOFF,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * How long (ms) a restart of `key`, whose last run finished at
   * `finishedAt`, must still wait; 0 = restart now. Does not change state.
   */
  remaining(key: string, finishedAt: number): number {
    const e = this.#entries.get(key);
    if (!e || this.#expired(e)) return 0;
    return Math.max(0, finishedAt + e.delayMs - this.now());
  }

  /** The delay that applies to the next wait (for messages: `back-off 20s restarting …`). */
  delay(key: string): number {
    const e = this.#entries.get(key);
    return !e || this.#expired(e) ? this.opts.initialMs : e.delayMs;
  }

  /** Records a restart of `key` now: the next one waits longer. */
  next(key: string): void {
    const e = this.#entries.get(key);
    const now = this.now();
    if (!e || this.#expired(e)) this.#entries.set(key, { delayMs: this.opts.initialMs, lastUpdate: now });
    else {
      e.delayMs = Math.min(e.delayMs * 2, this.opts.maxMs);
      e.lastUpdate = now;
    }
  }

  /** Forgets every key with this prefix (a pod that went away). */
  forgetPrefix(prefix: string): void {
    for (const k of this.#entries.keys()) if (k.startsWith(prefix)) this.#entries.delete(k);
  }

  #expired(e: Entry): boolean {
    return this.now() - e.lastUpdate > this.opts.resetMs;
  }
}
