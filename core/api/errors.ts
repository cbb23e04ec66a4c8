/**
 * @module Typed API errors. Each maps one to one onto a Kubernetes `Status`
 * (reason + HTTP code), so the server never has to guess what a failure means.
 * Semantics follow k8s.io/apimachinery `pkg/api/errors`.
 */

/** The `reason` values a Status can carry (k8s.io/apimachinery metav1.StatusReason). */
export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Expired"
  | "Invalid"
  | "RequestEntityTooLarge"
  | "UnsupportedMediaType"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "TooManyRequests"
  | "Timeout"
  | "ServiceUnavailable"
  | "InternalError";

/** One field-level problem, as `details.causes[]` of a Status. */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** `details` of a Status. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The wire shape of a metav1.Status. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never> | { resourceVersion?: string };
  status: "Success" | "Failure";
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

/** Error carrying a Kubernetes Status. Throw it anywhere; the server renders it. */
export class ApiError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details: StatusDetails | undefined;

  constructor(init: { reason: StatusReason; message: string; details?: StatusDetails; code?: number }) {
    super(init.message);
    this.name = "ApiError";
    this.reason = init.reason;
    this.code = init.code ?? CODES[init.reason];
    this.details = init.details;
  }

  toStatus(): Status {
    const s: Status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** Identifies an object in error messages: `resource` is the plural, `group` may be "". */
export interface Qualified {
  resource: string;
  group: string;
  name: string;
}

/** `deployments.apps` or `pods`, as Kubernetes prints a group-resource. */
export function groupResource(q: { resource: string; group: string }): string {
  return q.group ? `${q.resource}.${q.group}` : q.resource;
}

export function isApiError(e: unknown, reason?: StatusReason): e is ApiError {
  return e instanceof ApiError && (reason === undefined || e.reason === reason);
}

export const errors = {
  notFound(q: Qualified): ApiError {
    return new ApiError({
      reason: "NotFound",
      message: `${groupResource(q)} "${q.name}" not found`,
      details: { name: q.name, group: q.group, kind: q.resource },
    });
  },
  /** An unknown path or resource: kube-apiserver's bare 404. */
  notFoundPath(): ApiError {
    return new ApiError({ reason: "NotFound", message: "the server could not find the requested resource", details: {} });
  },
  forbidden(q: Qualified, why: string): ApiError {
    return new ApiError({
      reason: "Forbidden",
      message: `${groupResource(q)} "${q.name}" is forbidden: ${why}`,
      details: { name: q.name, group: q.group, kind: q.resource },
    });
  },
  alreadyExists(q: Qualified): ApiError {
    return new ApiError({
      reason: "AlreadyExists",
      message: `${groupResource(q)} "${q.name}" already exists`,
      details: { name: q.name, group: q.group, kind: q.resource },
    });
  },
  /** Optimistic-concurrency failure: the caller's resourceVersion is stale. */
  conflict(q: Qualified, why = "the object has been modified; please apply your changes to the latest version and try again"): ApiError {
    return new ApiError({
      reason: "Conflict",
      message: `Operation cannot be fulfilled on ${groupResource(q)} "${q.name}": ${why}`,
      details: { name: q.name, group: q.group, kind: q.resource },
    });
  },
  /** 422 with field causes. `kind` is the Kind (e.g. "Pod"). */
  invalid(opts: { kind: string; group: string; name: string; causes: StatusCause[] }): ApiError {
    const list = opts.causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const what = opts.group ? `${opts.kind}.${opts.group}` : opts.kind;
    const msg =
      list.length === 1 ? `${what} "${opts.name}" is invalid: ${list[0]}` : `${what} "${opts.name}" is invalid: [${list.join(", ")}]`;
    return new ApiError({
      reason: "Invalid",
      message: msg,
      details: { name: opts.name, group: opts.group, kind: opts.kind, causes: opts.causes },
    });
  },
  /** 410 for a revision that compaction has removed. */
  expired(message: string): ApiError {
    return new ApiError({ reason: "Expired", message });
  },
  gone(message: string): ApiError {
    return new ApiError({ reason: "Gone", message });
  },
  badRequest(message: string, causes?: StatusCause[]): ApiError {
    return new ApiError({ reason: "BadRequest", message, ...(causes ? { details: { causes } } : {}) });
  },
  tooLarge(message: string): ApiError {
    return new ApiError({ reason: "RequestEntityTooLarge", message });
  },
  /** 415 with the media types that would have been accepted. */
  unsupportedMediaType(
    contentType: string,
    accepted: string[] = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"],
  ): ApiError {
    return new ApiError({
      reason: "UnsupportedMediaType",
      message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}${contentType ? ` (got ${JSON.stringify(contentType)})` : ""}`,
    });
  },
  unsupportedMediaTypePatch(contentType: string): ApiError {
    return errors.unsupportedMediaType(contentType, [
      "application/json-patch+json",
      "application/merge-patch+json",
      "application/apply-patch+yaml",
      "application/strategic-merge-patch+json",
    ]);
  },
  methodNotAllowed(message: string): ApiError {
    return new ApiError({ reason: "MethodNotAllowed", message });
  },
  tooManyRequests(message: string, retryAfterSeconds?: number): ApiError {
    return new ApiError({ reason: "TooManyRequests", message, ...(retryAfterSeconds ? { details: { retryAfterSeconds } } : {}) });
  },
  timeout(message: string): ApiError {
    return new ApiError({ reason: "Timeout", message });
  },
  serviceUnavailable(message: string): ApiError {
    return new ApiError({ reason: "ServiceUnavailable", message });
  },
  internal(message: string): ApiError {
    return new ApiError({ reason: "InternalError", message: `Internal error occurred: ${message}` });
  },
};

/** Turns anything thrown into an ApiError; unknown errors become InternalError (no stack to users). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return errors.internal(msg);
}
