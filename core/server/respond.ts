/**
 * @module Response helpers: JSON text (objects are spliced in as stored bytes,
 * never re-encoded), Status errors, and content negotiation for Table and
 * PartialObjectMetadata.
 */
import { type ApiError, toApiError } from "../api/errors.ts";

export const JSON_TYPE = "application/json";

export function jsonText(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": JSON_TYPE, ...headers } });
}

export function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return jsonText(JSON.stringify(value), status, headers);
}

/** Any failure as a Kubernetes Status; unknown errors become 500 InternalError (no stack traces). */
export function statusResponse(e: unknown): Response {
  const err: ApiError = toApiError(e);
  const headers: Record<string, string> = {};
  if (err.details?.retryAfterSeconds) headers["retry-after"] = String(err.details.retryAfterSeconds);
  return json(err.toStatus(), err.code, headers);
}

/** What the client asked to get back, from its Accept header. */
export type Representation = "object" | "table" | "partial";

/** Picks the first representation in the Accept list that we serve (Table, PartialObjectMetadata, or plain JSON). */
export function negotiate(accept: string | null | undefined): Representation {
  // Only an `as=` parameter asks for anything but the object itself.
  if (!accept || !accept.includes("as=")) return "object";
  for (const part of accept.split(",")) {
    const params = new Map<string, string>();
    const [mt, ...rest] = part.split(";").map((x) => x.trim());
    for (const p of rest) {
      const i = p.indexOf("=");
      if (i > 0) params.set(p.slice(0, i).trim(), p.slice(i + 1).trim());
    }
    if (mt !== "application/json" && mt !== "*/*" && mt !== "application/*") continue;
    const as = params.get("as");
    if (!as) return "object";
    if (params.get("g") !== "meta.k8s.io" || (params.get("v") !== "v1" && params.get("v") !== "v1beta1")) continue;
    if (as === "Table") return "table";
    if (as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") return "partial";
  }
  return "object";
}

/** Header value for warnings (RFC 7234 style, as kube-apiserver sends them). */
export function warningHeader(warnings: string[]): Record<string, string> {
  if (warnings.length === 0) return {};
  return { warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ") };
}
