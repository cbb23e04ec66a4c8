/**
 * @module Work-queue keys: `namespace/name` for namespaced objects, `name`
 * for cluster-scoped ones (client-go's `MetaNamespaceKeyFunc`).
 */
import type { KubeObject } from "../api/meta.ts";

/** The key of an object: `ns/name`, or `name` when it has no namespace. */
export function keyOf(obj: Pick<KubeObject, "metadata">): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name ?? ""}` : (name ?? "");
}

/** The key for a name in a namespace (`""` or undefined: cluster-scoped). */
export function keyFor(name: string, namespace?: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

/** Splits a key back into namespace ("" for cluster-scoped) and name. Throws on more than one `/`. */
export function splitKey(key: string): { namespace: string; name: string } {
  const parts = key.split("/");
  if (parts.length === 1) return { namespace: "", name: parts[0]! };
  if (parts.length === 2) return { namespace: parts[0]!, name: parts[1]! };
  throw new Error(`unexpected key format: ${JSON.stringify(key)}`);
}
