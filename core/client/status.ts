/**
 * @module Failures as `ApiError`s, whatever the transport: a Status body is
 * turned back into the error the server threw; a non-Status error body
 * (a proxy's HTML page) gets the reason its HTTP code implies; a transport
 * failure (refused, reset, DNS) is ServiceUnavailable 503.
 */
import { ApiError, type StatusDetails, type StatusReason } from "../api/errors.ts";

const REASONS: ReadonlySet<string> = new Set<StatusReason>([
  "BadRequest",
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "AlreadyExists",
  "Conflict",
  "Gone",
  "Expired",
  "Invalid",
  "RequestEntityTooLarge",
  "UnsupportedMediaType",
  "MethodNotAllowed",
  "NotAcceptable",
  "TooManyRequests",
  "Timeout",
  "ServiceUnavailable",
  "InternalError",
]);

/** The reason an HTTP code implies when the body does not say (client-go's `NewGenericServerResponse`). */
export function reasonForCode(code: number): StatusReason {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "InternalError";
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The ApiError a Status value describes. `fallbackCode` is the HTTP status
 * (a Status inside a watch ERROR event has only its own `code`).
 */
export function errorFromStatus(status: unknown, fallbackCode: number, retryAfter?: string | null): ApiError {
  const s = isRecord(status) ? status : {};
  const code = typeof s.code === "number" && s.code >= 400 ? s.code : fallbackCode;
  const reason = typeof s.reason === "string" && REASONS.has(s.reason) ? (s.reason as StatusReason) : reasonForCode(code);
  const message = typeof s.message === "string" && s.message !== "" ? s.message : `the server responded with ${code} (${reason})`;
  let details: StatusDetails | undefined = isRecord(s.details) ? (s.details as StatusDetails) : undefined;
  const after = retryAfter ? Number(retryAfter) : NaN;
  if (Number.isInteger(after) && after > 0 && details?.retryAfterSeconds === undefined) {
    details = { ...details, retryAfterSeconds: after };
  }
  return new ApiError({ reason, message, code, ...(details ? { details } : {}) });
}

/** Reads a non-2xx response into its ApiError. Never throws. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let text = "";
  try {
    text = await res.text();
  } catch {
    /* the body is lost; the code still says what happened */
  }
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!isRecord(body) || body.kind !== "Status") {
    const snippet = text.trim().slice(0, 200);
    body = { message: snippet ? `the server responded with ${res.status}: ${snippet}` : "" };
  }
  return errorFromStatus(body, res.status, res.headers.get("retry-after"));
}

/** A transport failure (no response at all) as ServiceUnavailable; the original error is `cause`. */
export function unavailable(target: string, e: unknown): ApiError {
  const why = e instanceof Error ? e.message : String(e);
  const err = new ApiError({ reason: "ServiceUnavailable", message: `cannot reach the API server at ${target}: ${why}` });
  err.cause = e;
  return err;
}
