/**
 * @module Writes pod statuses to the API, like the kubelet's status
 * manager: workers hand it the latest status of a pod at any time; it sends
 * only what changed (a merge patch of `status` on the pod's status
 * subresource, arrays whole), at most one write in flight per pod (later
 * statuses coalesce into the next write), a bounded number of writes in
 * flight overall, and it retries failures with backoff.
 */
import { isApiError } from "../../core/api/errors.ts";
import type { Client } from "../../core/client/types.ts";
import type { Logger } from "../../core/log.ts";
import { type PodStatus, podsRef } from "./types.ts";

interface Entry {
  namespace: string;
  name: string;
  uid: string;
  /** The status to write; dropped once written (the pod's own status then says the same). */
  desired?: PodStatus;
  /** Hash of the JSON of `desired` while it waits to be written. */
  desiredJson?: string;
  /** Hash of the JSON last written. */
  sentJson?: string;
  inflight: boolean;
  waiters: (() => void)[];
  retryMs: number;
  timer?: ReturnType<typeof setTimeout>;
}

/** A short digest of a status's JSON (equality only). */
function digest(json: string): string {
  const bun = (globalThis as { Bun?: { hash(s: string): number | bigint } }).Bun;
  if (bun) return `${json.length}:${bun.hash(json).toString(36)}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < json.length; i++) h = Math.imul(h ^ json.charCodeAt(i), 0x01000193);
  return `${json.length}:${(h >>> 0).toString(36)}`;
}

export class StatusManager {
  readonly #entries = new Map<string, Entry>();
  #queue: string[] = [];
  #head = 0;
  readonly #queued = new Set<string>();
  #active = 0;
  #stopped = false;

  constructor(
    private readonly client: Client,
    private readonly log: Logger,
    private readonly concurrency = 32,
  ) {}

  /** The status handed in for this pod and not written yet. */
  get(uid: string): PodStatus | undefined {
    return this.#entries.get(uid)?.desired;
  }

  /** Sets the pod's status; written soon unless identical to what was sent. */
  set(pod: { namespace: string; name: string; uid: string }, status: PodStatus): void {
    const json = digest(JSON.stringify(status));
    let e = this.#entries.get(pod.uid);
    if (!e) {
      e = { ...pod, desired: status, desiredJson: json, inflight: false, waiters: [], retryMs: 500 };
      this.#entries.set(pod.uid, e);
    } else {
      e.namespace = pod.namespace;
      e.name = pod.name;
      e.desired = status;
      e.desiredJson = json;
    }
    if (e.sentJson === json) {
      delete e.desiredJson;
      delete e.desired;
      this.#release(e);
      return;
    }
    if (!e.inflight && e.timer === undefined) this.#enqueue(e.uid);
  }

  /** Resolves once the latest status of the pod has been written (or given up on). */
  flush(uid: string): Promise<void> {
    const e = this.#entries.get(uid);
    if (!e || (e.desiredJson === undefined && !e.inflight)) return Promise.resolve();
    return new Promise((r) => e.waiters.push(r));
  }

  /** Seeds what the API already holds (after an agent restart), so an unchanged status is not rewritten. */
  seed(uid: string, status: PodStatus | undefined): void {
    const e = this.#entries.get(uid);
    if (e || !status) return;
    this.#entries.set(uid, { namespace: "", name: "", uid, sentJson: digest(JSON.stringify(status)), inflight: false, waiters: [], retryMs: 500 });
  }

  forget(uid: string): void {
    const e = this.#entries.get(uid);
    if (!e) return;
    clearTimeout(e.timer);
    this.#entries.delete(uid);
    this.#release(e);
  }

  stop(): void {
    this.#stopped = true;
    for (const e of this.#entries.values()) {
      clearTimeout(e.timer);
      this.#release(e);
    }
  }

  #release(e: Entry): void {
    const w = e.waiters.splice(0);
    for (const f of w) f();
  }

  #enqueue(uid: string): void {
    if (this.#queued.has(uid)) return;
    this.#queued.add(uid);
    this.#queue.push(uid);
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopped && this.#active < this.concurrency && this.#head < this.#queue.length) {
      const uid = this.#queue[this.#head++]!;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#queued.delete(uid);
      const e = this.#entries.get(uid);
      if (!e || e.inflight || e.desiredJson === undefined || e.sentJson === e.desiredJson) continue;
      this.#active++;
      void this.#write(e).finally(() => {
        this.#active--;
        this.#pump();
      });
    }
  }

  async #write(e: Entry): Promise<void> {
    e.inflight = true;
    const json = e.desiredJson!;
    try {
      await this.client.patch(podsRef, e.name, "merge", { status: e.desired! }, { namespace: e.namespace, subresource: "status" });
      e.sentJson = json;
      e.retryMs = 500;
    } catch (err) {
      if (isApiError(err, "NotFound")) {
        e.inflight = false;
        this.forget(e.uid);
        return;
      }
      this.log.warn({ pod: `${e.namespace}/${e.name}`, err: (err as Error).message, retryInMs: e.retryMs }, "pod status update failed");
      e.inflight = false;
      const delay = e.retryMs;
      e.retryMs = Math.min(e.retryMs * 2, 30_000);
      e.timer = setTimeout(() => {
        e.timer = undefined;
        this.#enqueue(e.uid);
      }, delay);
      return;
    }
    e.inflight = false;
    if (!this.#entries.has(e.uid)) return;
    if (e.desiredJson !== undefined && e.desiredJson !== e.sentJson) this.#enqueue(e.uid);
    else {
      delete e.desiredJson;
      delete e.desired;
      this.#release(e);
    }
  }
}
