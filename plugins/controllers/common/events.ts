/**
 * @module Event recording for controllers: one `EventRecorder` per controller
 * (so `kubectl describe` shows `replicaset-controller`, `deployment-controller`
 * … under From), behind client-go's spam filter — per object, type and
 * reason a bucket of 25 events refilled by one every 5 minutes — so scaling
 * to 10,000 pods writes 25 "Created pod" Events, not 10,000.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import { EventRecorder, type InvolvedObject, referenceOf } from "../../../core/client/events.ts";
import type { Client } from "../../../core/client/types.ts";
import type { Logger } from "../../../core/log.ts";
import type { EventSink } from "../../../core/plugin/types.ts";

export interface SpamFilterOptions {
  burst?: number;
  /** Milliseconds per refilled token. */
  refillMs?: number;
  now?: () => number;
  /** Buckets remembered (least recently used dropped first). */
  maxEntries?: number;
}

/** Token buckets per key (client-go's EventSourceObjectSpamFilter). */
export class SpamFilter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #burst: number;
  readonly #refill: number;
  readonly #now: () => number;
  readonly #max: number;

  constructor(o: SpamFilterOptions = {}) {
    this.#burst = o.burst ?? 25;
    this.#refill = o.refillMs ?? 300_000;
    this.#now = o.now ?? Date.now;
    this.#max = o.maxEntries ?? 4096;
  }

  /** Takes a token for `key`; false when the bucket is empty (the event is dropped). */
  allow(key: string): boolean {
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (b) {
      this.#buckets.delete(key);
      const refilled = Math.floor((now - b.at) / this.#refill);
      if (refilled > 0) b = { tokens: Math.min(this.#burst, b.tokens + refilled), at: b.at + refilled * this.#refill };
    } else b = { tokens: this.#burst, at: now };
    this.#buckets.set(key, b);
    while (this.#buckets.size > this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (b.tokens <= 0) return false;
    b.tokens--;
    return true;
  }
}

/** An EventSink for one controller component, spam-filtered. `flush` waits for pending writes. */
export class ControllerEvents implements EventSink {
  readonly #recorder: EventRecorder;
  readonly #filter: SpamFilter;

  constructor(client: Client, component: string, opts: { log?: Logger; spam?: SpamFilterOptions; instance?: string } = {}) {
    this.#recorder = new EventRecorder(client, {
      component,
      ...(opts.instance ? { instance: opts.instance } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    this.#filter = new SpamFilter(opts.spam);
  }

  record(involved: InvolvedObject | KubeObject, type: "Normal" | "Warning", reason: string, message: string): void {
    const r = referenceOf(involved);
    const key = [r.kind, r.namespace, r.name, r.uid, type, reason].join("\u0000");
    if (!this.#filter.allow(key)) return;
    this.#recorder.record(involved, type, reason, message);
  }

  flush(): Promise<void> {
    return this.#recorder.flush();
  }
}
