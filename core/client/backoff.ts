/**
 * @module Jittered exponential backoff and an abortable sleep, for loops that
 * retry against the API server (informers).
 */

export interface BackoffOptions {
  /** First delay. Default 100 ms. */
  initialMs?: number;
  /** Largest delay. Default 5 s. */
  maxMs?: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  jitter?: number;
}

/** Delays that double from `initialMs` to `maxMs`, jittered; `reset()` after a success. */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #jitter: number;
  #next: number;

  constructor(opts: BackoffOptions = {}) {
    this.#initial = opts.initialMs ?? 100;
    this.#max = opts.maxMs ?? 5000;
    this.#jitter = opts.jitter ?? 0.2;
    this.#next = this.#initial;
  }

  /** The delay before the next attempt; doubles the one after. */
  next(): number {
    const base = this.#next;
    this.#next = Math.min(this.#next * 2, this.#max);
    return Math.round(base * (1 - this.#jitter + Math.random() * 2 * this.#jitter));
  }

  reset(): void {
    this.#next = this.#initial;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
