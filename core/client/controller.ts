/**
 * @module The controller runner: workers take keys from a rate-limited work
 * queue and hand them to a `Reconciler`. Success forgets the key's backoff;
 * `{ requeueAfter }` reconciles it again later; a throw retries it with
 * per-key exponential backoff (a `TerminalError` is logged and not retried).
 * Informer handlers feed the queue with `keyOf(obj)`.
 */
import { isApiError } from "../api/errors.ts";
import { type Logger, logger } from "../log.ts";
import type { Reconciler, WorkQueue } from "./types.ts";
import { RateLimitingQueue, type WorkQueueOptions } from "./work-queue.ts";

export { keyFor, keyOf, splitKey } from "./keys.ts";

/** Thrown by a reconciler for a failure a retry cannot fix (bad spec): logged, never retried. */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TerminalError";
  }
}

export interface ControllerOptions {
  /** Keys reconciled concurrently (never the same key twice at once). Default 1. */
  workers?: number;
  /** The queue to take keys from; default a new `RateLimitingQueue`. */
  queue?: WorkQueue<string>;
  /** Options of the default queue (ignored when `queue` is given). */
  queueOptions?: WorkQueueOptions<string>;
  /** Default `logger("controller")` with the reconciler's name. */
  log?: Logger;
}

/** Runs one reconciler on `workers` workers. */
export class Controller {
  /** Feed it keys (`keyOf(obj)`) from informer handlers. */
  readonly queue: WorkQueue<string>;
  readonly #reconciler: Reconciler;
  readonly #workers: number;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #running: Promise<void>[] = [];
  #started = false;

  constructor(reconciler: Reconciler, opts: ControllerOptions = {}) {
    this.#reconciler = reconciler;
    this.#workers = Math.max(1, opts.workers ?? 1);
    this.queue = opts.queue ?? new RateLimitingQueue<string>(opts.queueOptions);
    this.#log = (opts.log ?? logger("controller")).child({ controller: reconciler.name });
  }

  get name(): string {
    return this.#reconciler.name;
  }

  /** Starts the workers. Idempotent; a stopped controller does not restart. */
  start(): void {
    if (this.#started || this.#abort.signal.aborted) return;
    this.#started = true;
    for (let i = 0; i < this.#workers; i++) this.#running.push(this.#worker());
    this.#log.debug({ workers: this.#workers }, "controller started");
  }

  /**
   * Aborts the signal passed to `reconcile`, shuts the queue down and waits
   * for the workers to finish the keys they hold. Keys still queued are dropped.
   */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.queue.shutDown();
    await Promise.all(this.#running);
    this.#running = [];
  }

  async #worker(): Promise<void> {
    const signal = this.#abort.signal;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      if (signal.aborted) {
        this.queue.done(key);
        return;
      }
      try {
        await this.#reconcileOne(key, signal);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #reconcileOne(key: string, signal: AbortSignal): Promise<void> {
    const started = performance.now();
    try {
      const result = await this.#reconciler.reconcile(key, signal);
      this.queue.forget(key);
      const after = result?.requeueAfter;
      if (after !== undefined && after > 0 && !signal.aborted) this.queue.addAfter(key, after);
      this.#log.debug({ key, ms: Math.round(performance.now() - started), requeueAfter: after }, "reconciled");
    } catch (e) {
      if (signal.aborted) return;
      const err = e instanceof Error ? e.message : String(e);
      if (e instanceof TerminalError) {
        this.queue.forget(key);
        this.#log.error({ key, err }, "reconcile failed permanently");
        return;
      }
      const requeues = this.queue.numRequeues(key);
      // Conflicts are routine with optimistic concurrency: retried quietly.
      const level = isApiError(e, "Conflict") ? "debug" : "error";
      this.#log[level]({ key, err, requeues, ...(isApiError(e) ? { reason: e.reason } : {}) }, "reconcile failed");
      this.queue.addRateLimited(key);
    }
  }
}
