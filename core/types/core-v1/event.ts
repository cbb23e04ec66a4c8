/**
 * @module The core/v1 Event kind: schema, upstream's legacy validation
 * (namespace agreement, required fields of new-style events), selectable
 * fields used by `kubectl describe` and `kubectl events`, and the
 * LAST SEEN / TYPE / REASON / OBJECT / MESSAGE columns.
 */
import type { StatusCause } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { ResourceTypeInit } from "../../api/registry.ts";
import { isQualifiedName } from "../../api/validation.ts";
import { OBJECT_META } from "../meta-schemas.ts";
import { fieldInvalid, fieldRequired } from "../field-errors.ts";
import { asNum, asObj, getPath, isNil, strAt } from "../object-access.ts";
import { int32, kindSchema, microTime, obj, ref, str, time } from "../schema-dsl.ts";
import { timeSince } from "../duration.ts";
import { column } from "../table.ts";
import { NAME_DESCRIPTION } from "../meta-schemas.ts";
import { CORE } from "./container-schema.ts";
import { OBJECT_REFERENCE } from "./pod.ts";

export const EVENT_SOURCE = obj(`${CORE}.EventSource`, { component: str(), host: str() });

export const EVENT_SCHEMA = kindSchema(`${CORE}.Event`, { group: "", version: "v1", kind: "Event" }, ref(OBJECT_META), {
  action: str(),
  count: int32(),
  eventTime: microTime(),
  firstTimestamp: time(),
  involvedObject: ref(OBJECT_REFERENCE),
  lastTimestamp: time(),
  message: str(),
  reason: str(),
  related: ref(OBJECT_REFERENCE),
  reportingComponent: str(),
  reportingInstance: str(),
  series: obj(`${CORE}.EventSeries`, { count: int32(), lastObservedTime: microTime() }),
  source: EVENT_SOURCE,
  type: str(),
});
EVENT_SCHEMA.required = ["metadata", "involvedObject"];

function tooLong(field: string, v: string, max: number): StatusCause[] {
  return v.length > max ? [fieldInvalid(field, "", `can have at most ${max} characters`)] : [];
}

/**
 * legacyValidateEvent on a core/v1-shaped event. `reportingField` names the
 * reporting controller in messages: `reportingComponent` for core/v1
 * requests, `reportingController` for events.k8s.io ones (other paths keep
 * core/v1 names for both, as upstream's do).
 */
export function legacyValidateEvent(o: KubeObject, reportingField: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const ns = o.metadata.namespace ?? "";
  const involvedNs = strAt(o, "involvedObject", "namespace");
  const mismatch = () => fieldInvalid("involvedObject.namespace", involvedNs, "does not match event.namespace");
  if (isNil(o.eventTime) || o.eventTime === "") {
    if (involvedNs === "") {
      if (ns !== "" && ns !== "default") causes.push(mismatch());
    } else if (ns !== involvedNs) causes.push(mismatch());
  } else {
    if (involvedNs === "" && ns !== "default" && ns !== "kube-system") causes.push(mismatch());
    const controller = strAt(o, "reportingComponent");
    if (controller === "") causes.push(fieldRequired(reportingField));
    else for (const m of isQualifiedName(controller)) causes.push(fieldInvalid(reportingField, controller, m));
    const instance = strAt(o, "reportingInstance");
    if (instance === "") causes.push(fieldRequired("reportingInstance"));
    causes.push(...tooLong("reportingInstance", instance, 128));
    const action = strAt(o, "action");
    if (action === "") causes.push(fieldRequired("action"));
    causes.push(...tooLong("action", action, 128));
    const reason = strAt(o, "reason");
    if (reason === "") causes.push(fieldRequired("reason"));
    causes.push(...tooLong("reason", reason, 128));
    causes.push(...tooLong("message", strAt(o, "message"), 1024));
  }
  return causes;
}

/** Validation of core/v1 Event requests. */
export function validateEvent(o: KubeObject): StatusCause[] {
  return legacyValidateEvent(o, "reportingComponent");
}

function firstSeen(o: KubeObject, now: number): string {
  const first = o.firstTimestamp;
  return isNil(first) || first === "" ? timeSince(o.eventTime, now) : timeSince(first, now);
}

function lastSeen(o: KubeObject, now: number): string {
  if (asObj(o.series)) return timeSince(getPath(o, "series", "lastObservedTime"), now);
  const last = o.lastTimestamp;
  return isNil(last) || last === "" ? firstSeen(o, now) : timeSince(last, now);
}

function eventCount(o: KubeObject): number {
  const series = asObj(o.series);
  if (series) return asNum(series.count) ?? 0;
  const c = asNum(o.count) ?? 0;
  return c === 0 ? 1 : c;
}

function target(o: KubeObject): string {
  const kind = strAt(o, "involvedObject", "kind").toLowerCase();
  const name = strAt(o, "involvedObject", "name");
  return name !== "" ? `${kind}/${name}` : kind;
}

function source(o: KubeObject): string {
  const component = strAt(o, "source", "component") || strAt(o, "reportingComponent");
  const host = strAt(o, "source", "host") || strAt(o, "reportingInstance");
  return host === "" ? component : `${component}, ${host}`;
}

export const eventType: ResourceTypeInit = {
  group: "",
  version: "v1",
  kind: "Event",
  plural: "events",
  singular: "event",
  shortNames: ["ev"],
  namespaced: true,
  tracksGeneration: false,
  schema: EVENT_SCHEMA,
  selectableFields: {
    "involvedObject.kind": (o) => strAt(o, "involvedObject", "kind"),
    "involvedObject.namespace": (o) => strAt(o, "involvedObject", "namespace"),
    "involvedObject.name": (o) => strAt(o, "involvedObject", "name"),
    "involvedObject.uid": (o) => strAt(o, "involvedObject", "uid"),
    "involvedObject.apiVersion": (o) => strAt(o, "involvedObject", "apiVersion"),
    "involvedObject.resourceVersion": (o) => strAt(o, "involvedObject", "resourceVersion"),
    "involvedObject.fieldPath": (o) => strAt(o, "involvedObject", "fieldPath"),
    reason: (o) => strAt(o, "reason"),
    reportingComponent: (o) => strAt(o, "reportingComponent"),
    source: (o) => strAt(o, "source", "component") || strAt(o, "reportingComponent"),
    type: (o) => strAt(o, "type"),
  },
  columns: [
    column("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded.", lastSeen),
    column("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future", (o) => strAt(o, "type")),
    column("Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.", (o) => strAt(o, "reason")),
    column("Object", "string", "The object that this event is about.", target),
    column("Subobject", "string", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.", (o) => strAt(o, "involvedObject", "fieldPath"), 1),
    column("Source", "string", "The component reporting this event. Should be a short machine understandable string.", source, 1),
    column("Message", "string", "A human-readable description of the status of this operation.", (o) => strAt(o, "message").trim()),
    column("First Seen", "string", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", firstSeen, 1),
    column("Count", "string", "The number of times this event has occurred.", eventCount, 1),
    { name: "Name", type: "string", format: "name", description: NAME_DESCRIPTION, priority: 1, cell: (o) => o.metadata.name ?? "" },
  ],
  strategy: { validate: validateEvent },
};
