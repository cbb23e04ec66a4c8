/**
 * @module What the store does to an object on its way in: validation of
 * metadata, the system fields it owns (uid, creationTimestamp, generation,
 * resourceVersion), immutability on update, and the size limit. Pure
 * functions; the writer calls them inside its transaction.
 */
import { errors } from "../api/errors.ts";
import type { KubeObject, ObjectMeta } from "../api/meta.ts";
import { type ResourceType, selectableFieldValues } from "../api/registry.ts";
import { deepEqual } from "../api/json.ts";
import { nowRfc3339 } from "../api/time.ts";
import { MAX_OBJECT_BYTES, validateObjectMeta } from "../api/validation.ts";
import { stringifyObject } from "./object-json.ts";

/** What lists and watches filter on, stored beside each version. */
export interface Sel {
  l?: Record<string, string>;
  f: Record<string, string>;
}

export function selOf(type: ResourceType, o: KubeObject): Sel {
  const l = o.metadata.labels;
  return l && Object.keys(l).length > 0 ? { l, f: selectableFieldValues(type, o) } : { f: selectableFieldValues(type, o) };
}

const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";
const MAX_GENERATED_BASE = 63 - 5;

/** Kubernetes' generateName: the base (cut to 58) plus five random characters. */
export function generateName(base: string): string {
  let out = base.length > MAX_GENERATED_BASE ? base.slice(0, MAX_GENERATED_BASE) : base;
  const bytes = crypto.getRandomValues(new Uint8Array(5));
  for (const b of bytes) out += NAME_CHARS[b % NAME_CHARS.length];
  return out;
}

