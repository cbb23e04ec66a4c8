/**
 * @module CustomResourceDefinitions: the apiextensions.k8s.io/v1 kind, and the
 * controller that turns each CRD into served types with no restart — names,
 * scope, schema (validated with ajv, pruned structurally, defaults applied),
 * status/scale subresources and printer columns — marks it Established, and
 * removes the types and their objects when the CRD goes.
 */
import type AjvClass from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import { Ajv } from "../lazy.ts";
import { isApiError, type StatusCause } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import { defineType, type ResourceType, type TableColumn, type TypeRegistry } from "../api/registry.ts";
import type { Schema } from "../api/schema.ts";
import { isDNS1123Subdomain } from "../api/validation.ts";
import type { Store } from "../store/types.ts";
import { Follower } from "./follow.ts";

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: Schema };
  subresources?: { status?: object; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: { name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }[];
}

interface CrdSpec {
  group: string;
  scope: "Namespaced" | "Cluster";
  names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

const CRD_COLUMNS: TableColumn[] = [
  { name: "Name", type: "string", format: "name", priority: 0, cell: (o) => o.metadata.name },
  { name: "Created At", type: "date", priority: 0, cell: (o) => o.metadata.creationTimestamp },
];

function cause(field: string, message: string, reason = "FieldValueInvalid"): StatusCause {
  return { reason, field, message };
}

/** Checks a CRD's spec enough that a bad one cannot register a broken type. */
function validateCrd(obj: KubeObject): StatusCause[] {
  const spec = obj.spec as Partial<CrdSpec> | undefined;
  const causes: StatusCause[] = [];
  if (!spec || typeof spec !== "object") return [cause("spec", "Required value", "FieldValueRequired")];
  if (!spec.group) causes.push(cause("spec.group", "Required value", "FieldValueRequired"));
  else if (isDNS1123Subdomain(spec.group).length > 0 || !spec.group.includes(".")) {
    causes.push(cause("spec.group", `Invalid value: ${JSON.stringify(spec.group)}: should be a domain with at least one dot`));
  }
  if (spec.scope !== "Namespaced" && spec.scope !== "Cluster") {
    causes.push(cause("spec.scope", `Unsupported value: ${JSON.stringify(spec.scope ?? "")}: supported values: "Cluster", "Namespaced"`, "FieldValueNotSupported"));
  }
  const n = spec.names;
  if (!n?.plural) causes.push(cause("spec.names.plural", "Required value", "FieldValueRequired"));
  if (!n?.kind) causes.push(cause("spec.names.kind", "Required value", "FieldValueRequired"));
  if (n?.plural && spec.group && obj.metadata.name !== `${n.plural}.${spec.group}`) {
    causes.push(cause("metadata.name", `Invalid value: ${JSON.stringify(obj.metadata.name)}: must be spec.names.plural+"."+spec.group`));
  }
  if (!Array.isArray(spec.versions) || spec.versions.length === 0) {
    causes.push(cause("spec.versions", "Invalid value: must have at least one version"));
  } else if (spec.versions.filter((v) => v.storage).length !== 1) {
    causes.push(cause("spec.versions", "Invalid value: must have exactly one version marked as storage version"));
  }
  return causes;
}

export function crdResourceType(): ResourceType {
  return defineType({
    group: "apiextensions.k8s.io",
    version: "v1",
    kind: "CustomResourceDefinition",
    plural: "customresourcedefinitions",
    singular: "customresourcedefinition",
    shortNames: ["crd", "crds"],
    namespaced: false,
    subresources: { status: true },
    columns: CRD_COLUMNS,
    strategy: { validate: (o) => validateCrd(o) },
  });
}

/** A tiny JSONPath for printer columns: `.spec.size`, `.status.conditions[0].type`. */
function jsonPathGet(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const part of path.replace(/^\{?\.?/, "").replace(/\}$/, "").split(".")) {
    if (!part) continue;
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    if (m[1]) cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[m[1]] : undefined;
    for (const idx of m[2]!.match(/\d+/g) ?? []) cur = Array.isArray(cur) ? cur[Number(idx)] : undefined;
  }
  return cur;
}

