/**
 * @module Watch fan-out. Committed events enter `publish()` in revision order;
 * each watcher filters them (namespace, label and field selectors, with
 * Kubernetes' transition rules: an object that starts matching is ADDED, one
 * that stops matching is DELETED) into its own bounded queue. A recent window
 * of events is kept in memory so most resumes never touch the database.
 */
import { errors, type ApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import type { ResourceType } from "../api/registry.ts";
import type { FieldSelector, LabelSelector } from "../api/selectors.ts";
import type { Watch, WatchEvent, WatchEventType } from "./types.ts";

/** A committed change as the hub sees it: enough to filter without parsing the object. */
export interface ChangeEvent {
  type: Exclude<WatchEventType, "BOOKMARK">;
  revision: number;
  resource: string;
  ns: string;
  raw: string;
  labels: Record<string, string> | undefined;
  fields: Record<string, string>;
  /** For MODIFIED: what the previous version had (for selector transitions). */
  prevLabels?: Record<string, string> | undefined;
  prevFields?: Record<string, string>;
  /** Parsed lazily, once, and shared by every watcher. */
  parsed?: KubeObject;
}

class Event implements WatchEvent {
  constructor(
    readonly type: WatchEventType,
    readonly revision: number,
    private readonly source: { raw: string; parsed?: KubeObject },
  ) {}
  get raw(): string {
    return this.source.raw;
  }
  get object(): KubeObject {
    return (this.source.parsed ??= JSON.parse(this.source.raw) as KubeObject);
  }
}

export interface WatcherFilter {
  type: ResourceType;
  namespace?: string;
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  bookmarks: boolean;
}

/** One watch stream's state. Created by the store, fed by the hub. */
export class Watcher implements Watch {
  #queue: WatchEvent[] = [];
  #waiter: { resolve: (v: WatchEvent[] | null) => void; reject: (e: unknown) => void } | null = null;
  #error: ApiError | null = null;
  #closed = false;
  #lastRevision: number;
  /** The newest revision this watcher has looked at (queued or filtered out). */
  queuedRevision: number;
  /** The revision of the newest event or bookmark queued. */
  emittedRevision = 0;
  #drainWaiters: (() => void)[] = [];
  #onClose: (w: Watcher) => void = () => {};

  constructor(
    readonly filter: WatcherFilter,
    startRevision: number,
    private readonly maxQueue: number,
  ) {
    this.#lastRevision = startRevision;
    this.queuedRevision = startRevision;
  }

  get lastRevision(): number {
    return this.#lastRevision;
  }
  get active(): boolean {
    return !this.#closed && this.#error === null;
  }

  setOnClose(fn: (w: Watcher) => void): void {
    this.#onClose = fn;
  }

  /**
   * Filters one change into the queue. Returns false once the watcher is no
   * longer active. Live offers cut a watcher off at maxQueue; catch-up offers
   * (`paced`) are bounded by the caller waiting on `drained()` instead.
   */
  offer(ev: ChangeEvent, paced = false): boolean {
    if (!this.active) return false;
    if (ev.revision <= this.queuedRevision) return true;
    const type = this.#translate(ev);
    this.queuedRevision = ev.revision;
    if (type === null) return true;
    if (!paced && this.#queue.length >= this.maxQueue) {
      this.fail(
        errors.tooManyRequests(
          `watch cut off: consumer fell ${this.maxQueue} events behind; resume from resourceVersion ${this.#lastRevision}`,
          1,
        ),
      );
      return false;
    }
    this.#queue.push(new Event(type, ev.revision, ev));
    this.emittedRevision = ev.revision;
    return true;
  }

  /** Resolves once the consumer has taken what was queued (or the watch ended). */
  drained(): Promise<void> {
    if (this.#queue.length === 0 || !this.active) return Promise.resolve();
    return new Promise((r) => this.#drainWaiters.push(r));
  }

  /** Queues a BOOKMARK at `revision` (only when asked for bookmarks). */
  bookmark(revision: number, annotations?: Record<string, string>): void {
    if (!this.active || !this.filter.bookmarks || revision < this.queuedRevision) return;
    const t = this.filter.type;
    const obj = {
      kind: t.kind,
      apiVersion: t.group ? `${t.group}/${t.version}` : t.version,
      metadata: annotations ? { resourceVersion: String(revision), annotations } : { resourceVersion: String(revision) },
    };
    this.queuedRevision = revision;
    this.emittedRevision = revision;
    this.#queue.push(new Event("BOOKMARK", revision, { raw: JSON.stringify(obj), parsed: obj }));
  }

  /** Queues a synthetic event (initial state), bypassing ordering checks. */
  push(ev: WatchEvent): void {
    this.#queue.push(ev);
  }

  #translate(ev: ChangeEvent): WatchEvent["type"] | null {
    const f = this.filter;
    if (f.namespace !== undefined && ev.ns !== f.namespace) return null;
    if (!f.labelSelector && !f.fieldSelector) return ev.type;
    const now = this.#matches(ev.labels, ev.fields);
    if (ev.type !== "MODIFIED") return now ? ev.type : null;
    const before = this.#matches(ev.prevLabels, ev.prevFields ?? {});
    if (now) return before ? "MODIFIED" : "ADDED";
    return before ? "DELETED" : null;
  }

  #matches(labels: Record<string, string> | undefined, fields: Record<string, string>): boolean {
    const f = this.filter;
    return (!f.labelSelector || f.labelSelector.matches(labels)) && (!f.fieldSelector || f.fieldSelector.matches(fields));
  }

  /** Hands queued events to a waiting consumer. */
  wake(): void {
    const w = this.#waiter;
    if (!w) return;
    if (this.#queue.length > 0) {
      this.#waiter = null;
      w.resolve(this.#take());
    } else if (this.#error) {
      this.#waiter = null;
      w.reject(this.#error);
    } else if (this.#closed) {
      this.#waiter = null;
      w.resolve(null);
    }
  }

  #take(): WatchEvent[] {
    const out = this.#queue;
    this.#queue = [];
    this.#lastRevision = out[out.length - 1]!.revision;
    this.#releaseDrainWaiters();
    return out;
  }

  #releaseDrainWaiters(): void {
    for (const r of this.#drainWaiters.splice(0)) r();
  }

  nextBatch(): Promise<WatchEvent[] | null> {
    if (this.#queue.length > 0) return Promise.resolve(this.#take());
    if (this.#error) return Promise.reject(this.#error);
    if (this.#closed) return Promise.resolve(null);
    if (this.#waiter) return Promise.reject(new Error("nextBatch called concurrently"));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    try {
      for (;;) {
        const batch = await this.nextBatch();
        if (batch === null) return;
        yield* batch;
      }
    } finally {
      this.close();
    }
  }

  /** Ends the watch with an error; queued events are dropped (the consumer resumes from lastRevision). */
  fail(err: ApiError): void {
    if (!this.active) return;
    this.#error = err;
    this.#queue = [];
    this.#onClose(this);
    this.#releaseDrainWaiters();
    this.wake();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose(this);
    this.#releaseDrainWaiters();
    this.wake();
  }

  /** Queued, undelivered events (for tests and metrics). */
  get queued(): number {
    return this.#queue.length;
  }
}

export interface HubOptions {
  /** Most events kept in memory for resumes. */
  windowSize: number;
  /**
   * Most bytes of event JSON (plus a fixed allowance per event) kept in the
   * window; the oldest events leave first. Default unbounded. A window of
   * 10,000 pods is ~40 MB of JSON held for the rare resume that reaches back
   * that far; a resume older than the window reads the log instead.
   */
  windowBytes?: number;
}

/** What an event costs in the window beyond its JSON: the event, its parsed `sel`, the slot. */
const EVENT_OVERHEAD_BYTES = 256;

/** Fans committed events out to live watchers, grouped by resource. */
export class WatchHub {
  readonly #byResource = new Map<string, Set<Watcher>>();
  #ring: (ChangeEvent | undefined)[];
  #head = 0; // index of the oldest event
  #size = 0;
  /** What the events in the window weigh (`raw.length` plus the overhead each). */
  #bytes = 0;
  readonly #maxBytes: number;
  /** The last published revision. */
  published: number;

  constructor(
    startRevision: number,
    private readonly opts: HubOptions,
  ) {
    this.published = startRevision;
    this.#ring = new Array(opts.windowSize);
    this.#maxBytes = opts.windowBytes ?? Infinity;
  }

  /** Events in the memory window, and their weight in bytes (for tests and metrics). */
  get window(): { events: number; bytes: number } {
    return { events: this.#size, bytes: this.#bytes };
  }

  #evictOldest(): void {
    const ev = this.#ring[this.#head]!;
    this.#ring[this.#head] = undefined;
    this.#bytes -= ev.raw.length + EVENT_OVERHEAD_BYTES;
    this.#head = (this.#head + 1) % this.opts.windowSize;
    this.#size--;
  }

  /** Publishes one committed batch, in revision order. */
  publish(events: ChangeEvent[]): void {
    if (events.length === 0) return;
    const cap = this.opts.windowSize;
    for (const e of events) {
      // The window keeps the bytes, not the parsed object: live watchers share
      // `e` (and its object) while they consume it, but a window of old
      // versions' objects would hold ~10x their JSON in memory for the rare
      // resume; a resumed watch parses again.
      const ev: ChangeEvent = e.parsed === undefined ? e : { ...e, parsed: undefined };
      const weight = ev.raw.length + EVENT_OVERHEAD_BYTES;
      if (cap === 0 || weight > this.#maxBytes) {
        // Cannot be kept: the window would no longer be contiguous, so empty it.
        while (this.#size > 0) this.#evictOldest();
        continue;
      }
      while (this.#size > 0 && (this.#size >= cap || this.#bytes + weight > this.#maxBytes)) this.#evictOldest();
      this.#ring[(this.#head + this.#size) % cap] = ev;
      this.#size++;
      this.#bytes += weight;
    }
    this.published = events[events.length - 1]!.revision;
    const touched = new Set<Watcher>();
    for (const ev of events) {
      const ws = this.#byResource.get(ev.resource);
      if (!ws) continue;
      for (const w of ws) if (w.offer(ev)) touched.add(w);
    }
    for (const w of touched) w.wake();
  }

  /**
   * Up to `limit` in-memory events of `resource` after `revision` (and whether
   * they reach `published`), or null when the window no longer reaches back that far.
   */
  since(resource: string, revision: number, limit: number): { events: ChangeEvent[]; complete: boolean } | null {
    if (revision >= this.published) return { events: [], complete: true };
    if (this.#size === 0) return null;
    const oldest = this.#ring[this.#head]!.revision;
    if (oldest > revision + 1) return null;
    const events: ChangeEvent[] = [];
    const cap = this.opts.windowSize;
    for (let i = Math.max(0, revision + 1 - oldest); i < this.#size; i++) {
      const ev = this.#ring[(this.#head + i) % cap]!;
      if (ev.revision > revision && ev.resource === resource) {
        if (events.length === limit) return { events, complete: false };
        events.push(ev);
      }
    }
    return { events, complete: true };
  }

  /** Makes a watcher live. Call synchronously after it has caught up to `published`. */
  add(w: Watcher): void {
    const key = w.filter.type.key;
    let set = this.#byResource.get(key);
    if (!set) this.#byResource.set(key, (set = new Set()));
    set.add(w);
    w.setOnClose((x) => this.#byResource.get(key)?.delete(x));
    w.queuedRevision = Math.max(w.queuedRevision, this.published);
  }

  /** Sends a bookmark to every live watcher that asked for them and is idle. */
  tickBookmarks(): void {
    for (const set of this.#byResource.values())
      for (const w of set) {
        if (w.filter.bookmarks && w.queued === 0 && w.emittedRevision < this.published) {
          w.bookmark(this.published);
          w.wake();
        }
      }
  }

  /** Number of live watchers. */
  get watcherCount(): number {
    let n = 0;
    for (const s of this.#byResource.values()) n += s.size;
    return n;
  }

  /** Ends every watcher (store shutdown). */
  closeAll(): void {
    for (const set of [...this.#byResource.values()]) for (const w of [...set]) w.close();
  }
}
