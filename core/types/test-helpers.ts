/**
 * @module Test helpers for core/types: run a kind's write path the way
 * core/server/rest-storage does (prepareForCreate → defaults → validate) and
 * build fixture objects.
 */
import type { StatusCause } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import type { ResourceTypeInit } from "../api/registry.ts";

/** Runs the create path on a copy; returns the stored shape and the validation causes. */
export function admitCreate(type: ResourceTypeInit, body: unknown): { obj: KubeObject; causes: StatusCause[] } {
  const obj = structuredClone(body) as KubeObject;
  obj.metadata ??= {};
  type.strategy?.prepareForCreate?.(obj);
  type.strategy?.defaults?.(obj);
  const causes = type.strategy?.validate?.(obj) ?? [];
  return { obj, causes };
}

/** Runs the update path on a copy of `body` against `old` (status kept from old for status kinds). */
export function admitUpdate(type: ResourceTypeInit, body: unknown, old: KubeObject): { obj: KubeObject; causes: StatusCause[] } {
  const obj = structuredClone(body) as KubeObject;
  obj.metadata ??= {};
  if (type.subresources?.status) {
    if (old.status === undefined) delete obj.status;
    else obj.status = structuredClone(old.status);
  }
  type.strategy?.prepareForUpdate?.(obj, old);
  type.strategy?.defaults?.(obj);
  const causes = type.strategy?.validate?.(obj, old) ?? [];
  return { obj, causes };
}

/** `field: message` lines, as kubectl prints them. */
export function describeCauses(causes: StatusCause[]): string[] {
  return causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
}
