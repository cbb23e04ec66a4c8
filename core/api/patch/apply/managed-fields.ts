/**
 * @module `metadata.managedFields` in memory and on the wire, after
 * k8s.io/apimachinery pkg/util/managedfields/internal: one entry per manager
 * identity (manager + operation + subresource, plus apiVersion for
 * `Update`), decoding and encoding (`fieldsType: FieldsV1`, sorted Apply
 * first, then by time, manager, apiVersion, subresource), the fields no
 * manager ever owns (stripMeta), and the cap of ten `Update` entries beyond
 * which the oldest are folded into `ancient-changes`.
 */
import type { ManagedFieldsEntry } from "../../meta.ts";
import { goFormat, isObject } from "../json-value.ts";
import { FieldSet, fieldPE } from "./fieldpath.ts";

export type Operation = "Apply" | "Update";

/** One manager's ownership. */
export interface ManagerEntry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource: string;
  time: string | undefined;
  set: FieldSet;
}

/** Entries keyed by manager identity (see managerId). */
export type Managers = Map<string, ManagerEntry>;

/** Upstream's DefaultMaxUpdateManagers. */
export const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = "ancient-changes";

/**
 * Fields nobody owns: type and object identity, server-set metadata and
 * `metadata` itself (upstream's stripMetaManager).
 */
export const STRIPPED_FIELDS: FieldSet = FieldSet.of([
  [fieldPE("apiVersion")],
  [fieldPE("kind")],
  [fieldPE("metadata")],
  ...["name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation", "managedFields", "resourceVersion"].map(
    (f) => [fieldPE("metadata"), fieldPE(f)],
  ),
]);

/**
 * The identity of a manager entry: upstream's BuildManagerIdentifier, the
 * JSON of the entry without fields and time (and without apiVersion for Apply).
 */
export function managerId(e: { manager: string; operation: Operation; apiVersion: string; subresource: string }): string {
  const id: Record<string, string> = { manager: e.manager, operation: e.operation };
  if (e.operation === "Update" && e.apiVersion) id.apiVersion = e.apiVersion;
  if (e.subresource) id.subresource = e.subresource;
  return JSON.stringify(id);
}

/** How conflict messages name a manager: `"kubectl"`, `"x" using apps/v1`. */
export function describeManager(e: ManagerEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === "Update") s += ` using ${e.apiVersion}`;
  return s;
}

/** Decodes managedFields; throws Error with upstream's messages on malformed entries. */
export function decodeManagedFields(entries: unknown): Managers {
  const out: Managers = new Map();
  if (entries === undefined || entries === null) return out;
  if (!Array.isArray(entries)) throw new Error("managedFields must be a list");
  entries.forEach((raw: unknown, i) => {
    const e = isObject(raw) ? raw : {};
    const operation = e.operation;
    if (operation !== "Apply" && operation !== "Update") throw new Error("operation must be `Apply` or `Update`");
    const apiVersion = typeof e.apiVersion === "string" ? e.apiVersion : "";
    if (!apiVersion) throw new Error("apiVersion must not be empty");
    const fieldsType = typeof e.fieldsType === "string" ? e.fieldsType : "";
    if (fieldsType === "") throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (fieldsType !== "FieldsV1") throw new Error(`invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}`);
    let set: FieldSet;
    try {
      set = FieldSet.fromFieldsV1(e.fieldsV1);
    } catch (err) {
      throw new Error(`error decoding versioned set from ${goFormat(e)}: error decoding set: ${(err as Error).message}`);
    }
    const entry: ManagerEntry = {
      manager: typeof e.manager === "string" ? e.manager : "",
      operation,
      apiVersion,
      subresource: typeof e.subresource === "string" ? e.subresource : "",
      time: typeof e.time === "string" ? e.time : undefined,
      set,
    };
    out.set(managerId(entry), entry);
  });
  return out;
}

/** Decodes, treating malformed managedFields as absent. */
export function decodeOrEmpty(entries: unknown): Managers {
  try {
    return decodeManagedFields(entries);
  } catch {
    return new Map();
  }
}

function seconds(time: string | undefined): number {
  const ms = time ? Date.parse(time) : Number.NaN;
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Encodes managers in upstream's order; empty sets are dropped. */
export function encodeManagedFields(managers: Managers): ManagedFieldsEntry[] {
  const entries = [...managers.values()].filter((e) => !e.set.isEmpty());
  entries.sort(
    (p, q) =>
      cmpStr(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      cmpStr(p.manager, q.manager) ||
      cmpStr(p.apiVersion, q.apiVersion) ||
      cmpStr(p.subresource, q.subresource),
  );
  return entries.map((e) => {
    const out: ManagedFieldsEntry = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion };
    if (e.time !== undefined) out.time = e.time;
    out.fieldsType = "FieldsV1";
    out.fieldsV1 = e.set.toFieldsV1();
    if (e.subresource) out.subresource = e.subresource;
    return out;
  });
}

/** Removes never-owned fields (and `ignored`, recursively) from every entry; drops empty entries. */
export function stripManagers(managers: Managers, ignored: FieldSet): void {
  for (const [id, e] of managers) {
    e.set = e.set.difference(STRIPPED_FIELDS).recursiveDifference(ignored);
    if (e.set.isEmpty()) managers.delete(id);
  }
}

/**
 * Folds the oldest `Update` entries into one `ancient-changes` entry per
 * apiVersion until at most `max` remain (upstream's capManagersManager).
 */
export function capUpdateManagers(managers: Managers, max = MAX_UPDATE_MANAGERS): void {
  const updaters = [...managers.entries()].filter(([, e]) => e.operation === "Update");
  if (updaters.length <= max) return;
  updaters.sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || cmpStr(ia, ib));
  const firstByVersion = new Map<string, string>();
  let count = updaters.length;
  for (const [id, e] of updaters) {
    if (count <= max) break;
    const bucketId = managerId({ manager: ANCIENT_CHANGES, operation: "Update", apiVersion: e.apiVersion, subresource: "" });
    const first = firstByVersion.get(e.apiVersion);
    if (first === undefined) {
      firstByVersion.set(e.apiVersion, id);
      continue;
    }
    let bucket = managers.get(bucketId);
    if (!bucket) {
      const firstEntry = managers.get(first);
      managers.delete(first);
      bucket = { manager: ANCIENT_CHANGES, operation: "Update", apiVersion: e.apiVersion, subresource: "", time: e.time, set: firstEntry?.set ?? new FieldSet() };
      managers.set(bucketId, bucket);
    }
    bucket.set = bucket.set.union(e.set);
    bucket.time = e.time;
    managers.delete(id);
    count--;
  }
}
