/**
 * @module events.k8s.io/v1 Event ↔ core/v1 Event (kubernetes
 * `pkg/apis/events/v1/conversion.go`). Both are views of one stored object
 * (storage key `events`, stored as core/v1). Field renames:
 *
 * | events.k8s.io/v1 | core/v1 |
 * |---|---|
 * | note | message |
 * | regarding | involvedObject |
 * | reportingController | reportingComponent |
 * | deprecatedSource | source |
 * | deprecatedFirstTimestamp / deprecatedLastTimestamp | firstTimestamp / lastTimestamp |
 * | deprecatedCount | count |
 *
 * eventTime, series, related, action, reason, reportingInstance and type
 * keep their names. Upstream does not fall back from reportingController to
 * source.component (nor the reverse), so neither does this. Absent fields
 * stay absent (Go's zero values — `null` timestamps, `""` strings — are not
 * invented). Pure: inputs are never changed.
 */
import type { KubeObject } from "../../api/meta.ts";
import { cloneJson } from "../object-access.ts";

export const CORE_EVENT_VERSION = "v1";
export const EVENTS_V1_VERSION = "events.k8s.io/v1";

const SHARED = ["action", "eventTime", "reason", "related", "reportingInstance", "series", "type"];
/** [events.k8s.io/v1 field, core/v1 field]. */
const RENAMED: [string, string][] = [
  ["note", "message"],
  ["regarding", "involvedObject"],
  ["reportingController", "reportingComponent"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
];

function convert(src: KubeObject, apiVersion: string, pairs: [string, string][]): KubeObject {
  const out: KubeObject = { apiVersion, kind: "Event", metadata: cloneJson(src.metadata ?? {}) };
  for (const k of SHARED) if (src[k] !== undefined) out[k] = cloneJson(src[k]);
  for (const [from, to] of pairs) if (src[from] !== undefined) out[to] = cloneJson(src[from]);
  return out;
}

/** A core/v1 Event as events.k8s.io/v1 shows it. */
export function coreEventToEventsV1(src: KubeObject): KubeObject {
  return convert(src, EVENTS_V1_VERSION, RENAMED.map(([e, c]) => [c, e]));
}

/** An events.k8s.io/v1 Event in core/v1 (storage) form. */
export function eventsV1ToCoreEvent(src: KubeObject): KubeObject {
  return convert(src, CORE_EVENT_VERSION, RENAMED);
}

const EVENTS_ONLY_FIELDS = RENAMED.map(([e]) => e);

/**
 * The core/v1 form of an event in either shape: by apiVersion, or, without
 * one, by the presence of an events.k8s.io-only field.
 */
export function asCoreEvent(o: KubeObject): KubeObject {
  if (o.apiVersion === EVENTS_V1_VERSION) return eventsV1ToCoreEvent(o);
  if (o.apiVersion === CORE_EVENT_VERSION) return o;
  return EVENTS_ONLY_FIELDS.some((f) => o[f] !== undefined) ? eventsV1ToCoreEvent(o) : o;
}