function assertObject(type: ResourceType, obj: unknown): asserts obj is KubeObject {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    throw errors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: expected an object`);
  }
  const m = (obj as { metadata?: unknown }).metadata;
  if (m === null || typeof m !== "object" || Array.isArray(m)) {
    throw errors.invalid({
      kind: type.kind,
      group: type.group,
      name: "",
      causes: [{ reason: "FieldValueRequired", message: "Required value: name or generateName is required", field: "metadata.name" }],
    });
  }
}

/**
 * Empty labels, annotations, finalizers and ownerReferences are dropped, as
 * Kubernetes' `omitempty` serialization does (a patch that deletes the last
 * ownerReference leaves no `ownerReferences: []` behind).
 */
function dropEmptyMeta(m: ObjectMeta): void {
  for (const k of ["labels", "annotations"] as const) {
    const v = m[k];
    if (v !== undefined && v !== null && typeof v === "object" && Object.keys(v).length === 0) delete m[k];
  }
  for (const k of ["finalizers", "ownerReferences", "managedFields"] as const) {
    const v = m[k];
    if (Array.isArray(v) && v.length === 0) delete m[k];
  }
}

function checkMeta(type: ResourceType, meta: ObjectMeta, requireName: boolean): void {
  const causes = validateObjectMeta(meta, { namespaced: type.namespaced, nameValidation: type.nameValidation, requireName });
  if (type.namespaced && !meta.namespace) {
    causes.push({ reason: "FieldValueRequired", message: "Required value", field: "metadata.namespace" });
  }
  if (causes.length > 0) {
    throw errors.invalid({ kind: type.kind, group: type.group, name: String(meta.name ?? meta.generateName ?? ""), causes });
  }
}

export interface CreateDraft {
  namespace: string;
  /** Empty when the name is to be generated. */
  name: string;
  generateName(): string;
  /** The object as it will be stored; `revision` undefined for a dry run. */
  build(name: string, revision: number | undefined): KubeObject;
}

/** Validates a new object and returns a builder for what will be stored. Throws ApiError. */
export function prepareCreate(type: ResourceType, obj: unknown, opts: { keepUid: boolean } = { keepUid: false }): CreateDraft {
  assertObject(type, obj);
  const meta = obj.metadata;
  checkMeta(type, meta, false);
  if (meta.resourceVersion !== undefined && meta.resourceVersion !== "") {
    throw errors.badRequest("resourceVersion should not be set on objects to be created");
  }
  const namespace = type.namespaced ? String(meta.namespace) : "";
  return {
    namespace,
    name: meta.name ?? "",
    generateName: () => generateName(String(meta.generateName ?? "")),
    build(name, revision) {
      const m: ObjectMeta = { ...meta, name };
      if (type.namespaced) m.namespace = namespace;
      else delete m.namespace;
      if (!opts.keepUid || typeof meta.uid !== "string" || meta.uid === "") m.uid = crypto.randomUUID();
      if (revision !== undefined) m.resourceVersion = String(revision);
      else delete m.resourceVersion;
      if (type.tracksGeneration) m.generation = 1;
      else delete m.generation;
      m.creationTimestamp = nowRfc3339();
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
      dropEmptyMeta(m);
      return { ...obj, metadata: m };
    },
  };
}

/**
 * Merges a proposed new version with the live one: identity and system fields
 * come from the live object, resourceVersion is checked (when asked), and
 * generation moves only when `spec` changed. Throws ApiError.
 */
export function prepareUpdate(
  type: ResourceType,
  cur: KubeObject,
  proposed: unknown,
  opts: { checkVersion: boolean; liveRevision: number; keepGeneration?: boolean },
): KubeObject {
  assertObject(type, proposed);
  const meta = proposed.metadata;
  const q = { resource: type.plural, group: type.group, name: cur.metadata.name ?? "" };
  if (meta.name !== cur.metadata.name || (type.namespaced && meta.namespace !== cur.metadata.namespace)) {
    throw errors.invalid({
      kind: type.kind,
      group: type.group,
      name: cur.metadata.name ?? "",
      causes: [{ reason: "FieldValueInvalid", message: "Invalid value: field is immutable", field: "metadata.name" }],
    });
  }
  checkMeta(type, meta, true);
  const rv = meta.resourceVersion;
  if (opts.checkVersion && rv !== undefined && rv !== "" && rv !== String(opts.liveRevision)) throw errors.conflict(q);
  if (meta.uid !== undefined && meta.uid !== "" && meta.uid !== cur.metadata.uid) {
    throw errors.conflict(q, `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${cur.metadata.uid ?? ""}`);
  }
  const m: ObjectMeta = { ...meta };
  dropEmptyMeta(m);
  m.uid = cur.metadata.uid!;
  m.creationTimestamp = cur.metadata.creationTimestamp!;
  m.resourceVersion = String(opts.liveRevision);
  if (!type.namespaced) delete m.namespace;
  for (const k of ["deletionTimestamp", "deletionGracePeriodSeconds"] as const) {
    if (cur.metadata[k] !== undefined) (m as Record<string, unknown>)[k] = cur.metadata[k];
    else delete m[k];
  }
  if (type.tracksGeneration) {
    const g = cur.metadata.generation ?? 1;
    const changed =
      !opts.keepGeneration &&
      (type.strategy.generationChanged ? type.strategy.generationChanged(proposed, cur) : !deepEqual(cur.spec, proposed.spec));
    m.generation = changed ? g + 1 : g;
  } else delete m.generation;
  return { ...proposed, metadata: m };
}

/**
 * Graceful deletion of `cur` (a private copy, changed in place): returns the
 * marked object, or undefined when nothing holds it and it should go at once.
 */
export function markDeleted(
  type: ResourceType,
  cur: KubeObject,
  g: { gracePeriodSeconds: number; finalizers?: string[]; hold?: boolean },
): KubeObject | undefined {
  const m = cur.metadata;
  const finalizers = [...(m.finalizers ?? [])];
  for (const f of g.finalizers ?? []) if (!finalizers.includes(f)) finalizers.push(f);
  if (finalizers.length === 0 && g.gracePeriodSeconds <= 0 && !g.hold) return undefined;
  const grace = Math.max(0, Math.min(g.gracePeriodSeconds, m.deletionGracePeriodSeconds ?? Infinity));
  if (m.deletionTimestamp === undefined) {
    m.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    if (type.tracksGeneration) m.generation = (m.generation ?? 1) + 1;
  }
  m.deletionGracePeriodSeconds = grace;
  if (finalizers.length > 0) m.finalizers = finalizers;
  return cur;
}

/** The object's JSON; TooLarge when over the stored-object limit. */
export function finalizeObject(type: ResourceType, o: KubeObject): string {
  const raw = stringifyObject(o);
  if (raw.length * 3 > MAX_OBJECT_BYTES) {
    const bytes = Buffer.byteLength(raw, "utf8");
    if (bytes > MAX_OBJECT_BYTES) {
      throw errors.tooLarge(
        `${type.kind} "${o.metadata.name ?? ""}" is too large: ${bytes} bytes, at most ${MAX_OBJECT_BYTES} bytes can be stored`,
      );
    }
  }
  return raw;
}
