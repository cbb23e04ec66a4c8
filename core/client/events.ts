/**
 * @module Recording core/v1 Events about objects (what `kubectl describe`
 * shows), with client-go's correlation idea: an event identical to a recent
 * one (same object, type, reason and message, within `windowMs`) bumps the
 * existing Event's `count` and `lastTimestamp` instead of creating another.
 * Occurrences that arrive while a write is in flight are folded into the
 * next write. Recording never throws and never waits: failures are logged.
 */
import { isApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import { type Logger, logger } from "../log.ts";
import type { Client, ResourceRef } from "./types.ts";

/** core/v1 events. */
export const EVENTS: ResourceRef = { group: "", version: "v1", resource: "events" };

/** What an event is about: an object reference, or the object itself. */
export interface InvolvedObject {
  apiVersion?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  /** The part of the object (`spec.containers{web}`). */
  fieldPath?: string;
}

export type EventType = "Normal" | "Warning";

export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent` (`scheduler`, `kubelet`). */
  component: string;
  /** `source.host` (the node), also the default `reportingInstance`. */
  host?: string;
  /** `reportingInstance`; default `host`, else the component. */
  instance?: string;
  /** Identical events closer together than this are one Event with a count. Default 10 minutes. */
  windowMs?: number;
  /** Recent events remembered for aggregation (least recently used dropped first). Default 4,096. */
  maxEntries?: number;
  /** Clock (tests). */
  now?: () => number;
  log?: Logger;
}

interface Entry {
  namespace: string;
  name: string;
  ref: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  /** Occurrences recorded / written to the server. */
  count: number;
  written: number;
  first: number;
  last: number;
  writing?: Promise<void> | undefined;
}

const MAX_MESSAGE = 1024;

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The reference an Event carries, from an object or a reference. */
export function referenceOf(involved: InvolvedObject | KubeObject): InvolvedObject {
  const meta = (involved as KubeObject).metadata;
  if (meta === undefined || meta === null || typeof meta !== "object") return involved as InvolvedObject;
  const o = involved as KubeObject;
  const ref: InvolvedObject = {};
  if (o.apiVersion) ref.apiVersion = o.apiVersion;
  if (o.kind) ref.kind = o.kind;
  if (meta.name) ref.name = meta.name;
  if (meta.namespace) ref.namespace = meta.namespace;
  if (meta.uid) ref.uid = meta.uid;
  if (meta.resourceVersion) ref.resourceVersion = meta.resourceVersion;
  return ref;
}

/** Records Events through a client. Implements the plugin contract's `EventSink`. */
export class EventRecorder {
  readonly #client: Client;
  readonly #opts: EventRecorderOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #recent = new Map<string, Entry>();
  readonly #inFlight = new Set<Promise<void>>();
  #seq = 0;

  constructor(client: Client, opts: EventRecorderOptions) {
    this.#client = client;
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#log = (opts.log ?? logger("events")).child({ reporter: opts.component });
  }

  /** Records one occurrence. Returns at once; the write happens in the background. */
  record(involved: InvolvedObject | KubeObject, type: EventType, reason: string, message: string): void {
    try {
      this.#record(referenceOf(involved), type, reason, message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE - 3) + "..." : message);
    } catch (e) {
      this.#log.warn({ reason, err: e instanceof Error ? e.message : String(e) }, "recording an event failed");
    }
  }

  /** Resolves once every write started so far has finished (shutdown, tests). */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  #record(ref: InvolvedObject, type: EventType, reason: string, message: string): void {
    if (!ref.name) {
      this.#log.warn({ reason, kind: ref.kind }, "event dropped: the involved object has no name");
      return;
    }
    const now = this.#now();
    const key = [ref.namespace ?? "", ref.kind ?? "", ref.name, ref.uid ?? "", type, reason, message].join("\u0000");
    let entry = this.#recent.get(key);
    if (entry && now - entry.last > (this.#opts.windowMs ?? 600_000)) entry = undefined;
    if (entry) {
      this.#recent.delete(key); // re-inserted below: most recently used last
    } else {
      entry = {
        // Events about cluster-scoped objects live in "default", as client-go puts them.
        namespace: ref.namespace || "default",
        name: this.#eventName(ref.name, now),
        ref,
        type,
        reason,
        message,
        count: 0,
        written: 0,
        first: now,
        last: now,
      };
    }
    this.#recent.set(key, entry);
    const max = this.#opts.maxEntries ?? 4096;
    while (this.#recent.size > max) this.#recent.delete(this.#recent.keys().next().value!);
    entry.count++;
    entry.last = now;
    if (!entry.writing) {
      const e = entry;
      const p = this.#drain(e, key).finally(() => {
        e.writing = undefined;
        this.#inFlight.delete(p);
      });
      e.writing = p;
      this.#inFlight.add(p);
    }
  }

  /** `<object name>.<hex time>`, as client-go names events. */
  #eventName(name: string, now: number): string {
    const suffix = (BigInt(now) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16);
    return `${name.slice(0, 253 - suffix.length - 1)}.${suffix}`;
  }

  /** Writes until the server has every occurrence recorded so far; failures are logged, never thrown. */
  async #drain(e: Entry, key: string): Promise<void> {
    while (e.written < e.count) {
      const count = e.count;
      const last = e.last;
      try {
        if (e.written === 0) await this.#client.create(EVENTS, this.#event(e, count, last));
        else await this.#client.patch(EVENTS, e.name, "merge", { count, lastTimestamp: rfc3339(last) }, { namespace: e.namespace });
        e.written = count;
      } catch (err) {
        if (e.written > 0 && isApiError(err, "NotFound")) {
          e.written = 0; // the Event was deleted meanwhile: create it again
          continue;
        }
        this.#log.warn(
          { reason: e.reason, object: `${e.ref.kind ?? ""}/${e.ref.name ?? ""}`, err: err instanceof Error ? err.message : String(err) },
          "writing an event failed",
        );
        // Forget it, so the next occurrence starts afresh rather than patching what may not exist.
        if (this.#recent.get(key) === e) this.#recent.delete(key);
        return;
      }
    }
  }

  #event(e: Entry, count: number, last: number): KubeObject {
    const host = this.#opts.host;
    return {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: e.name, namespace: e.namespace },
      involvedObject: { ...e.ref },
      reason: e.reason,
      message: e.message,
      type: e.type,
      source: { component: this.#opts.component, ...(host ? { host } : {}) },
      reportingComponent: this.#opts.component,
      reportingInstance: this.#opts.instance ?? host ?? this.#opts.component,
      firstTimestamp: rfc3339(e.first),
      lastTimestamp: rfc3339(last),
      count,
    };
  }
}
