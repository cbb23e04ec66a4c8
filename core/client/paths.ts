/**
 * @module Kubernetes REST paths and query strings for a `ResourceRef`:
 * `/api/v1/namespaces/NS/pods/NAME/status`, `/apis/apps/v1/deployments`.
 */
import { errors } from "../api/errors.ts";
import type { ResourceRef } from "./types.ts";

/** Where a request goes: the resource, optionally one namespace, object and subresource. */
export interface PathParts {
  namespace?: string | undefined;
  name?: string | undefined;
  subresource?: string | undefined;
}

/** Whether the resource lives in namespaces (the default). */
export function isNamespaced(ref: ResourceRef): boolean {
  return ref.namespaced !== false;
}

/** `apps/v1`, or `v1` for the core group. */
export function groupVersion(ref: ResourceRef): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}

/**
 * The REST path. A namespaced resource without a namespace is the
 * all-namespaces collection, which only makes sense without a name: asking
 * for one object (or creating one) needs a namespace, and its absence is a
 * BadRequest raised here rather than the server's bare 404.
 */
export function resourcePath(ref: ResourceRef, parts: PathParts = {}): string {
  const root = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  let path = root;
  if (isNamespaced(ref) && parts.namespace) path += `/namespaces/${encodeURIComponent(parts.namespace)}`;
  path += `/${ref.resource}`;
  if (parts.name !== undefined) {
    if (parts.name === "") throw errors.badRequest(`resource name may not be empty (${ref.resource})`);
    if (isNamespaced(ref) && !parts.namespace) throw errors.badRequest(`a namespace is required for ${ref.resource} "${parts.name}"`);
    path += `/${encodeURIComponent(parts.name)}`;
    if (parts.subresource) path += `/${parts.subresource}`;
  }
  return path;
}

/** Query parameters, skipping undefined values; `true` booleans become "true", false ones are omitted. */
export function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === false || v === "") continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
