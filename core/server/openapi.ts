/**
 * @module `/openapi/v3`: an index of group-versions and one document per
 * group-version, generated from the registry's schemas. Each kind gets its
 * paths with the operations kubectl probes (PATCH declaring the
 * `fieldValidation` parameter, so kubectl leaves validation to the server) and
 * its schema under `components.schemas` (so `kubectl explain` works). The
 * PATCH request body deliberately omits strategic-merge-patch: kubectl then
 * computes strategic patches from its compiled-in types, not from these schemas.
 */
import type { ResourceType, TypeRegistry } from "../api/registry.ts";
import type { Schema } from "../api/schema.ts";

const PATCH_BODY = {
  content: {
    "application/json-patch+json": { schema: { type: "object" } },
    "application/merge-patch+json": { schema: { type: "object" } },
    "application/apply-patch+yaml": { schema: { type: "object" } },
  },
};

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Turns a schema tree into OpenAPI with named nodes moved to components and referenced. */
function emit(s: Schema, components: Record<string, unknown>, top = false): unknown {
  if (s.name && !top) {
    if (!(s.name in components)) {
      components[s.name] = {}; // placeholder first: schemas may be recursive
      components[s.name] = emit(s, components, true);
    }
    return { $ref: `#/components/schemas/${s.name}` };
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "name") continue;
    if (k === "properties" && v) {
      const props: Record<string, unknown> = {};
      for (const [pk, pv] of Object.entries(v as Record<string, Schema>)) props[pk] = wrapRef(emit(pv, components), pv);
      out.properties = props;
    } else if ((k === "items" || k === "not") && v) out[k] = emit(v as Schema, components);
    else if (k === "additionalProperties" && typeof v === "object") out[k] = emit(v as Schema, components);
    else if ((k === "allOf" || k === "anyOf" || k === "oneOf") && Array.isArray(v)) out[k] = v.map((x: Schema) => emit(x, components));
    else out[k] = v;
  }
  return out;
}

/** Upstream wraps property references in allOf so siblings (description, default) can sit beside them. */
function wrapRef(v: unknown, s: Schema): unknown {
  if (!s.name) return v;
  const extra: Record<string, unknown> = {};
  if (s.default !== undefined) extra.default = s.default;
  return Object.keys(extra).length ? { allOf: [v], ...extra } : { allOf: [v] };
}

export class OpenApi {
  #cache = new Map<string, string>();
  #hashes = new Map<string, string>();

  constructor(private readonly registry: TypeRegistry) {
    registry.onChange(() => {
      this.#cache.clear();
      this.#hashes.clear();
    });
  }

  #groupVersions(): Map<string, ResourceType[]> {
    const m = new Map<string, ResourceType[]>();
    for (const t of this.registry.all()) {
      const key = gvPath(t.group, t.version);
      const list = m.get(key);
      if (list) list.push(t);
      else m.set(key, [t]);
    }
    return m;
  }

  index(): string {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const key of this.#groupVersions().keys()) {
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${this.#hash(key)}` };
    }
    return JSON.stringify({ paths });
  }

  #hash(key: string): string {
    let h = this.#hashes.get(key);
    if (!h) {
      const doc = this.document(key) ?? "";
      let x = 0x811c9dc5;
      for (let i = 0; i < doc.length; i++) x = Math.imul(x ^ doc.charCodeAt(i), 0x01000193) >>> 0;
      h = x.toString(16).toUpperCase().padStart(8, "0");
      this.#hashes.set(key, h);
    }
    return h;
  }

  /** The document for `api/v1` or `apis/<g>/<v>`, or undefined. */
  document(key: string): string | undefined {
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const types = this.#groupVersions().get(key);
    if (!types) return undefined;
    const components: Record<string, unknown> = {};
    const paths: Record<string, unknown> = {};
    for (const t of types) {
      const gvk = [{ group: t.group, version: t.version, kind: t.kind }];
      const ref = t.schema ? emit({ ...t.schema, name: t.schema.name ?? defName(t) }, components) : { type: "object" };
      const ok = { "200": { description: "OK", content: { "application/json": { schema: ref } } } };
      const base = t.namespaced ? `/${key}/namespaces/{namespace}/${t.plural}` : `/${key}/${t.plural}`;
      const params = [
        ...(t.namespaced ? [{ name: "namespace", in: "path", required: true, schema: { type: "string" } }] : []),
        { name: "name", in: "path", required: true, schema: { type: "string" } },
      ];
      const common = { "x-kubernetes-group-version-kind": gvk[0] };
      paths[`${base}/{name}`] = {
        parameters: params,
        get: { ...common, "x-kubernetes-action": "get", responses: ok },
        put: { ...common, "x-kubernetes-action": "put", parameters: writeParams(), responses: ok },
        patch: {
          ...common,
          "x-kubernetes-action": "patch",
          parameters: [...writeParams(), { name: "force", in: "query", schema: { type: "boolean" } }],
          requestBody: PATCH_BODY,
          responses: ok,
        },
        delete: { ...common, "x-kubernetes-action": "delete", responses: ok },
      };
      paths[base] = {
        ...(t.namespaced ? { parameters: [params[0]] } : {}),
        post: { ...common, "x-kubernetes-action": "post", parameters: writeParams(), requestBody: { content: { "application/json": { schema: ref } } }, responses: ok },
        get: { ...common, "x-kubernetes-action": "list", responses: ok },
      };
    }
    const doc = JSON.stringify({ openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.32.4" }, paths, components: { schemas: components } });
    this.#cache.set(key, doc);
    return doc;
  }
}

function writeParams(): object[] {
  return [
    { name: "dryRun", in: "query", schema: { type: "string" }, uniqueItems: true },
    { name: "fieldManager", in: "query", schema: { type: "string" }, uniqueItems: true },
    { name: "fieldValidation", in: "query", schema: { type: "string" }, uniqueItems: true },
  ];
}

function defName(t: ResourceType): string {
  const g = t.group ? t.group.split(".").reverse().join(".") : "core";
  return `io.k8s.api.${g}.${t.version}.${t.kind}`;
}
