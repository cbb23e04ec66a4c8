/**
 * @module Garbage collection by ownerReferences (upstream
 * `pkg/controller/garbagecollector`), keyed by uid:
 *
 * - `d/<uid>` attemptToDelete: an object whose owners are all gone (or
 *   never existed) is deleted — Background, or with the policy its own
 *   finalizers ask for; one owner waiting for its dependents (Foreground)
 *   makes it deleted in the foreground too; references to gone or waiting
 *   owners are stripped from an object that still has a live owner. An owner
 *   being deleted in the foreground keeps its `foregroundDeletion` finalizer
 *   until no dependent with `blockOwnerDeletion` is left.
 * - `o/<uid>` attemptToOrphan: an owner deleted with the Orphan policy has
 *   its reference removed from every dependent, then its `orphan` finalizer.
 *
 * Owners are looked up in the graph first; one the graph does not know is
 * read live (by the reference's kind) before a dependent is called orphaned,
 * so an informer that lags never causes a wrong deletion.
 */
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject, OwnerReference } from "../../../core/api/meta.ts";
import type { Client, Reconciler } from "../../../core/client/types.ts";
import type { Logger } from "../../../core/log.ts";
import type { KindMap, ResourceInfo } from "../common/discovery.ts";
import { removeOwnerReferences } from "../common/owner-refs.ts";
import { deletingDependents, FOREGROUND, type Graph, type GraphNode, ORPHAN } from "./graph.ts";

type Policy = "Foreground" | "Background" | "Orphan";

export class GarbageCollectorReconciler implements Reconciler {
  readonly name = "garbage-collector";

  constructor(
    private readonly client: Client,
    private readonly graph: Graph,
    private readonly kinds: KindMap,
    private readonly log: Logger,
  ) {}

  async reconcile(key: string): Promise<void> {
    const uid = key.slice(2);
    if (key.startsWith("o/")) return this.#orphan(uid);
    return this.#attemptToDelete(uid);
  }

