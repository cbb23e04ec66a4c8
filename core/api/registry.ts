/**
 * @module The type registry: every kind the kernel serves (built-in or CRD) is
 * declared here once, with its names, scope and selectable fields. Handlers,
 * discovery and the store are generic and read these declarations.
 * Registration is explicit (no import side effects) and refuses duplicates.
 */
import type { StatusCause } from "./errors.ts";
import type { KubeObject } from "./meta.ts";
import type { Schema } from "./schema.ts";

/** Reads one selectable field's value from an object; undefined when absent. */
export type FieldGetter = (obj: KubeObject) => string | undefined;

/** One column of `kubectl get` output (a metav1 TableColumnDefinition plus how to fill it). */
export interface TableColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  /** `name` for the Name column, `date` for timestamps; otherwise "". */
  format?: string;
  description?: string;
  /** 0 = always shown; 1 = only with `-o wide`. */
  priority?: number;
  /** The cell for one object; null or undefined renders as `<none>`. `now` is ms since epoch. */
  cell(obj: KubeObject, now: number): string | number | boolean | null | undefined;
}

/** Where a kind keeps its replica counts, for the `scale` subresource (autoscaling/v1 Scale). */
export interface ScaleSubresource {
  /** Dotted path, e.g. `.spec.replicas`. */
  specReplicasPath: string;
  statusReplicasPath: string;
  /** Where the label selector is, as a metav1.LabelSelector or a string. */
  labelSelectorPath?: string;
}

export interface Subresources {
  /** `/status`: main-resource writes keep the old status; status writes change only status. */
  status?: boolean;
  scale?: ScaleSubresource;
}

/** Per-kind behaviour on the write path (kube-apiserver's "strategy"). All optional. */
export interface TypeStrategy {
  /** Fills defaults in place. Runs on create and update, before validation. Must be idempotent. */
  defaults?(obj: KubeObject): void;
  /** Kind-specific validation (metadata is validated by the store). `old` is set on update. */
  validate?(obj: KubeObject, old?: KubeObject): StatusCause[];
  /** Before create, e.g. clear status. */
  prepareForCreate?(obj: KubeObject): void;
  /** Before an update of the main resource. */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  /**
   * Before a write to the `status` subresource: `obj` is the live object with
   * the request's status (metadata is the live one); `proposed` is the
   * request. Kinds whose upstream status strategy lets status writes change
   * some metadata copy it here. Default: nothing but status changes.
   */
  prepareForStatusUpdate?(obj: KubeObject, proposed: KubeObject): void;
  /**
   * Whether an update moves `metadata.generation` (for kinds that track it).
   * Default: `spec` changed. Called by the store inside the write; must be pure.
   */
  generationChanged?(obj: KubeObject, old: KubeObject): boolean;
}

export interface ResourceTypeInit {
  group: string;
  version: string;
  kind: string;
  /** Lower-case plural, the URL segment: `deployments`. */
  plural: string;
  /** Lower-case singular: `deployment`. Defaults to kind lower-cased. */
  singular?: string;
  shortNames?: string[];
  namespaced: boolean;
  categories?: string[];
  /**
   * Field-selector fields beyond `metadata.name` and `metadata.namespace`
   * (which every type has), e.g. `spec.nodeName` for pods.
   */
  selectableFields?: Record<string, FieldGetter>;
  /** Whether `metadata.generation` is kept (starts at 1, bumped when `spec` changes). Default true. */
  tracksGeneration?: boolean;
  /** How `metadata.name` is validated. Default `subdomain` (DNS-1123 subdomain). */
  nameValidation?: "subdomain" | "label" | "path";
  /** The kind's structural schema (OpenAPI, strict field validation, patch merge keys). */
  schema?: Schema;
  /** `kubectl get` columns, in order, including Name first and usually Age last. */
  columns?: TableColumn[];
  subresources?: Subresources;
  strategy?: TypeStrategy;
  /** Default `<Kind>List`. */
  listKind?: string;
  /**
   * Storage shared with another group's kind (events.k8s.io Event is stored
   * with core Event under `events`). Default `<plural>.<group>` (or `<plural>`).
   */
  storageKey?: string;
}