function ajvMessage(e: ErrorObject): string {
  const field = e.instancePath.replace(/^\//, "").replace(/\//g, ".");
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "minimum":
      return `${field} in body should be greater than or equal to ${String(p.limit)}`;
    case "maximum":
      return `${field} in body should be less than or equal to ${String(p.limit)}`;
    case "type":
      return `${field} in body must be of type ${String(p.type)}`;
    case "enum":
      return `Unsupported value: supported values: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "pattern":
      return `${field} in body should match '${String(p.pattern)}'`;
    case "maxLength":
      return `${field} in body should be at most ${String(p.limit)} chars long`;
    case "minLength":
      return `${field} in body should be at least ${String(p.limit)} chars long`;
    default:
      return `${field} in body ${e.message ?? "is invalid"}`;
  }
}

function applyDefaults(s: Schema, v: unknown): void {
  if (v === null || typeof v !== "object") return;
  if (Array.isArray(v)) {
    if (s.items) for (const x of v) applyDefaults(s.items, x);
    return;
  }
  const o = v as Record<string, unknown>;
  for (const [k, ps] of Object.entries(s.properties ?? {})) {
    if (o[k] === undefined && ps.default !== undefined) o[k] = structuredClone(ps.default);
    if (o[k] !== undefined) applyDefaults(ps, o[k]);
  }
}

/** The served type for one version of a CRD. */
export function customResourceType(spec: CrdSpec, v: CrdVersion, ajv: AjvClass): ResourceType {
  const open = v.schema?.openAPIV3Schema;
  const schema: Schema | undefined = open
    ? {
        ...open,
        type: "object",
        properties: {
          ...(open.properties ?? {}),
          apiVersion: { type: "string" },
          kind: { type: "string" },
          metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      }
    : undefined;
  let validate: ValidateFunction | undefined;
  if (open) {
    const { metadata: _m, ...rest } = open.properties ?? {};
    validate = ajv.compile({ ...open, properties: rest });
  }
  const columns: TableColumn[] = [
    { name: "Name", type: "string", format: "name", priority: 0, cell: (o) => o.metadata.name },
    ...(v.additionalPrinterColumns ?? []).map(
      (c): TableColumn => ({
        name: c.name,
        type: (["integer", "number", "boolean", "date"].includes(c.type) ? c.type : "string") as TableColumn["type"],
        format: c.format ?? "",
        description: c.description ?? "",
        priority: c.priority ?? 0,
        cell: (o) => {
          const x = jsonPathGet(o, c.jsonPath);
          return x === undefined ? undefined : typeof x === "object" ? JSON.stringify(x) : (x as string | number | boolean);
        },
      }),
    ),
  ];
  if (!v.additionalPrinterColumns) columns.push({ name: "Age", type: "date", priority: 0, cell: (o) => o.metadata.creationTimestamp });
  const sub = v.subresources;
  return defineType({
    group: spec.group,
    version: v.name,
    kind: spec.names.kind,
    plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    shortNames: spec.names.shortNames ?? [],
    categories: spec.names.categories ?? [],
    namespaced: spec.scope === "Namespaced",
    listKind: spec.names.listKind ?? `${spec.names.kind}List`,
    ...(schema ? { schema } : {}),
    columns,
    subresources: { ...(sub?.status ? { status: true } : {}), ...(sub?.scale ? { scale: sub.scale } : {}) },
    strategy: {
      defaults: schema ? (o) => applyDefaults(schema, o) : undefined,
      validate: validate
        ? (o) => {
            const { metadata: _m, ...body } = o;
            if (validate!(body)) return [];
            return (validate!.errors ?? []).map((e) => {
              const field = e.instancePath.replace(/^\//, "").replace(/\//g, ".") || "<root>";
              return cause(field, `Invalid value: ${JSON.stringify(jsonPathGet(body, field))}: ${ajvMessage(e)}`);
            });
          }
        : undefined,
    },
  });
}

/** Serves the types of every established CRD; level-based on the CRD watch. */
export class CrdController {
  #ajvInstance: AjvClass | undefined;
  get #ajv(): AjvClass {
    const A = Ajv();
    this.#ajvInstance ??= new A({ strict: false, allErrors: true, validateFormats: false });
    return this.#ajvInstance;
  }
  readonly #served = new Map<string, ResourceType[]>();
  #follower: Follower | undefined;

  constructor(
    private readonly store: Store,
    private readonly registry: TypeRegistry,
    private readonly crdType: ResourceType,
  ) {}

  start(): void {
    this.#follower = new Follower(this.store, this.crdType, async (ev) => {
      if (ev.type === "BOOKMARK") return;
      if (ev.type === "DELETED" || ev.object.metadata.deletionTimestamp) await this.#remove(ev.object);
      else await this.#serve(ev.object);
    });
    this.#follower.start();
  }

  async stop(): Promise<void> {
    await this.#follower?.stop();
  }

  #unregister(name: string): void {
    for (const t of this.#served.get(name) ?? []) this.registry.unregister(t.group, t.version, t.plural);
    this.#served.delete(name);
  }

  async #serve(crd: KubeObject): Promise<void> {
    const name = crd.metadata.name!;
    const spec = crd.spec as CrdSpec;
    this.#unregister(name);
    const types: ResourceType[] = [];
    for (const v of spec.versions.filter((x) => x.served !== false)) {
      try {
        const t = customResourceType(spec, v, this.#ajv);
        this.registry.register(t);
        types.push(t);
      } catch {
        // A schema ajv cannot compile or a name clash: the CRD stays not established.
      }
    }
    this.#served.set(name, types);
    const established = types.length > 0;
    const status = crd.status as { conditions?: { type: string; status: string }[] } | undefined;
    const isEstablished = status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;
    if (established === isEstablished) return;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    try {
      await this.store.guaranteedUpdate(this.crdType, "", name, (o) => ({
        ...o,
        status: {
          acceptedNames: { ...spec.names },
          storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
          conditions: [
            { type: "NamesAccepted", status: "True", reason: "NoConflicts", message: "no conflicts found", lastTransitionTime: now },
            {
              type: "Established",
              status: established ? "True" : "False",
              reason: established ? "InitialNamesAccepted" : "Installing",
              message: established ? "the initial names have been accepted" : "the schema could not be served",
              lastTransitionTime: now,
            },
          ],
        },
      }));
    } catch (e) {
      if (!isApiError(e, "NotFound")) throw e;
    }
  }

  async #remove(crd: KubeObject): Promise<void> {
    const name = crd.metadata.name!;
    const types = this.#served.get(name) ?? [];
    this.#unregister(name);
    const storage = types[0];
    if (storage) {
      const { items } = await this.store.list(storage);
      for (const i of items) {
        const m = i.object.metadata;
        await this.store.delete(storage, m.namespace ?? "", m.name!).catch((e: unknown) => {
          if (!isApiError(e, "NotFound")) throw e;
        });
      }
    }
    if (crd.metadata.deletionTimestamp && (crd.metadata.finalizers?.length ?? 0) === 0) {
      await this.store.delete(this.crdType, "", name).catch(() => {});
    }
  }
}

