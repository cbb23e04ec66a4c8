/**
 * @module The admission chain: plugins' `Admission` steps (core/plugin/types.ts),
 * run by the REST storage on every create, update and delete, as
 * kube-apiserver's admission: all mutating steps first (in registration
 * order), then the kind's own validation, then all validating steps. A step
 * rejects by throwing an ApiError (Forbidden, Invalid …), which the client
 * gets as is — or, from a third-party plugin that imports nothing at run
 * time from Skiff, any error whose `status` is a Kubernetes Status of a
 * client-error reason (`{ kind: "Status", reason: "Forbidden", message }`);
 * anything else it throws becomes a 500 naming the step — never a stack
 * trace, and never a half-done write.
 *
 * Steps are looked up per resource and operation once and cached; a resource no step
 * wants pays nothing.
 */
import { ApiError, errors, type StatusDetails, type StatusReason } from "../api/errors.ts";
import type { ResourceType } from "../api/registry.ts";
import type { Admission, AdmissionRequest } from "../plugin/types.ts";

export class AdmissionChain {
  readonly #byResource = new Map<string, Admission[]>();

  constructor(private readonly steps: readonly Admission[]) {}

  get size(): number {
    return this.steps.length;
  }

  /**
   * The steps that want this resource (`pods`, `deployments.apps`; `pods/status` for a subresource)
   * and, when given, this operation (a resource no step wants for an update keeps the fast update path).
   */
  for(type: ResourceType, subresource?: string, operation?: AdmissionRequest["operation"]): Admission[] {
    const resource = `${type.group ? `${type.plural}.${type.group}` : type.plural}${subresource ? `/${subresource}` : ""}`;
    const key = operation ? `${resource} ${operation}` : resource;
    let list = this.#byResource.get(key);
    if (!list) {
      const base = type.group ? `${type.plural}.${type.group}` : type.plural;
      list = this.steps.filter(
        (s) =>
          (!s.resources || s.resources.includes(resource) || (!subresource && s.resources.includes(base)) || s.resources.includes("*")) &&
          (!operation || !s.operations || s.operations.includes(operation)),
      );
      this.#byResource.set(key, list);
    }
    return list;
  }

  async mutate(steps: readonly Admission[], req: AdmissionRequest): Promise<void> {
    for (const s of steps) if (s.mutate) await guard(s, () => s.mutate!(req));
  }

  async validate(steps: readonly Admission[], req: AdmissionRequest): Promise<void> {
    for (const s of steps) if (s.validate) await guard(s, () => s.validate!(req));
  }
}

async function guard(step: Admission, f: () => void | Promise<void>): Promise<void> {
  try {
    await f();
  } catch (e) {
    if (e instanceof ApiError) throw e;
    const status = statusOf(e);
    if (status) throw status;
    throw errors.internal(`admission step "${step.name}" failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Reasons a step may refuse with through a plain Status (a step's own failure is a 500, not one of these). */
const REFUSALS = new Set<StatusReason>(["BadRequest", "Forbidden", "NotFound", "AlreadyExists", "Conflict", "Invalid", "TooManyRequests"]);

/** A Status-shaped refusal from a plugin without Skiff's ApiError class, as an ApiError. */
function statusOf(e: unknown): ApiError | undefined {
  const s = (e as { status?: unknown } | null)?.status as { kind?: unknown; reason?: unknown; message?: unknown; details?: unknown } | undefined;
  if (!s || typeof s !== "object" || s.kind !== "Status" || typeof s.message !== "string") return undefined;
  if (typeof s.reason !== "string" || !REFUSALS.has(s.reason as StatusReason)) return undefined;
  const details = s.details && typeof s.details === "object" ? (s.details as StatusDetails) : undefined;
  return new ApiError({ reason: s.reason as StatusReason, message: s.message, ...(details ? { details } : {}) });
}
