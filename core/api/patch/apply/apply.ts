/**
 * @module Server-side apply and managedFields bookkeeping for ordinary
 * writes, after structured-merge-diff's merge.Updater and
 * k8s.io/apimachinery's fieldmanager:
 *
 * - `serverSideApply` merges an applied configuration into the live object
 *   (creating it when absent), removes fields the manager applied before
 *   but no longer applies and nobody else owns, detects conflicts with
 *   other managers (a field they own whose value this apply changes), and
 *   with `force` takes those fields over.
 * - `updateManagedFields` records a create/update/non-apply patch: the
 *   manager takes the fields it added or changed, and every manager loses
 *   fields that changed hands or were removed.
 *
 * Both are pure; the caller stores `object` / the entries. Differences from
 * upstream: field sets are not converted between API versions (an entry's
 * apiVersion is recorded but paths are taken as-is), the client-side-apply
 * migration (last-applied annotation) is not modelled, and malformed live
 * managedFields are treated as empty instead of failing the request.
 */
import type { Schema } from "../../schema.ts";
import { ApiError, errors } from "../../errors.ts";
import { parseApiVersion, type KubeObject, type ManagedFieldsEntry } from "../../meta.ts";
import { deepEqual, isObject, type JsonObject } from "../json-value.ts";
import { FieldSet, fieldPE, pathToString, type FieldPath } from "./fieldpath.ts";
import {
  STRIPPED_FIELDS,
  capUpdateManagers,
  decodeManagedFields,
  decodeOrEmpty,
  describeManager,
  encodeManagedFields,
  managerId,
  stripManagers,
  type ManagerEntry,
  type Managers,
} from "./managed-fields.ts";
import { createdFieldsV1Text } from "./created.ts";
import { defineLazyFieldsV1 } from "../../fields-v1-text.ts";
import { compareValues, mergeValues, removeItems } from "./merge.ts";
import { SchemaViolation, ensureNamedFieldsAreMembers, fieldSetOf } from "./typed.ts";

/** The manager that owns an untracked object's fields when it is first applied to. */
export const BEFORE_FIRST_APPLY = "before-first-apply";

export interface ServerSideApplyArgs {
  /** The stored object, or undefined to create it. */
  live: KubeObject | undefined;
  /** The applied configuration (the request body). */
  applied: KubeObject;
  /** The kind's schema; undefined = unknown (maps granular, lists atomic). */
  schema: Schema | undefined;
  /** `fieldManager`; required. */
  manager: string;
  force: boolean;
  /** The apiVersion served by the endpoint; the body must use it. */
  apiVersion: string;
  /** RFC 3339 timestamp (seconds) for touched entries. */
  now: string;
  subresource?: string;
  /** Paths excluded from ownership, e.g. `[["status"]]` on the main resource (upstream's reset fields). */
  resetFields?: ReadonlyArray<readonly string[]>;
}

export interface ApplyResult {
  /** The object to store, `metadata.managedFields` included. */
  object: KubeObject;
  managedFields: ManagedFieldsEntry[];
}

