/**
 * @module Semantic equality and hashing of pod templates. Go's
 * `apiequality.Semantic.DeepEqual` on typed structs cannot tell a missing
 * field from a null or empty one; on plain JSON we get the same effect by
 * normalizing first: null, "", {} and [] are dropped (recursively) and keys
 * are sorted. So the template `kubectl rollout undo` sends back (with
 * `creationTimestamp: null`, `resources: {}`) equals the one it came from,
 * and the Deployment reuses that ReplicaSet.
 */
import type { PodTemplate } from "./refs.ts";

export const POD_TEMPLATE_HASH_LABEL = "pod-template-hash";

/** The JSON value with empty values dropped; undefined when nothing is left. */
export function normalize(v: unknown): unknown {
  if (v === null || v === undefined || v === "") return undefined;
  if (Array.isArray(v)) {
    if (v.length === 0) return undefined;
    return v.map((x) => normalize(x) ?? null);
  }
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const k of Object.keys(v as object).sort()) {
      const x = normalize((v as Record<string, unknown>)[k]);
      if (x !== undefined) {
        out[k] = x;
        n++;
      }
    }
    return n === 0 ? undefined : out;
  }
  return v;
}

function withoutHash(t: PodTemplate | undefined): unknown {
  if (!t) return undefined;
  const labels = t.metadata?.labels;
  if (!labels || !(POD_TEMPLATE_HASH_LABEL in labels)) return t;
  const { [POD_TEMPLATE_HASH_LABEL]: _h, ...rest } = labels;
  return { ...t, metadata: { ...t.metadata, labels: rest } };
}

/** Templates equal once normalized, ignoring the `pod-template-hash` label (upstream EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  return JSON.stringify(normalize(withoutHash(a)) ?? null) === JSON.stringify(normalize(withoutHash(b)) ?? null);
}

const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/** 32-bit FNV-1a. */
function fnv1a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The `pod-template-hash` of a template (upstream ComputeHash): FNV-1a over
 * the normalized template, then the collision count as 4 little-endian
 * bytes, printed in decimal and each digit mapped to a "safe" character.
 */
export function computeHash(template: PodTemplate | undefined, collisionCount?: number): string {
  let h = fnv1a(new TextEncoder().encode(JSON.stringify(normalize(withoutHash(template)) ?? null)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv1a(b, h);
  }
  let out = "";
  for (const c of String(h)) out += ALPHANUMS[c.charCodeAt(0) % ALPHANUMS.length];
  return out;
}
