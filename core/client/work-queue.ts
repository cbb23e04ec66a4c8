/**
 * @module A rate-limited, de-duplicating work queue with client-go's
 * semantics. A key is in at most one of three states: waiting in the queue,
 * being processed (handed out by `get`, not yet `done`), or both "processing"
 * and "dirty" (added again meanwhile: it is queued once more at `done`). So a
 * key is never processed by two workers at once, and no change is lost.
 */
import { defaultRateLimiter, type RateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import type { WorkQueue } from "./types.ts";

export interface WorkQueueOptions<K> extends RateLimitOptions {
  /** Decides retry delays; default `defaultRateLimiter(opts)`. */
  rateLimiter?: RateLimiter<K>;
}

/** client-go's rate-limiting queue (`workqueue.NewTypedRateLimitingQueue`). */
export class RateLimitingQueue<K = string> implements WorkQueue<K> {
  #queue: K[] = [];
  #head = 0;
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  /** Keys waiting for `addAfter`, with when they are due (`performance.now()` ms). */
  readonly #waiting = new Map<K, number>();
  /**
   * The same keys by due time, earliest first (a binary heap), with one timer
   * for the earliest: a controller that requeues every object (an Event's TTL,
   * a resync) holds 10,000 keys here, and a timer each cost ~10x the entry.
   * An entry whose key was since re-added earlier, or handed out, is stale and
   * skipped when it comes up.
   */
  #due: { at: number; key: K }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #getters: ((key: K | undefined) => void)[] = [];
  #shuttingDown = false;
  readonly #limiter: RateLimiter<K>;

  constructor(opts: WorkQueueOptions<K> = {}) {
    this.#limiter = opts.rateLimiter ?? defaultRateLimiter<K>(opts);
  }

  /** Queues the key unless it is already queued; a key being processed is queued again at `done`. */
  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  /** Adds the key after `ms`; if it is already waiting, the earlier time wins. */
  addAfter(key: K, ms: number): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const at = performance.now() + ms;
    const prev = this.#waiting.get(key);
    if (prev !== undefined && prev <= at) return;
    this.#waiting.set(key, at);
    heapPush(this.#due, { at, key });
    this.#arm();
  }

  /** Points the one timer at the earliest live entry (dropping stale ones on top). */
  #arm(): void {
    const due = this.#due;
    while (due.length > 0 && this.#waiting.get(due[0]!.key) !== due[0]!.at) heapPop(due);
    const next = due.length > 0 ? due[0]!.at : Infinity;
    if (this.#timer !== undefined && this.#timerAt <= next) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = next;
    if (next === Infinity) return;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, next - performance.now()));
  }

  /** Queues every key that is due, then re-arms for the next. */
  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const due = this.#due;
    // Timers may fire a fraction of a millisecond before performance.now() reaches `at`.
    const now = performance.now() + 1;
    while (due.length > 0 && due[0]!.at <= now) {
      const { at, key } = heapPop(due)!;
      if (this.#waiting.get(key) !== at) continue;
      this.#waiting.delete(key);
      this.add(key);
    }
    this.#arm();
  }

  /** Adds the key after its rate limiter's delay (per-key exponential backoff, overall bucket). */
  addRateLimited(key: K): void {
    if (this.#shuttingDown) return;
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Ends the key's backoff: call after it was processed successfully. */
  forget(key: K): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * The next key, marked as processing until `done`. Waits while the queue is
   * empty; resolves undefined once shut down and drained.
   */
  get(): Promise<K | undefined> {
    if (this.length > 0) return Promise.resolve(this.#take());
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks the key processed; if it was added meanwhile, it is queued again now. */
  done(key: K): void {
    if (!this.#processing.delete(key)) return;
    if (this.#dirty.has(key)) this.#push(key);
  }

  /** Keys waiting to be handed out (not those being processed or delayed). */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** Whether `shutDown` was called. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Stops accepting keys and drops pending `addAfter`s. Keys already queued
   * are still handed out; `get` resolves undefined once they are gone.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#waiting.clear();
    this.#due = [];
    if (this.length === 0) for (const g of this.#getters.splice(0)) g(undefined);
  }

  #push(key: K): void {
    this.#queue.push(key);
    const getter = this.#getters.shift();
    if (getter) getter(this.#take());
  }

  #take(): K {
    const key = this.#queue[this.#head]!;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#dirty.delete(key);
    this.#processing.add(key);
    if (this.#shuttingDown && this.length === 0) for (const g of this.#getters.splice(0)) g(undefined);
    return key;
  }
}

/** Adds `e` to a min-heap ordered by `at`. */
function heapPush<E extends { at: number }>(h: E[], e: E): void {
  let i = h.length;
  h.push(e);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (h[parent]!.at <= e.at) break;
    h[i] = h[parent]!;
    i = parent;
  }
  h[i] = e;
}

/** Removes and returns the entry with the smallest `at`. */
function heapPop<E extends { at: number }>(h: E[]): E | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length === 0 || last === undefined) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h.length) break;
    const r = l + 1;
    const c = r < h.length && h[r]!.at < h[l]!.at ? r : l;
    if (h[c]!.at >= last.at) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = last;
  return top;
}
