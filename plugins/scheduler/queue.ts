/**
 * @module The scheduling queue (upstream's PriorityQueue):
 *
 * - active: pods ready to be tried, highest priority first, then oldest;
 * - backoff: pods that failed, until their backoff (initial × 2^(attempts−1),
 *   capped) ends;
 * - unschedulable: pods no node fits; they wait for a cluster event that one
 *   of the plugins that rejected them lists (a node added, a pod deleted…),
 *   with a periodic flush after `maxUnschedulableMs` as a safety net only;
 * - gated: pods with schedulingGates, until an update removes them.
 *
 * An event that arrives while a pod is being scheduled makes that pod, if it
 * fails, go to backoff instead of unschedulable (it may have missed the
 * event). Each pod is in exactly one place.
 */
import { setTimeout as delay } from "node:timers";
import type { ClusterEvent } from "../../core/plugin/scheduler-framework.ts";
import type { PodInfoImpl } from "./framework/pod-info.ts";

export interface QueuedPod {
  info: PodInfoImpl;
  /** When the pod was first queued (orders pods of equal priority). */
  readonly timestamp: number;
  /** Arrival order, breaking timestamp ties (FIFO). */
  readonly seq: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** Plugins that rejected it in its last attempt. */
  unschedulablePlugins: Set<string>;
  backoffUntil: number;
  unschedulableSince: number;
}

export type QueueLocation = "active" | "backoff" | "unschedulable" | "gated" | "in-flight";

export interface QueueOptions {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** Unschedulable pods are retried after this long even without an event. */
  maxUnschedulableMs: number;
  /** Each plugin's declared requeue events (undefined: any event). */
  pluginEvents: ReadonlyMap<string, readonly ClusterEvent[] | undefined>;
  now?: () => number;
}

interface HeapItem {
  qp: QueuedPod;
  token: number;
}

