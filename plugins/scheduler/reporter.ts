/**
 * @module What the scheduler tells the world about a pod: the Normal
 * "Scheduled" Event of a bound pod, and for a pod it could not place a
 * Warning "FailedScheduling" Event plus the PodScheduled=False condition
 * (and status.nominatedNodeName), patched only when they change.
 */
import { setImmediate } from "node:timers";
import type { KubeObject } from "../../core/api/meta.ts";
import type { Client } from "../../core/client/types.ts";
import type { Logger } from "../../core/log.ts";
import type { EventSink } from "../../core/plugin/types.ts";
import type { PodInfoImpl } from "./framework/pod-info.ts";
import { PODS } from "./plugins/default-binder.ts";

/** Scheduled events held back while the scheduler is busy; beyond this they are dropped (and counted). */
export const MAX_EVENT_BACKLOG = 10_000;
/** Held-back events written per event-loop turn, so a long backlog never blocks the process. */
const FLUSH_BATCH = 200;

export interface ReporterOptions {
  client: Client;
  events: EventSink;
  log: Logger;
  /** Record "Scheduled" events at all. */
  recordScheduled: boolean;
  /** Whether the scheduler is quiet; a backlog flush stops (to resume later) when it is not. */
  quiet: () => boolean;
}

export class Reporter {
  readonly #o: ReporterOptions;
  #backlog: { pod: KubeObject; message: string }[] = [];
  #flushing = false;
  /** Scheduled events dropped because the backlog was full (as client-go's broadcaster drops beyond its queue). */
  dropped = 0;

  constructor(o: ReporterOptions) {
    this.#o = o;
  }

  /**
   * A pod was bound. With `busy` the event waits in a backlog until `flush`
   * (the scheduler flushes when no pod waits and no binding is in flight):
   * events are informational, bindings are the work.
   */
  scheduled(pod: PodInfoImpl, node: string, busy: boolean): void {
    if (!this.#o.recordScheduled) return;
    const message = `Successfully assigned ${pod.key} to ${node}`;
    if (!busy && this.#backlog.length === 0) {
      this.#o.events.record(pod.pod, "Normal", "Scheduled", message);
      return;
    }
    if (this.#backlog.length >= MAX_EVENT_BACKLOG) {
      this.dropped++;
      return;
    }
    this.#backlog.push({ pod: pod.pod, message });
  }

  /**
   * Writes the held-back Scheduled events, FLUSH_BATCH per event-loop turn,
   * while the scheduler stays quiet (`all`: everything now, e.g. on stop).
   */
  flush(all = false): void {
    if (all) {
      for (const e of this.#backlog.splice(0)) this.#o.events.record(e.pod, "Normal", "Scheduled", e.message);
      return;
    }
    if (this.#flushing || this.#backlog.length === 0) return;
    this.#flushing = true;
    const step = () => {
      for (const e of this.#backlog.splice(0, FLUSH_BATCH)) this.#o.events.record(e.pod, "Normal", "Scheduled", e.message);
      if (this.#backlog.length > 0 && this.#o.quiet()) setImmediate(step);
      else this.#flushing = false;
    };
    step();
  }

  /** A FailedScheduling event, and PodScheduled=False (reason, message, nominated node) unless the pod already says so. */
  failed(pod: PodInfoImpl, reason: string, message: string, nominatedNodeName?: string): void {
    this.#o.events.record(pod.pod, "Warning", "FailedScheduling", message);
    const st = (pod.pod.status ?? {}) as { conditions?: { type: string; status?: string; reason?: string; message?: string }[]; nominatedNodeName?: string };
    const cur = st.conditions?.find((c) => c.type === "PodScheduled");
    const nominatedChanged = nominatedNodeName !== undefined && (st.nominatedNodeName ?? "") !== nominatedNodeName;
    if (cur && cur.status === "False" && cur.reason === reason && cur.message === message && !nominatedChanged) return;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const condition = { type: "PodScheduled", status: "False", reason, message, lastProbeTime: null, lastTransitionTime: now };
    const status: Record<string, unknown> = { conditions: [condition] };
    if (nominatedChanged) status.nominatedNodeName = nominatedNodeName || null;
    this.#o.client.patch(PODS, pod.name, "strategic", { status }, { namespace: pod.namespace, subresource: "status" }).catch((e: unknown) => {
      this.#o.log.debug({ pod: pod.key, err: e instanceof Error ? e.message : String(e) }, "pod status update failed");
    });
  }
}