/** The 422 kube-apiserver returns for an apply without `fieldManager`. */
export function fieldManagerRequired(): ApiError {
  return errors.invalid({
    kind: "PatchOptions",
    group: "meta.k8s.io",
    name: "",
    causes: [{ reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager" }],
  });
}

/** Applies `applied` as `manager`. Throws 409 on conflicts (unless `force`), 400/422 on bad input. */
export function serverSideApply(args: ServerSideApplyArgs): ApplyResult {
  const { schema, manager, apiVersion } = args;
  if (!manager) throw fieldManagerRequired();
  const applied = args.applied as unknown;
  if (!isObject(applied)) throw errors.badRequest("error decoding YAML: the applied configuration must be an object");
  if (applied.apiVersion !== apiVersion) {
    throw errors.badRequest(
      `Incorrect version specified in apply patch. Specified patch version: ${String(applied.apiVersion ?? "")}, expected: ${apiVersion}`,
    );
  }
  const meta = isObject(applied.metadata) ? applied.metadata : {};
  if (meta.managedFields !== undefined && meta.managedFields !== null) throw errors.badRequest("metadata.managedFields must be nil");

  const ignored = resetFieldSet(args.resetFields);
  let configSet: FieldSet;
  try {
    configSet = fieldSetOf(applied, schema, { strict: true });
  } catch (e) {
    if (e instanceof SchemaViolation) throw errors.badRequest(`failed to create typed patch object (${describeObject(applied)}): ${e.message}`);
    throw e;
  }

  const live = args.live ? withoutManagedFields(args.live) : undefined;
  const subresource = args.subresource ?? "";
  const managers = args.live ? existingManagers(args, subresource) : new Map<string, ManagerEntry>();
  const id = managerId({ manager, operation: "Apply", apiVersion, subresource });
  const previous = managers.get(id);
  const merged = mergeValues(live, withoutManagedFields(args.applied), schema) as JsonObject;

  managers.set(id, {
    manager,
    operation: "Apply",
    apiVersion,
    subresource,
    time: previous?.time,
    set: configSet.difference(STRIPPED_FIELDS).recursiveDifference(ignored),
  });
  const object = prune(merged, managers, previous?.set, schema);

  const diff = compareValues(live ?? {}, object, schema);
  const changed = filtered(diff.added.union(diff.modified), ignored);
  const removed = filtered(diff.removed, ignored);
  const conflicts: Array<{ id: string; entry: ManagerEntry; set: FieldSet }> = [];
  for (const [otherId, entry] of managers) {
    if (otherId === id) continue;
    const clash = entry.set.intersection(changed);
    if (!clash.isEmpty()) conflicts.push({ id: otherId, entry, set: clash });
  }
  if (conflicts.length > 0 && !args.force) throw applyConflict(conflicts);
  for (const [otherId, entry] of managers) {
    if (otherId === id) continue;
    entry.set = entry.set.difference(changed).difference(removed);
  }
  stripManagers(managers, ignored);

  const self = managers.get(id);
  if (self && (self.time === undefined || !deepEqual(live ?? {}, object))) self.time = args.now;
  capUpdateManagers(managers);
  return finish(object, managers);
}

export interface UpdateManagedFieldsArgs {
  /** The stored object; undefined for a create. */
  live: KubeObject | undefined;
  /** The object about to be stored (after the patch/update was applied). */
  updated: KubeObject;
  schema: Schema | undefined;
  manager: string;
  operation: "Update";
  apiVersion: string;
  now: string;
  subresource?: string;
  resetFields?: ReadonlyArray<readonly string[]>;
}

/**
 * The managedFields for an ordinary write. A request may rewrite
 * managedFields itself (a non-empty, valid list replaces the stored one;
 * `[{}]` clears it); subresource writes always start from the stored entries.
 * An existing object (one with a uid) without entries stays untracked, as
 * upstream does; creates are always tracked.
 */
export function updateManagedFields(args: UpdateManagedFieldsArgs): ManagedFieldsEntry[] {
  const { schema, manager, apiVersion } = args;
  const subresource = args.subresource ?? "";
  const ignored = resetFieldSet(args.resetFields);
  const managers = startingManagers(args.live, args.updated, subresource);
  // Upstream leaves an existing object nobody tracks untracked until an apply.
  if (managers.size === 0 && args.live?.metadata?.uid) return [];
  // A plain create: the creator owns every field the object sets (the general path below, in one walk).
  if (!args.live && managers.size === 0) return createdEntry(args, ignored, subresource);

  const diff = compareValues(args.live ? withoutManagedFields(args.live) : {}, withoutManagedFields(args.updated), schema);
  const changed = filtered(diff.added.union(diff.modified), ignored);
  const removed = filtered(diff.removed, ignored);
  for (const entry of managers.values()) entry.set = entry.set.difference(changed).difference(removed);

  const taken = changed.difference(STRIPPED_FIELDS);
  if (!taken.isEmpty()) {
    const id = managerId({ manager, operation: "Update", apiVersion, subresource });
    const previous = managers.get(id);
    managers.set(id, {
      manager,
      operation: "Update",
      apiVersion,
      subresource,
      time: args.now,
      set: previous ? previous.set.union(taken) : taken,
    });
  }
  stripManagers(managers, ignored);
  capUpdateManagers(managers);
  return encodeManagedFields(managers);
}

/** What the general path of updateManagedFields gives a create with no managers to start from. */
function createdEntry(args: UpdateManagedFieldsArgs, ignored: FieldSet, subresource: string): ManagedFieldsEntry[] {
  const text = createdFieldsV1Text(withoutManagedFields(args.updated), args.schema, ignored, STRIPPED_FIELDS);
  if (text === undefined) return [];
  const entry: ManagedFieldsEntry = { manager: args.manager, operation: "Update", apiVersion: args.apiVersion, time: args.now };
  entry.fieldsType = "FieldsV1";
  // Parsed only if read: the store serializes the text (fields-v1-text.ts).
  defineLazyFieldsV1(entry, text);
  if (subresource) entry.subresource = subresource;
  return [entry];
}

/**
 * The live object's managers. An object nobody tracked yet first has all its
 * fields attributed to `before-first-apply` (upstream's skipNonAppliedManager),
 * so the apply can conflict with what is already there.
 */
function existingManagers(args: ServerSideApplyArgs, subresource: string): Managers {
  const live = args.live as KubeObject;
  const managers = decodeOrEmpty(live.metadata?.managedFields);
  if (managers.size > 0) return managers;
  const entries = updateManagedFields({
    live: undefined,
    updated: live,
    schema: args.schema,
    manager: BEFORE_FIRST_APPLY,
    operation: "Update",
    apiVersion: args.apiVersion,
    now: args.now,
    subresource,
    ...(args.resetFields ? { resetFields: args.resetFields } : {}),
  });
  return decodeManagedFields(entries);
}

function startingManagers(live: KubeObject | undefined, updated: KubeObject, subresource: string): Managers {
  const requested: unknown = updated.metadata?.managedFields;
  if (!subresource && Array.isArray(requested) && requested.length > 0) {
    if (requested.length === 1 && isObject(requested[0]) && Object.keys(requested[0]).length === 0) return new Map();
    try {
      const m = decodeManagedFields(requested);
      if (m.size > 0) return m;
    } catch {
      // Fall back to the stored entries, as upstream does for undecodable input.
    }
  }
  return decodeOrEmpty(live?.metadata?.managedFields);
}

/**
 * Removes what the manager applied last time but not now, unless another
 * manager (or its new configuration) owns it (structured-merge-diff
 * Updater.prune with addBackOwnedItems and addBackDanglingItems).
 */
function prune(merged: JsonObject, managers: Managers, last: FieldSet | undefined, schema: Schema | undefined): JsonObject {
  if (!last || last.isEmpty()) return merged;
  const named = (s: FieldSet): FieldSet => ensureNamedFieldsAreMembers(s, schema);
  const setOf = (v: unknown): FieldSet => named(fieldSetOf(v ?? {}, schema, { strict: false }));
  const lastNamed = named(last);
  let owned = new FieldSet();
  for (const e of managers.values()) owned = owned.union(e.set);
  const mergedSet = setOf(merged);
  const firstCut = removeItems(merged, lastNamed, schema);
  const addedBack = removeItems(merged, mergedSet.difference(setOf(firstCut).union(named(owned))), schema);
  // Never remove the object's identity, even if nobody owns anything under metadata any more.
  const toRemove = mergedSet.difference(setOf(addedBack)).intersection(lastNamed).difference(STRIPPED_FIELDS);
  return (removeItems(merged, toRemove, schema) as JsonObject | undefined) ?? {};
}

function applyConflict(conflicts: Array<{ id: string; entry: ManagerEntry; set: FieldSet }>): ApiError {
  conflicts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const flat: Array<{ entry: ManagerEntry; path: FieldPath }> = conflicts.flatMap(({ entry, set }) => set.paths().map((path) => ({ entry, path })));
  const causes = flat.map(({ entry, path }) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${describeManager(entry)}`,
    field: pathToString(path),
  }));
  let message: string;
  const [only] = flat;
  if (flat.length === 1 && only) {
    message = `Apply failed with 1 conflict: conflict with ${describeManager(only.entry)}: ${pathToString(only.path)}`;
  } else {
    const lines = conflicts.flatMap(({ entry, set }) => [`conflicts with ${describeManager(entry)}:`, ...set.paths().map((p) => `- ${pathToString(p)}`)]);
    message = `Apply failed with ${flat.length} conflicts: ${lines.join("\n")}`;
  }
  return new ApiError({ reason: "Conflict", message, details: { causes } });
}

function finish(object: JsonObject, managers: Managers): ApplyResult {
  const managedFields = encodeManagedFields(managers);
  const metadata = isObject(object.metadata) ? { ...object.metadata } : {};
  if (managedFields.length > 0) metadata.managedFields = managedFields;
  else delete metadata.managedFields;
  return { object: { ...object, metadata } as KubeObject, managedFields };
}

/**
 * `obj` without `metadata.managedFields`: a shallow copy down to metadata,
 * sharing everything else with `obj` (the walks here never modify their inputs).
 */
function withoutManagedFields(obj: KubeObject): JsonObject {
  const o = obj as unknown as JsonObject;
  if (!isObject(o.metadata) || !Object.hasOwn(o.metadata, "managedFields")) return o;
  const { managedFields: _, ...metadata } = o.metadata;
  return { ...o, metadata };
}

function resetFieldSet(paths: ReadonlyArray<readonly string[]> | undefined): FieldSet {
  return FieldSet.of((paths ?? []).map((p) => p.map((f) => fieldPE(f))));
}

function filtered(set: FieldSet, ignored: FieldSet): FieldSet {
  return set.recursiveDifference(ignored);
}

/** `apps/v1, Kind=Deployment default/web`, as upstream's objectGVKNN prints an object. */
function describeObject(obj: JsonObject): string {
  const { group, version } = parseApiVersion(String(obj.apiVersion ?? ""));
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  return `${group}/${version}, Kind=${String(obj.kind ?? "")} ${String(meta.namespace ?? "")}/${String(meta.name ?? "")}`;
}