/** A registered type with defaults filled in. */
export interface ResourceType
  extends Required<Omit<ResourceTypeInit, "selectableFields" | "schema" | "columns" | "subresources" | "strategy" | "storageKey">> {
  selectableFields: Record<string, FieldGetter>;
  schema: Schema | undefined;
  columns: TableColumn[];
  subresources: Subresources;
  strategy: TypeStrategy;
  /** The storage key shared by all versions of a group-resource: `pods`, `deployments.apps`. */
  key: string;
}

const BASE_FIELDS: Record<string, FieldGetter> = {
  "metadata.name": (o) => o.metadata?.name,
  "metadata.namespace": (o) => o.metadata?.namespace ?? "",
};

/** Builds a ResourceType from its declaration, filling defaults. Pure. */
export function defineType(init: ResourceTypeInit): ResourceType {
  return {
    group: init.group,
    version: init.version,
    kind: init.kind,
    plural: init.plural,
    singular: init.singular ?? init.kind.toLowerCase(),
    shortNames: init.shortNames ?? [],
    namespaced: init.namespaced,
    categories: init.categories ?? [],
    selectableFields: { ...BASE_FIELDS, ...(init.selectableFields ?? {}) },
    tracksGeneration: init.tracksGeneration ?? true,
    nameValidation: init.nameValidation ?? "subdomain",
    schema: init.schema,
    columns: init.columns ?? [],
    subresources: init.subresources ?? {},
    strategy: init.strategy ?? {},
    listKind: init.listKind ?? `${init.kind}List`,
    key: init.storageKey ?? (init.group ? `${init.plural}.${init.group}` : init.plural),
  };
}

/** Values of every selectable field of `type` for `obj` (absent fields are omitted). */
export function selectableFieldValues(type: ResourceType, obj: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  const fields = type.selectableFields;
  for (const field of Object.keys(fields)) {
    const v = (fields[field] as FieldGetter)(obj);
    if (v !== undefined) out[field] = v;
  }
  return out;
}

export class DuplicateTypeError extends Error {
  constructor(what: string) {
    super(`type already registered: ${what}`);
    this.name = "DuplicateTypeError";
  }
}

/** The set of served types. */
export class TypeRegistry {
  readonly #byGVR = new Map<string, ResourceType>();
  readonly #byGVK = new Map<string, ResourceType>();
  readonly #listeners = new Set<() => void>();

  /** Adds a type; a second type with the same group/version/plural or group/version/kind is refused. */
  register(init: ResourceTypeInit | ResourceType): ResourceType {
    const t = "key" in init ? init : defineType(init);
    const gvr = `${t.group}/${t.version}/${t.plural}`;
    const gvk = `${t.group}/${t.version}/${t.kind}`;
    if (this.#byGVR.has(gvr)) throw new DuplicateTypeError(gvr);
    if (this.#byGVK.has(gvk)) throw new DuplicateTypeError(gvk);
    this.#byGVR.set(gvr, t);
    this.#byGVK.set(gvk, t);
    for (const l of this.#listeners) l();
    return t;
  }

  /** Removes a type (used when a CRD is deleted). Returns whether it was there. */
  unregister(group: string, version: string, plural: string): boolean {
    const t = this.#byGVR.get(`${group}/${version}/${plural}`);
    if (!t) return false;
    this.#byGVR.delete(`${group}/${version}/${plural}`);
    this.#byGVK.delete(`${group}/${version}/${t.kind}`);
    for (const l of this.#listeners) l();
    return true;
  }

  get(group: string, version: string, plural: string): ResourceType | undefined {
    return this.#byGVR.get(`${group}/${version}/${plural}`);
  }

  byKind(group: string, version: string, kind: string): ResourceType | undefined {
    return this.#byGVK.get(`${group}/${version}/${kind}`);
  }

  /** Every registered type, in registration order. */
  all(): ResourceType[] {
    return [...this.#byGVR.values()];
  }

  /** Finds types by plural, singular, short name or kind (case-insensitive), like kubectl does. */
  resolve(name: string): ResourceType[] {
    const n = name.toLowerCase();
    return this.all().filter(
      (t) => t.plural === n || t.singular === n || t.kind.toLowerCase() === n || t.shortNames.includes(n),
    );
  }

  /** Called after every change (discovery caches listen). Returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
