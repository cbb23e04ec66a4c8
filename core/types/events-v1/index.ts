/**
 * @module events.k8s.io/v1 Event: schema, the strict validation upstream
 * applies to events created through this API (on top of the legacy rules),
 * update immutability, and the same columns and selectable fields as core/v1
 * Event (upstream prints and selects on the internal type). Stored as core/v1
 * under the shared key `events` (see conversions.ts).
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { fieldInvalid, fieldRequired } from "../field-errors.ts";
import { asNum, asObj, isNil, jsonEqual, strAt } from "../object-access.ts";
import { int32, kindSchema, microTime, obj, ref, str, time } from "../schema-dsl.ts";
import { EVENT_SOURCE, eventType, legacyValidateEvent } from "../core-v1/event.ts";
import { OBJECT_REFERENCE } from "../core-v1/pod.ts";
import { asCoreEvent } from "./event-conversion.ts";

const EVENTS = "io.k8s.api.events.v1";

export const EVENTS_V1_EVENT_SCHEMA = kindSchema(`${EVENTS}.Event`, { group: "events.k8s.io", version: "v1", kind: "Event" }, ref(OBJECT_META), {
  action: str(),
  deprecatedCount: int32(),
  deprecatedFirstTimestamp: time(),
  deprecatedLastTimestamp: time(),
  deprecatedSource: ref(EVENT_SOURCE),
  eventTime: microTime(),
  note: str(),
  reason: str(),
  regarding: ref(OBJECT_REFERENCE),
  related: ref(OBJECT_REFERENCE),
  reportingController: str(),
  reportingInstance: str(),
  series: obj(`${EVENTS}.EventSeries`, { count: int32(), lastObservedTime: microTime() }, { required: ["count", "lastObservedTime"] }),
  type: str(),
});
EVENTS_V1_EVENT_SCHEMA.required = ["eventTime"];

function unset(v: unknown): boolean {
  return isNil(v) || v === "";
}

function validateSeries(core: KubeObject): StatusCause[] {
  const series = asObj(core.series);
  if (!series) return [];
  const causes: StatusCause[] = [];
  if ((asNum(series.count) ?? 0) < 2) causes.push(fieldInvalid("series.count", "", "should be at least 2"));
  if (unset(series.lastObservedTime)) causes.push(fieldRequired("series.lastObservedTime"));
  return causes;
}

/** [core/v1 field, path in messages]: what an events.k8s.io/v1 update may not change (only metadata and series may). */
const IMMUTABLE_ON_UPDATE: [string, string][] = [
  ["involvedObject", "involvedObject"],
  ["reason", "reason"],
  ["message", "message"],
  ["source", "source"],
  ["firstTimestamp", "firstTimestamp"],
  ["lastTimestamp", "lastTimestamp"],
  ["count", "count"],
  ["type", "type"],
  ["eventTime", "eventTime"],
  ["action", "action"],
  ["related", "related"],
  ["reportingComponent", "reportingController"],
  ["reportingInstance", "reportingInstance"],
];

/** ValidateEventCreate / ValidateEventUpdate for events.k8s.io/v1 requests (paths as upstream names them). */
export function validateEventsV1Event(o: KubeObject, old?: KubeObject): StatusCause[] {
  const e = asCoreEvent(o);
  const causes = [...legacyValidateEvent(e, "reportingController"), ...validateSeries(e)];
  if (!old) {
    if (unset(e.eventTime)) causes.push(fieldRequired("eventTime"));
    const type = strAt(e, "type");
    if (type !== "Normal" && type !== "Warning") causes.push(fieldInvalid("type", "", `has invalid value: ${type}`));
    if (!unset(e.firstTimestamp)) causes.push(fieldInvalid("deprecatedFirstTimestamp", "", "needs to be unset"));
    if (!unset(e.lastTimestamp)) causes.push(fieldInvalid("deprecatedLastTimestamp", "", "needs to be unset"));
    if ((asNum(e.count) ?? 0) !== 0) causes.push(fieldInvalid("deprecatedCount", "", "needs to be unset"));
    if (strAt(e, "source", "component") !== "" || strAt(e, "source", "host") !== "") {
      causes.push(fieldInvalid("deprecatedSource", "", "needs to be unset"));
    }
    return causes;
  }
  const before = asCoreEvent(old);
  for (const [f, path] of IMMUTABLE_ON_UPDATE) {
    if (!jsonEqual(e[f] ?? null, before[f] ?? null)) causes.push(fieldInvalid(path, e[f] ?? null, "field is immutable"));
  }
  return causes;
}

export const eventsV1EventType: ResourceTypeInit = {
  group: "events.k8s.io",
  version: "v1",
  kind: "Event",
  plural: "events",
  singular: "event",
  shortNames: ["ev"],
  namespaced: true,
  tracksGeneration: false,
  schema: EVENTS_V1_EVENT_SCHEMA,
  selectableFields: Object.fromEntries(Object.entries(eventType.selectableFields ?? {}).map(([f, get]) => [f, (o: KubeObject) => get(asCoreEvent(o))])),
  columns: (eventType.columns ?? []).map((c) => ({ ...c, cell: (o: KubeObject, now: number) => c.cell(asCoreEvent(o), now) })),
  strategy: { validate: validateEventsV1Event },
};

/** Every events.k8s.io/v1 kind. */
export function eventsV1Types(): ResourceTypeInit[] {
  return [eventsV1EventType];
}

export { asCoreEvent, coreEventToEventsV1, eventsV1ToCoreEvent } from "./event-conversion.ts";
