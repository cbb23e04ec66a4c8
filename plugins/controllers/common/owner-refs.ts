/**
 * @module Controller references (upstream `ControllerRefManager`): an object
 * has at most one owner reference with `controller: true`; a controller
 * adopts orphans its selector matches and releases what it owns but no
 * longer matches. Patches carry the object's uid as a precondition, so a
 * deleted-and-recreated namesake is never touched.
 */
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject, OwnerReference } from "../../../core/api/meta.ts";
import type { LabelSelector } from "../../../core/api/selectors.ts";
import type { Client, ResourceRef } from "../../../core/client/types.ts";

export function controllerRefOf(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** The reference a controller puts on what it creates or adopts (`metav1.NewControllerRef`). */
export function newControllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export interface ClaimOptions<T extends KubeObject> {
  client: Client;
  /** The resource of the claimed objects (pods, replicasets). */
  ref: ResourceRef;
  owner: KubeObject;
  selector: LabelSelector;
  /** Objects owned by `owner` and orphans in its namespace (others are ignored anyway). */
  candidates: readonly T[];
  /**
   * Called once before the first adoption: a fresh read of the owner, which
   * must still exist with the same uid and not be terminating (an informer
   * may lag behind a delete).
   */
  canAdopt(): Promise<void>;
}

export interface ClaimResult<T extends KubeObject> {
  claimed: T[];
  /** The first adoption or release failure; claiming went on past it. */
  error?: unknown;
}

/**
 * Upstream `ClaimObject` over each candidate: keeps what the owner controls
 * and matches, releases what it controls and does not match (unless it is
 * being deleted itself), adopts matching orphans that are not terminating.
 */
export async function claim<T extends KubeObject>(o: ClaimOptions<T>): Promise<ClaimResult<T>> {
  const claimed: T[] = [];
  const uid = o.owner.metadata.uid!;
  const ownerDeleting = o.owner.metadata.deletionTimestamp !== undefined;
  let adoptable: Promise<void> | undefined;
  let error: unknown;
  const adoptions: Promise<void>[] = [];
  const releases: Promise<void>[] = [];
  for (const obj of o.candidates) {
    const ref = controllerRefOf(obj);
    const matches = o.selector.matches(obj.metadata.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches) {
        claimed.push(obj);
        continue;
      }
      if (ownerDeleting) continue;
      releases.push(
        release(o.client, o.ref, obj, uid).catch((e: unknown) => {
          error ??= e;
        }),
      );
      continue;
    }
    if (ownerDeleting || !matches || obj.metadata.deletionTimestamp !== undefined) continue;
    if (o.owner.metadata.namespace && obj.metadata.namespace !== o.owner.metadata.namespace) continue;
    adoptable ??= o.canAdopt();
    adoptions.push(
      adoptable
        .then(() => adopt(o.client, o.ref, obj, o.owner))
        .then((adopted) => {
          if (adopted) claimed.push(adopted as T);
        })
        .catch((e: unknown) => {
          error ??= e;
        }),
    );
  }
  await Promise.all([...adoptions, ...releases]);
  return error === undefined ? { claimed } : { claimed, error };
}

/** Adds the owner's controller reference; undefined when the object is gone (or was replaced). */
async function adopt(client: Client, ref: ResourceRef, obj: KubeObject, owner: KubeObject): Promise<KubeObject | undefined> {
  const patch = { metadata: { ownerReferences: [newControllerRef(owner)], uid: obj.metadata.uid } };
  try {
    return await client.patch(ref, obj.metadata.name!, "strategic", patch, { namespace: obj.metadata.namespace! });
  } catch (e) {
    if (isApiError(e, "NotFound") || isApiError(e, "Conflict")) return undefined;
    throw e;
  }
}

/** Removes the owner's reference; a gone or replaced object needs nothing. */
export async function release(client: Client, ref: ResourceRef, obj: KubeObject, ownerUid: string): Promise<void> {
  try {
    await removeOwnerReferences(client, ref, obj, [ownerUid]);
  } catch (e) {
    if (isApiError(e, "Invalid")) return;
    throw e;
  }
}

/**
 * Removes references (by owner uid) from an object, with its uid as a
 * precondition (strategic merge, `$patch: delete` by uid). An emptied list
 * is then removed altogether, as Kubernetes serializes it (only if it is
 * still empty and still the same object). NotFound and Conflict (replaced by
 * a namesake) need nothing.
 */
export async function removeOwnerReferences(client: Client, ref: ResourceRef, obj: KubeObject, ownerUids: readonly string[]): Promise<void> {
  const opts = obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {};
  const name = obj.metadata.name!;
  const uid = obj.metadata.uid!;
  try {
    const patched = await client.patch(ref, name, "strategic", { metadata: { ownerReferences: ownerUids.map((u) => ({ $patch: "delete", uid: u })), uid } }, opts);
    if (!Array.isArray(patched.metadata.ownerReferences) || patched.metadata.ownerReferences.length > 0) return;
    await client.patch(
      ref,
      name,
      "json",
      [
        { op: "test", path: "/metadata/uid", value: uid },
        { op: "test", path: "/metadata/ownerReferences", value: [] },
        { op: "remove", path: "/metadata/ownerReferences" },
      ],
      opts,
    );
  } catch (e) {
    if (isApiError(e, "NotFound") || isApiError(e, "Conflict")) return;
    // A failed `test` (the list changed meanwhile) is fine: whoever changed it wrote a non-empty list.
    if (isApiError(e, "Invalid") || (e as { code?: number }).code === 422) return;
    throw e;
  }
}

/** A fresh read of the owner that fails unless it still exists, is the same object, and is not terminating. */
export async function recheckOwner(client: Client, ref: ResourceRef, owner: KubeObject): Promise<void> {
  const fresh = await client.get(ref, owner.metadata.name!, { namespace: owner.metadata.namespace! });
  if (fresh.metadata.uid !== owner.metadata.uid) {
    throw new Error(`original ${owner.kind} ${owner.metadata.namespace}/${owner.metadata.name} is gone: got uid ${fresh.metadata.uid}, wanted ${owner.metadata.uid}`);
  }
  if (fresh.metadata.deletionTimestamp !== undefined) {
    throw new Error(`${owner.kind} ${owner.metadata.namespace}/${owner.metadata.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  }
}
