/**
 * @module The `event-ttl-controller` plugin: deletes core/v1 Events an hour
 * (`ttlSeconds`) after they last occurred, the job kube-apiserver's
 * `--event-ttl` does with etcd leases. Each Event is checked when it is
 * added or updated and then at its expiry (one queue timer per Event); the
 * delete carries the Event's resourceVersion as a precondition, so an Event
 * that recurred meanwhile (count bumped) is kept for another hour. The
 * revision log's compaction then reclaims the space, so a chatty cluster's
 * store does not grow without bound.
 */
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import { splitKey } from "../../../core/client/keys.ts";
import { keyOf } from "../../../core/client/keys.ts";
import type { InformerTransform } from "../../../core/client/informer.ts";
import type { Client, Informer, Reconciler, ReconcileResult } from "../../../core/client/types.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { EVENTS, timeOf } from "../common/refs.ts";
import { type ControllerConfig, controllerPlugin } from "../common/runtime.ts";

export const NAME = "event-ttl-controller";
export const DEFAULT_TTL_SECONDS = 3600;

export interface EventTtlConfig extends ControllerConfig {
  ttlSeconds: number;
}

type Event = KubeObject & { lastTimestamp?: string; eventTime?: string; firstTimestamp?: string; series?: { lastObservedTime?: string } };

/** When the Event last happened (ms): the latest of its timestamps, else its creation. */
export function lastOccurrence(e: Event): number {
  const times = [e.lastTimestamp, e.series?.lastObservedTime, e.eventTime, e.firstTimestamp, e.metadata.creationTimestamp].map((t) => timeOf(t ?? undefined));
  const valid = times.filter((t) => !Number.isNaN(t));
  return valid.length > 0 ? Math.max(...valid) : 0;
}

/**
 * What the controller's cache keeps of an Event: its identity and the times
 * `lastOccurrence` reads. A busy cluster has tens of thousands of Events; held
 * whole (messages, involved objects, sources) they were the largest cache of
 * a 10,000-pod all-in-one after the pods themselves.
 */
export const EVENT_TTL_VIEW: InformerTransform = {
  name: "event-ttl/times",
  fn: (o) => {
    const e = o as Event;
    const m = e.metadata;
    const view: Event = {
      apiVersion: e.apiVersion,
      kind: e.kind,
      metadata: {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
        ...(m.creationTimestamp !== undefined ? { creationTimestamp: m.creationTimestamp } : {}),
      },
    };
    if (e.lastTimestamp) view.lastTimestamp = e.lastTimestamp;
    if (e.eventTime) view.eventTime = e.eventTime;
    if (e.firstTimestamp) view.firstTimestamp = e.firstTimestamp;
    if (e.series?.lastObservedTime) view.series = { lastObservedTime: e.series.lastObservedTime };
    return view;
  },
};

export class EventTtlReconciler implements Reconciler {
  readonly name = "event-ttl";
  constructor(
    private readonly client: Client,
    private readonly events: Informer<Event>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const e = this.events.getByKey(key);
    if (!e) return;
    const left = lastOccurrence(e) + this.ttlMs - this.now();
    if (left > 0) return { requeueAfter: left + 100 };
    const { namespace, name } = splitKey(key);
    try {
      await this.client.delete(EVENTS, name, { namespace, preconditions: { uid: e.metadata.uid!, resourceVersion: e.metadata.resourceVersion! } });
    } catch (err) {
      if (isApiError(err, "NotFound") || isApiError(err, "Conflict")) return; // gone, or recurred (re-queued by its update)
      throw err;
    }
  }
}

export function createEventTtlPlugin(): Plugin<EventTtlConfig> {
  return controllerPlugin<EventTtlConfig>({
    name: NAME,
    description: "Deletes Events one hour (ttlSeconds) after they last occurred.",
    provides: ["controller:event-ttl"],
    component: NAME,
    defaultWorkers: 2,
    configProperties: { ttlSeconds: { type: "number", exclusiveMinimum: 0, default: DEFAULT_TTL_SECONDS } },
    async run(term) {
      const events = term.informers.informer<Event>(EVENTS, { transform: EVENT_TTL_VIEW });
      await term.waitForSync(events as Informer<never>);
      if (term.signal.aborted) return;
      const queue = term.controller(new EventTtlReconciler(term.client, events, (term.config.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000));
      term.on(events, { add: (e) => queue.enqueue(keyOf(e)), update: (_o, e) => queue.enqueue(keyOf(e)) });
    },
  });
}

const plugin: Plugin<EventTtlConfig> = createEventTtlPlugin();
export default plugin;
