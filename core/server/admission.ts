/**
 * @module The admission chain: plugins' `Admission` steps (core/plugin/types.ts),
 * run by the REST storage on every create, update and delete, as
 * kube-apiserver's admission: all mutating steps first (in registration
 * order), then the kind's own validation, then all validating steps. A step
 * rejects by throwing an ApiError (Forbidden, Invalid …), which the client
 * gets as is; anything else it throws becomes a 500 naming the step — never
 * a stack trace, and never a half-done write.
 *
 * Steps are looked up per resource once and cached; a resource no step
 * wants pays nothing.
 */
import { ApiError, errors } from "../api/errors.ts";
import type { ResourceType } from "../api/registry.ts";
import type { Admission, AdmissionRequest } from "../plugin/types.ts";

export class AdmissionChain {
  readonly #byResource = new Map<string, Admission[]>();

  constructor(private readonly steps: readonly Admission[]) {}

  get size(): number {
    return this.steps.length;
  }

  /** The steps that want this resource (`pods`, `deployments.apps`; `pods/status` for a subresource). */
  for(type: ResourceType, subresource?: string): Admission[] {
    const key = `${type.group ? `${type.plural}.${type.group}` : type.plural}${subresource ? `/${subresource}` : ""}`;
    let list = this.#byResource.get(key);
    if (!list) {
      const base = type.group ? `${type.plural}.${type.group}` : type.plural;
      list = this.steps.filter((s) => !s.resources || s.resources.includes(key) || (!subresource && s.resources.includes(base)) || s.resources.includes("*"));
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
    throw errors.internal(`admission step "${step.name}" failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
