/**
 * @module How long a failing key waits before its retry (client-go's
 * `DefaultControllerRateLimiter`): the longer of a per-key exponential
 * backoff and an overall token bucket, so one broken object backs off on its
 * own while a storm of failures cannot flood the API server.
 */

/** Decides the delay of each retry. `when` is called once per `addRateLimited`. */
export interface RateLimiter<K> {
  /** Milliseconds to wait before `key` is retried; counts one more failure. */
  when(key: K): number;
  /** Clears the key's failure history (it succeeded). */
  forget(key: K): void;
  /** Failures recorded for the key since its last `forget`. */
  numRequeues(key: K): number;
}

/** Per-key exponential backoff: `baseMs · 2^failures`, capped at `maxMs`. */
export class ExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  readonly #failures = new Map<K, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1000_000,
  ) {}

  when(key: K): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * An overall token bucket (`qps` tokens a second, at most `burst` saved):
 * each retry takes a token, waiting for one when none is left. Reservations
 * may run the bucket negative; the delay is the time the debt takes to refill.
 */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  #tokens: number;
  #at: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#tokens = burst;
    this.#at = now();
  }

  when(_key: K): number {
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#at) * this.qps) / 1000);
    this.#at = t;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.qps;
  }

  forget(_key: K): void {}

  numRequeues(_key: K): number {
    return 0;
  }
}

/** The longest delay any of its limiters asks for; requeues are the largest count. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }

  when(key: K): number {
    let ms = 0;
    for (const l of this.#limiters) ms = Math.max(ms, l.when(key));
    return ms;
  }

  forget(key: K): void {
    for (const l of this.#limiters) l.forget(key);
  }

  numRequeues(key: K): number {
    let n = 0;
    for (const l of this.#limiters) n = Math.max(n, l.numRequeues(key));
    return n;
  }
}

export interface RateLimitOptions {
  /** First retry delay. Default 5 ms. */
  baseDelayMs?: number;
  /** Longest retry delay. Default 1,000 s. */
  maxDelayMs?: number;
  /**
   * The overall retry budget. Default 1,000 qps with a burst of 10,000 (client-go
   * uses 10/100, far too tight for thousands of objects); `false` turns it off.
   */
  bucket?: { qps: number; burst: number } | false;
}

/** client-go's default controller rate limiter, with this project's defaults. */
export function defaultRateLimiter<K>(opts: RateLimitOptions = {}): RateLimiter<K> {
  const perKey = new ExponentialFailureRateLimiter<K>(opts.baseDelayMs ?? 5, opts.maxDelayMs ?? 1000_000);
  const bucket = opts.bucket ?? { qps: 1000, burst: 10_000 };
  return bucket === false ? perKey : new MaxOfRateLimiter<K>(perKey, new BucketRateLimiter<K>(bucket.qps, bucket.burst));
}
