/**
 * @module Errors the patch engines throw, shaped like kube-apiserver's.
 * Upstream turns several patch failures into a generic 422 whose message
 * hides the cause; we match the Status exactly and keep the real reason as
 * the error's `cause` (for logs, never sent to clients).
 */
import { ApiError, errors } from "../errors.ts";

/**
 * `errors.NewGenericServerResponse(422, …)` as handlers/patch.go uses it for
 * JSON patch application failures and some strategic merge errors.
 */
export function unprocessable(detail: string): ApiError {
  const e = new ApiError({
    reason: "Invalid",
    message: "the server rejected our request due to an error in our request",
    details: {},
  });
  e.cause = new Error(detail);
  return e;
}

/** A 400 BadRequest carrying upstream's message verbatim. */
export function badPatch(message: string): ApiError {
  return errors.badRequest(message);
}
