/**
 * @module The facts of a request for authorization: upstream's
 * RequestInfoFactory (`k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`)
 * applied to a web `Request`.
 *
 * - `/api/<v>/…` and `/apis/<g>/<v>/…` with at least a resource segment are
 *   resource requests; everything else (`/healthz`, `/api`, `/apis/g/v`) is a
 *   non-resource request whose verb is the lower-cased method.
 * - `/watch/` and `/proxy/` after the version are special verbs (proxy takes no
 *   subresource: everything after the name is a proxied path).
 * - `namespaces/<ns>/<resource>…` scopes the rest to `<ns>`;
 *   `namespaces/<ns>/status|finalize` are subresources of the namespace itself.
 * - GET/HEAD without a name is list (or watch with `?watch=` anything but
 *   `false`/`0`, as Go's query-to-bool conversion); DELETE without a name is
 *   deletecollection.
 * - A list or watch whose field selector requires `metadata.name=<n>` is scoped
 *   to the name `<n>` (when it is a valid path segment name), so RBAC
 *   `resourceNames` and the node authorizer can allow single-object informers.
 *   A query that does not decode as ListOptions (a bad selector, a
 *   non-integer `limit`) keeps the verb and sets no name, as upstream.
 * - The parsed field and label selectors of a list, watch or deletecollection
 *   are carried (upstream 1.31+ Attributes.GetFieldSelector/GetLabelSelector),
 *   for selector-aware authorizers such as the node authorizer.
 *
 * One deliberate difference: path segments are split before they are
 * percent-decoded (as the router does, `request.ts` parseResourcePath), so the
 * attributes always describe the object the handler will act on; Go decodes
 * the whole path first, so `%2F` there splits a segment. `path` (for
 * non-resource rules) is the decoded path, as upstream.
 */
import { type FieldRequirement, type LabelRequirement, parseFieldSelector, parseLabelSelector } from "../../api/selectors.ts";
import type { RequestAttributes } from "./types.ts";

/** RequestAttributes plus the parsed selectors of a list, watch or deletecollection (absent when none or unparsable). */
export interface RequestAttributesWithSelectors extends RequestAttributes {
  fieldSelector?: FieldRequirement[];
  labelSelector?: LabelRequirement[];
}

/** The same type under the name the authorizers use. */
export type SelectorAttributes = RequestAttributesWithSelectors;

/** Verbs that come first in the path (`/api/v1/watch/pods`). */
const SPECIAL_VERBS = new Set(["proxy", "watch"]);
/** Special verbs after which no segment is a subresource. */
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(["proxy"]);
/** Subresources of a namespace, so `namespaces/x/status` is not a resource `status` in `x`. */
const NAMESPACE_SUBRESOURCES = new Set(["status", "finalize"]);

function methodVerb(method: string): string {
  switch (method) {
    case "POST":
      return "create";
    case "GET":
    case "HEAD":
      return "get";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    default:
      return "";
  }
}

function decode(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** path.IsValidPathSegmentName: not empty, `.` or `..`; no `/` or `%`. */
function validPathSegmentName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("%");
}

/** Go's conversion of a query value to bool: only `false` (any case) and `0` are false. */
function goBool(v: string): boolean {
  return !(v === "0" || v.toLowerCase() === "false");
}

interface ListOptions {
  watch: boolean;
  fieldSelector?: FieldRequirement[];
  labelSelector?: LabelRequirement[];
}

/** What metainternalversion.ListOptions decoding yields that matters here; undefined when decoding fails. */
function decodeListOptions(q: URLSearchParams): ListOptions | undefined {
  try {
    const w = q.get("watch");
    const out: ListOptions = { watch: w !== null && goBool(w) };
    for (const p of ["limit", "timeoutSeconds"]) {
      const v = q.get(p);
      if (v !== null && v !== "" && !/^[+-]?\d+$/.test(v)) return undefined;
    }
    const ls = q.get("labelSelector");
    if (ls) {
      const sel = parseLabelSelector(ls);
      if (!sel.empty) out.labelSelector = [...sel.requirements];
    }
    const fs = q.get("fieldSelector");
    if (fs) {
      const sel = parseFieldSelector(fs);
      if (!sel.empty) out.fieldSelector = [...sel.requirements];
    }
    return out;
  } catch {
    return undefined;
  }
}

/** Parses `req`'s method and URL into the attributes authorizers decide on. Never throws. */
export function requestAttributes(req: Request): RequestAttributesWithSelectors {
  const url = new URL(req.url);
  return attributesOf(req.method.toUpperCase(), url.pathname, url.searchParams);
}

/** The same from a method, a raw (still percent-encoded) path and a query. */
export function attributesOf(method: string, rawPath: string, query: URLSearchParams = new URLSearchParams()): RequestAttributesWithSelectors {
  const info: RequestAttributesWithSelectors = {
    resourceRequest: false,
    path: decode(rawPath),
    verb: method.toLowerCase(),
    apiGroup: "",
    apiVersion: "",
    resource: "",
    subresource: "",
    namespace: "",
    name: "",
  };
  const trimmed = rawPath.replace(/^\/+|\/+$/g, "");
  let parts = trimmed === "" ? [] : trimmed.split("/").map(decode);
  if (parts.length < 3) return info;
  const prefix = parts[0]!;
  if (prefix !== "api" && prefix !== "apis") return info;
  parts = parts.slice(1);
  if (prefix === "apis") {
    if (parts.length < 3) return info;
    info.apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  info.resourceRequest = true;
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);

  if (SPECIAL_VERBS.has(parts[0]!)) {
    if (parts.length < 2) {
      // upstream: an error ("unable to determine kind and namespace"); the info so far stands.
      info.verb = methodVerb(method);
      return info;
    }
    info.verb = parts[0]!;
    parts = parts.slice(1);
  } else {
    info.verb = methodVerb(method);
  }

  if (parts[0] === "namespaces") {
    if (parts.length > 1) {
      info.namespace = parts[1]!;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }

  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2]!;
  if (parts.length >= 2) info.name = parts[1]!;
  if (parts.length >= 1) info.resource = parts[0]!;

  const listLike = info.name === "" && (info.verb === "get" || info.verb === "delete" || info.verb === "watch" || info.verb === "list");
  if (!listLike) return info;
  const opts = decodeListOptions(query);
  if (info.verb === "get") {
    if (!opts) {
      // A query that does not decode: list, unless `watch` says otherwise; no name.
      const w = query.get("watch");
      info.verb = w !== null && goBool(w) ? "watch" : "list";
      return info;
    }
    info.verb = opts.watch ? "watch" : "list";
    const exact = opts.fieldSelector?.find((r) => r.field === "metadata.name" && r.operator === "=");
    if (exact && validPathSegmentName(exact.value)) info.name = exact.value;
  } else if (info.verb === "delete") {
    info.verb = "deletecollection";
  }
  if (opts?.fieldSelector) info.fieldSelector = opts.fieldSelector;
  if (opts?.labelSelector) info.labelSelector = opts.labelSelector;
  return info;
}