/** A binary min-heap under `less`. */
class Heap<T> {
  readonly #items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}
  get size(): number {
    return this.#items.length;
  }
  peek(): T | undefined {
    return this.#items[0];
  }
  push(v: T): void {
    const a = this.#items;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.#items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

export class SchedulingQueue {
  readonly #opts: QueueOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, QueuedPod>();
  readonly #where = new Map<string, QueueLocation>();
  readonly #tokens = new Map<string, number>();
  readonly #active = new Heap<HeapItem>(
    (a, b) =>
      a.qp.info.priority > b.qp.info.priority ||
      (a.qp.info.priority === b.qp.info.priority && (a.qp.timestamp < b.qp.timestamp || (a.qp.timestamp === b.qp.timestamp && a.qp.seq < b.qp.seq))),
  );
  readonly #backoff = new Heap<HeapItem>((a, b) => a.qp.backoffUntil < b.qp.backoffUntil);
  readonly #unschedulable = new Map<string, QueuedPod>();
  #nextToken = 0;
  #seq = 0;
  #waiters: ((qp: QueuedPod | undefined) => void)[] = [];
  #closed = false;
  #backoffTimer: ReturnType<typeof setTimeout> | undefined;
  #backoffTimerAt = Infinity;
  #flushTimer: ReturnType<typeof setInterval> | undefined;
  /** Incremented on every pop. */
  schedulingCycle = 0;
  /** The cycle during which the last move event happened. */
  #moveRequestCycle = -1;

  constructor(opts: QueueOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#flushTimer = setInterval(() => this.flushUnschedulable(), Math.max(1000, Math.min(30_000, opts.maxUnschedulableMs / 2)));
    (this.#flushTimer as { unref?: () => void }).unref?.();
  }

  /** Where a pod is, if queued. */
  location(uid: string): QueueLocation | undefined {
    return this.#where.get(uid);
  }

  get(uid: string): QueuedPod | undefined {
    return this.#entries.get(uid);
  }

  /** Counts per location (metrics, tests). */
  stats(): Record<QueueLocation, number> {
    const out: Record<QueueLocation, number> = { active: 0, backoff: 0, unschedulable: 0, gated: 0, "in-flight": 0 };
    for (const w of this.#where.values()) out[w]++;
    return out;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A new pending pod (or a known one: then as `update`). */
  add(info: PodInfoImpl): void {
    if (this.#closed) return;
    const cur = this.#entries.get(info.uid);
    if (cur) {
      this.update(info, true);
      return;
    }
    const qp: QueuedPod = { info, timestamp: this.#now(), seq: ++this.#seq, attempts: 0, unschedulablePlugins: new Set(), backoffUntil: 0, unschedulableSince: 0 };
    this.#entries.set(info.uid, qp);
    if (info.gated) this.#where.set(info.uid, "gated");
    else this.#toActive(qp);
  }

  /**
   * A queued pod changed. With `specChanged` (anything but status), a pod
   * waiting as unschedulable or gated is retried; a status-only change just
   * refreshes the pod object.
   */
  update(info: PodInfoImpl, specChanged: boolean): void {
    const qp = this.#entries.get(info.uid);
    if (!qp) {
      this.add(info);
      return;
    }
    const priorityChanged = qp.info.priority !== info.priority;
    qp.info = info;
    const where = this.#where.get(info.uid);
    switch (where) {
      case "active":
        if (priorityChanged) this.#toActive(qp);
        break;
      case "gated":
        if (!info.gated) this.#toActive(qp);
        break;
      case "unschedulable":
        if (specChanged) {
          this.#unschedulable.delete(info.uid);
          this.#toActiveOrBackoff(qp);
        }
        break;
      default:
        break;
    }
  }

  delete(uid: string): void {
    this.#entries.delete(uid);
    this.#where.delete(uid);
    this.#tokens.delete(uid);
    this.#unschedulable.delete(uid);
  }

  /** The next pod to schedule, without waiting; undefined when none is active. */
  tryPop(): QueuedPod | undefined {
    for (;;) {
      const item = this.#active.pop();
      if (!item) return undefined;
      const uid = item.qp.info.uid;
      if (this.#tokens.get(uid) !== item.token || this.#where.get(uid) !== "active") continue;
      this.#where.set(uid, "in-flight");
      this.#tokens.delete(uid);
      item.qp.attempts++;
      this.schedulingCycle++;
      return item.qp;
    }
  }

  /** The next pod to schedule, waiting for one; undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    const qp = this.tryPop();
    if (qp || this.#closed) return Promise.resolve(qp);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The pod was scheduled (or dropped): it leaves the queue. */
  done(uid: string): void {
    if (this.#where.get(uid) === "in-flight") this.delete(uid);
  }

  /**
   * A pod that no node fits goes to unschedulable — or to backoff if a move
   * event happened since it was popped in `cycle`. `plugins` rejected it.
   */
  addUnschedulable(qp: QueuedPod, cycle: number, plugins: Iterable<string>): void {
    if (!this.#entries.has(qp.info.uid) || this.#where.get(qp.info.uid) !== "in-flight") return;
    qp.unschedulablePlugins = new Set(plugins);
    qp.backoffUntil = this.#now() + this.backoffMs(qp.attempts);
    if (this.#moveRequestCycle >= cycle) {
      this.#toBackoff(qp);
      return;
    }
    qp.unschedulableSince = this.#now();
    this.#where.set(qp.info.uid, "unschedulable");
    this.#unschedulable.set(qp.info.uid, qp);
  }

  /** A pod that failed for another reason (an error, a failed bind) retries after its backoff. */
  addBackoff(qp: QueuedPod): void {
    if (!this.#entries.has(qp.info.uid) || this.#where.get(qp.info.uid) !== "in-flight") return;
    qp.backoffUntil = this.#now() + this.backoffMs(qp.attempts);
    this.#toBackoff(qp);
  }

  /** Re-adds a pod that left the queue (e.g. its binding failed after `done`). */
  readd(info: PodInfoImpl, attempts: number): void {
    if (this.#entries.has(info.uid) || this.#closed) return;
    const qp: QueuedPod = { info, timestamp: this.#now(), seq: ++this.#seq, attempts, unschedulablePlugins: new Set(), backoffUntil: 0, unschedulableSince: 0 };
    qp.backoffUntil = this.#now() + this.backoffMs(attempts);
    this.#entries.set(info.uid, qp);
    this.#toBackoff(qp);
  }

  backoffMs(attempts: number): number {
    const { initialBackoffMs, maxBackoffMs } = this.#opts;
    if (attempts <= 1) return Math.min(initialBackoffMs, maxBackoffMs);
    return Math.min(maxBackoffMs, initialBackoffMs * 2 ** Math.min(30, attempts - 1));
  }

  /**
   * A cluster event: unschedulable pods that one of their rejecting plugins
   * cares about move to active (or backoff while it lasts). `filter` narrows
   * further (e.g. only pods a new node could fit).
   */
  moveOnEvent(event: ClusterEvent, filter?: (qp: QueuedPod) => boolean): number {
    this.#moveRequestCycle = this.schedulingCycle;
    let moved = 0;
    for (const [uid, qp] of this.#unschedulable) {
      if (!this.#relevant(qp, event) || (filter && !filter(qp))) continue;
      this.#unschedulable.delete(uid);
      this.#toActiveOrBackoff(qp);
      moved++;
    }
    return moved;
  }

  #relevant(qp: QueuedPod, event: ClusterEvent): boolean {
    if (qp.unschedulablePlugins.size === 0) return true;
    for (const p of qp.unschedulablePlugins) {
      const evs = this.#opts.pluginEvents.get(p);
      if (evs === undefined || evs.includes(event)) return true;
    }
    return false;
  }

  /** Moves pods unschedulable for longer than `maxUnschedulableMs` (the safety net). */
  flushUnschedulable(): void {
    const limit = this.#now() - this.#opts.maxUnschedulableMs;
    for (const [uid, qp] of this.#unschedulable) {
      if (qp.unschedulableSince > limit) continue;
      this.#unschedulable.delete(uid);
      this.#toActiveOrBackoff(qp);
    }
  }

  /** Moves pods whose backoff ended to active. */
  flushBackoff(): void {
    const now = this.#now();
    for (;;) {
      const top = this.#backoff.peek();
      if (!top) break;
      const uid = top.qp.info.uid;
      if (this.#tokens.get(uid) !== top.token || this.#where.get(uid) !== "backoff") {
        this.#backoff.pop();
        continue;
      }
      if (top.qp.backoffUntil > now) break;
      this.#backoff.pop();
      this.#toActive(top.qp);
    }
    this.#armBackoffTimer();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#flushTimer);
    clearTimeout(this.#backoffTimer);
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  #toActiveOrBackoff(qp: QueuedPod): void {
    if (qp.backoffUntil > this.#now()) this.#toBackoff(qp);
    else this.#toActive(qp);
  }

  #toActive(qp: QueuedPod): void {
    const uid = qp.info.uid;
    this.#where.set(uid, "active");
    const token = ++this.#nextToken;
    this.#tokens.set(uid, token);
    const waiter = this.#waiters.shift();
    if (waiter) {
      // Hand it over directly (the waiter was idle, so the heap is empty).
      this.#active.push({ qp, token });
      const next = this.tryPop();
      waiter(next);
      return;
    }
    this.#active.push({ qp, token });
  }

  #toBackoff(qp: QueuedPod): void {
    const uid = qp.info.uid;
    this.#where.set(uid, "backoff");
    const token = ++this.#nextToken;
    this.#tokens.set(uid, token);
    this.#backoff.push({ qp, token });
    this.#armBackoffTimer();
  }

  #armBackoffTimer(): void {
    if (this.#closed) return;
    const top = this.#backoff.peek();
    if (!top) return;
    const at = top.qp.backoffUntil;
    if (this.#backoffTimer !== undefined && this.#backoffTimerAt <= at) return;
    clearTimeout(this.#backoffTimer);
    this.#backoffTimerAt = at;
    this.#backoffTimer = delay(() => {
      this.#backoffTimer = undefined;
      this.#backoffTimerAt = Infinity;
      this.flushBackoff();
    }, Math.max(0, at - this.#now()));
    (this.#backoffTimer as { unref?: () => void }).unref?.();
  }
}
