/**
 * @module Request decoding shared by the REST handlers: the resource path,
 * Kubernetes' query conventions (booleans, selectors, resourceVersion), body
 * decoding by content type (JSON, YAML, protobuf) and the 3 MiB body limit.
 */
import { yamlLib } from "../lazy.ts";
import { errors } from "../api/errors.ts";
import type { ResourceType, TypeRegistry } from "../api/registry.ts";
import { type FieldSelector, type LabelSelector, parseFieldSelector, parseLabelSelector } from "../api/selectors.ts";

/** Largest request body accepted (kube-apiserver's limit). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** A parsed `/api/v1/...` or `/apis/<group>/<version>/...` path. */
export interface ResourcePath {
  group: string;
  version: string;
  namespace?: string;
  resource: string;
  name?: string;
  subresource?: string;
}

/**
 * Parses the part of a URL after `/api/v1` or `/apis/g/v`. Returns undefined
 * when the shape is not a resource path.
 */
export function parseResourcePath(group: string, version: string, rest: string[]): ResourcePath | undefined {
  const segs: string[] = [];
  for (const s of rest) {
    if (s.length === 0) continue;
    if (!s.includes("%")) {
      segs.push(s); // nothing to decode (the usual case)
      continue;
    }
    try {
      segs.push(decodeURIComponent(s));
    } catch {
      return undefined; // a malformed %-escape: no such resource
    }
  }
  if (segs.length === 0) return undefined;
  // `/namespaces/<name>/status|finalize` is a subresource of the namespace itself.
  const nsSub = segs[0] === "namespaces" && segs.length === 3 && (segs[2] === "status" || segs[2] === "finalize");
  const scoped = segs[0] === "namespaces" && segs.length >= 3 && !nsSub;
  const at = scoped ? 2 : 0;
  if (segs.length > at + 3) return undefined;
  const out: ResourcePath = scoped ? { group, version, namespace: segs[1]!, resource: segs[2]! } : { group, version, resource: segs[0]! };
  const name = segs[at + 1];
  const subresource = segs[at + 2];
  if (name) out.name = name;
  if (subresource) out.subresource = subresource;
  return out;
}

/** The query of a request URL (a serialized URL, as `Request.url` is), without parsing the rest of it. */
export function queryOf(url: string): URLSearchParams {
  // In a serialized URL the first "#" starts the fragment and the first "?" before it the query.
  const hash = url.indexOf("#");
  const end = hash < 0 ? url.length : hash;
  const q = url.indexOf("?");
  if (q < 0 || q > end) return new URLSearchParams();
  // Keeps the "?": the constructor drops exactly one, so "??a" reads as URL's searchParams reads it.
  return new URLSearchParams(url.slice(q, end));
}

/** The registered type for a path, or a 404 shaped like kube-apiserver's. */
export function resolveType(registry: TypeRegistry, p: ResourcePath): ResourceType {
  const t = registry.get(p.group, p.version, p.resource);
  if (!t) throw errors.notFoundPath();
  if (p.namespace !== undefined && !t.namespaced) throw errors.notFoundPath();
  return t;
}

/** Kubernetes' boolean query values: anything but "", "0" and "false" is true. */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  const l = v.toLowerCase();
  return l !== "" && l !== "0" && l !== "false";
}

export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw errors.badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
  return n;
}

export interface Selectors {
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
}

/** `labelSelector` and `fieldSelector`, checked against the type's selectable fields. */
export function querySelectors(q: URLSearchParams, type: ResourceType): Selectors {
  const out: Selectors = {};
  const ls = q.get("labelSelector");
  if (ls) {
    const s = parseLabelSelector(ls);
    if (!s.empty) out.labelSelector = s;
  }
  const fs = q.get("fieldSelector");
  if (fs) {
    const s = parseFieldSelector(fs, Object.keys(type.selectableFields));
    if (!s.empty) out.fieldSelector = s;
  }
  return out;
}

/** Parses a resourceVersion query value: "" → undefined, otherwise a revision number. */
export function parseResourceVersion(v: string | null): number | undefined {
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
    throw errors.badRequest(`resourceVersion: Invalid value: ${JSON.stringify(v)}: must be a non-negative integer`);
  }
  return n;
}

/** The media type without parameters, lower-cased. */
export function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Reads the body with the size limit enforced while reading. */
export async function readBody(req: Request): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw errors.tooLarge("Request entity too large: limit is 3145728");
  if (!req.body) return new Uint8Array();
  if (req.headers.has("content-length")) {
    // The size is known and within the limit: the runtime's native read is much
    // faster than pulling chunks through a stream reader.
    return new Uint8Array(await req.arrayBuffer());
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw errors.tooLarge("Request entity too large: limit is 3145728");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

export type BodyDecoder = (bytes: Uint8Array, type: ResourceType | undefined) => unknown;

/** Decodes a JSON or YAML body into a value; anything else is 415. */
export function decodeBody(bytes: Uint8Array, contentType: string, protobuf?: BodyDecoder, type?: ResourceType): unknown {
  const mt = mediaType(contentType);
  if (mt === "application/vnd.kubernetes.protobuf") {
    if (!protobuf) throw errors.unsupportedMediaType(contentType);
    return protobuf(bytes, type);
  }
  const text = new TextDecoder().decode(bytes);
  if (mt === "" || mt === "application/json" || mt === "*/*") return parseJson(text);
  if (mt === "application/yaml" || mt === "application/x-yaml" || mt === "text/yaml") return parseYamlBody(text);
  throw errors.unsupportedMediaType(contentType);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    if (/^\s*$/.test(text)) throw errors.badRequest("the body of the request is empty");
    throw errors.badRequest(`the body of the request was in an unknown format: ${(e as Error).message}`);
  }
}

/**
 * Reads and decodes a request body. JSON and YAML bodies of known length are
 * read as text natively (no copy through bytes); protobuf and bodies without
 * a length go through `readBody`'s streamed, size-checked read.
 */
export async function readDecoded(req: Request, protobuf?: BodyDecoder, type?: ResourceType): Promise<unknown> {
  const ct = req.headers.get("content-type") ?? "";
  const mt = mediaType(ct);
  const textual = mt === "" || mt === "application/json" || mt === "*/*" || mt === "application/yaml" || mt === "application/x-yaml" || mt === "text/yaml";
  if (!textual || !req.headers.has("content-length") || !req.body) return decodeBody(await readBody(req), ct, protobuf, type);
  if (Number(req.headers.get("content-length")) > MAX_BODY_BYTES) throw errors.tooLarge("Request entity too large: limit is 3145728");
  const text = await req.text();
  return mt === "application/yaml" || mt === "application/x-yaml" || mt === "text/yaml" ? parseYamlBody(text) : parseJson(text);
}

export function parseYamlBody(text: string): unknown {
  if (text.trim() === "") throw errors.badRequest("the body of the request is empty");
  try {
    return yamlLib().parse(text, { maxAliasCount: 100, uniqueKeys: true, logLevel: "error" });
  } catch (e) {
    throw errors.badRequest(`error converting YAML to JSON: ${(e as Error).message.split("\n")[0]}`);
  }
}