  async #attemptToDelete(uid: string): Promise<void> {
    const node = this.graph.nodes.get(uid);
    if (!node) return;
    if (node.deleting) {
      if (deletingDependents(node)) await this.#processDeletingDependents(node);
      return;
    }
    if (node.owners.length === 0) return;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of node.owners) {
      const state = await this.#ownerState(node, ref);
      (state === "solid" ? solid : state === "dangling" ? dangling : waiting).push(ref);
    }
    if (solid.length > 0) {
      const drop = [...dangling, ...waiting];
      if (drop.length === 0) return;
      this.log.debug({ object: describe(node), owners: drop.map((r) => r.uid) }, "removing references to gone owners");
      await removeOwnerReferences(this.client, node.info.ref, this.#identity(node), drop.map((r) => r.uid));
      return;
    }
    if (waiting.length > 0 && this.graph.dependents(uid).length > 0) {
      if (this.graph.dependents(uid).some(deletingDependents)) {
        // A dependent of ours waits for us while we wait for an owner: unblock to break the cycle.
        const owners = node.owners.map((r) => (r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r));
        await this.#patch(node, { metadata: { ownerReferences: owners, uid: node.uid } });
      }
      return this.#delete(node, "Foreground");
    }
    const policy: Policy = node.finalizers.includes(ORPHAN) ? "Orphan" : node.finalizers.includes(FOREGROUND) ? "Foreground" : "Background";
    this.log.debug({ object: describe(node), policy }, "deleting an object whose owners are gone");
    await this.#delete(node, policy);
  }

  /** solid: exists and is not waiting for its dependents; waiting: deleting in the foreground; dangling: gone. */
  async #ownerState(node: GraphNode, ref: OwnerReference): Promise<"solid" | "dangling" | "waiting"> {
    const known = this.graph.nodes.get(ref.uid);
    if (known && (!known.info.namespaced || known.namespace === node.namespace)) return deletingDependents(known) ? "waiting" : "solid";
    const info = this.kinds.get(ref.apiVersion, ref.kind);
    if (!info) {
      // Not a kind we can look up: never guess that it is gone.
      this.log.debug({ object: describe(node), apiVersion: ref.apiVersion, kind: ref.kind }, "owner of an unknown kind");
      return "solid";
    }
    if (info.namespaced && node.namespace === "") return "dangling"; // a cluster-scoped object cannot have a namespaced owner
    try {
      const owner = await this.client.get(info.ref, ref.name, info.namespaced ? { namespace: node.namespace } : {});
      if (owner.metadata.uid !== ref.uid) return "dangling";
      const m = owner.metadata;
      return m.deletionTimestamp !== undefined && (m.finalizers ?? []).includes(FOREGROUND) ? "waiting" : "solid";
    } catch (e) {
      if (isApiError(e, "NotFound")) return "dangling";
      throw e;
    }
  }

  /** An owner deleted in the foreground: drop the finalizer when no blocking dependent is left, else delete them. */
  async #processDeletingDependents(node: GraphNode): Promise<void> {
    const blocking = this.graph.dependents(node.uid).filter((d) => d.owners.some((r) => r.uid === node.uid && r.blockOwnerDeletion));
    if (blocking.length === 0) {
      await this.#removeFinalizer(node, FOREGROUND);
      return;
    }
    for (const d of blocking) if (!d.deleting) await this.#attemptToDelete(d.uid);
  }

  async #orphan(uid: string): Promise<void> {
    const node = this.graph.nodes.get(uid);
    if (!node || !node.deleting || !node.finalizers.includes(ORPHAN)) return;
    await Promise.all(
      this.graph.dependents(uid).map((d) => removeOwnerReferences(this.client, d.info.ref, this.#identity(d), [uid])),
    );
    await this.#removeFinalizer(node, ORPHAN);
  }

  #identity(n: GraphNode): KubeObject {
    return { metadata: { name: n.name, uid: n.uid, ...(n.info.namespaced ? { namespace: n.namespace } : {}) } };
  }

  async #patch(node: GraphNode, patch: unknown): Promise<void> {
    try {
      await this.client.patch(node.info.ref, node.name, "strategic", patch, node.info.namespaced ? { namespace: node.namespace } : {});
    } catch (e) {
      if (isApiError(e, "NotFound") || isApiError(e, "Conflict")) return; // gone, or replaced by a namesake
      throw e;
    }
  }

  async #delete(node: GraphNode, policy: Policy): Promise<void> {
    try {
      await this.client.delete(node.info.ref, node.name, {
        ...(node.info.namespaced ? { namespace: node.namespace } : {}),
        propagationPolicy: policy,
        preconditions: { uid: node.uid },
      });
    } catch (e) {
      if (isApiError(e, "NotFound") || isApiError(e, "Conflict")) return;
      throw e;
    }
  }

  /** A fresh read and an optimistic update (a conflict is retried by the queue). */
  async #removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    let o: KubeObject;
    try {
      o = await this.client.get(node.info.ref, node.name, node.info.namespaced ? { namespace: node.namespace } : {});
    } catch (e) {
      if (isApiError(e, "NotFound")) return;
      throw e;
    }
    if (o.metadata.uid !== node.uid || !(o.metadata.finalizers ?? []).includes(finalizer)) return;
    const finalizers = o.metadata.finalizers!.filter((f) => f !== finalizer);
    await this.client.patch(
      node.info.ref,
      node.name,
      "merge",
      { metadata: { finalizers: finalizers.length > 0 ? finalizers : null, resourceVersion: o.metadata.resourceVersion } },
      node.info.namespaced ? { namespace: node.namespace } : {},
    );
  }
}

function describe(n: GraphNode): string {
  return `${n.info.kind} ${n.namespace ? `${n.namespace}/` : ""}${n.name}`;
}

export type { ResourceInfo };
