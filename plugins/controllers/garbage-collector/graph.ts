/**
 * @module The garbage collector's view of ownership: one node per object
 * (by uid) with its owners, and for every owner uid — present or not — the
 * uids of its dependents. Fed by informers; holds only identities, never
 * whole objects.
 */
import type { KubeObject, OwnerReference } from "../../../core/api/meta.ts";
import type { ResourceInfo } from "../common/discovery.ts";

export const ORPHAN = "orphan";
export const FOREGROUND = "foregroundDeletion";

export interface GraphNode {
  uid: string;
  info: ResourceInfo;
  namespace: string;
  name: string;
  owners: OwnerReference[];
  deleting: boolean;
  finalizers: string[];
}

export const deletingDependents = (n: GraphNode): boolean => n.deleting && n.finalizers.includes(FOREGROUND);
export const orphaningDependents = (n: GraphNode): boolean => n.deleting && n.finalizers.includes(ORPHAN);

/** What changed, for the collector to act on (upstream GraphBuilder.processGraphChanges). */
export interface Changes {
  /** Objects to consider deleting (or whose deleting-dependents state to check). */
  attemptToDelete: string[];
  /** Owners whose dependents are to be orphaned. */
  attemptToOrphan: string[];
}

export class Graph {
  readonly nodes = new Map<string, GraphNode>();
  readonly #dependents = new Map<string, Set<string>>();

  dependents(uid: string): GraphNode[] {
    const out: GraphNode[] = [];
    for (const d of this.#dependents.get(uid) ?? []) {
      const n = this.nodes.get(d);
      if (n) out.push(n);
    }
    return out;
  }

  /** Records an added or changed object; returns the work it causes. */
  upsert(info: ResourceInfo, o: KubeObject): Changes {
    const uid = o.metadata.uid!;
    const prev = this.nodes.get(uid);
    const node: GraphNode = {
      uid,
      info,
      namespace: o.metadata.namespace ?? "",
      name: o.metadata.name!,
      owners: o.metadata.ownerReferences ?? [],
      deleting: o.metadata.deletionTimestamp !== undefined,
      finalizers: o.metadata.finalizers ?? [],
    };
    this.nodes.set(uid, node);
    const out: Changes = { attemptToDelete: [], attemptToOrphan: [] };
    const before = new Map((prev?.owners ?? []).map((r) => [r.uid, r]));
    const after = new Map(node.owners.map((r) => [r.uid, r]));
    for (const [ownerUid, ref] of before) {
      const now = after.get(ownerUid);
      if (now && !(ref.blockOwnerDeletion && !now.blockOwnerDeletion)) continue;
      if (!now) this.#dependents.get(ownerUid)?.delete(uid);
      // An owner waiting for its blocking dependents may now be free.
      const owner = this.nodes.get(ownerUid);
      if (owner && deletingDependents(owner)) out.attemptToDelete.push(ownerUid);
    }
    let newOwner = false;
    for (const ownerUid of after.keys()) {
      if (before.has(ownerUid)) continue;
      let set = this.#dependents.get(ownerUid);
      if (!set) this.#dependents.set(ownerUid, (set = new Set()));
      set.add(uid);
      newOwner = true;
    }
    // A dependent whose owner is not (yet) known: check whether it exists at all.
    if (newOwner && node.owners.some((r) => !this.nodes.has(r.uid))) out.attemptToDelete.push(uid);
    if (orphaningDependents(node) && !(prev && orphaningDependents(prev))) out.attemptToOrphan.push(uid);
    if (deletingDependents(node) && !(prev && deletingDependents(prev))) {
      for (const d of this.dependents(uid)) out.attemptToDelete.push(d.uid);
      out.attemptToDelete.push(uid);
    }
    return out;
  }

  /** Records a deleted object: its waiting owners and its dependents get another look. */
  remove(o: KubeObject): Changes {
    const uid = o.metadata.uid!;
    const node = this.nodes.get(uid);
    this.nodes.delete(uid);
    const out: Changes = { attemptToDelete: [], attemptToOrphan: [] };
    for (const r of node?.owners ?? o.metadata.ownerReferences ?? []) {
      this.#dependents.get(r.uid)?.delete(uid);
      if (this.#dependents.get(r.uid)?.size === 0 && !this.nodes.has(r.uid)) this.#dependents.delete(r.uid);
      const owner = this.nodes.get(r.uid);
      if (owner && deletingDependents(owner)) out.attemptToDelete.push(r.uid);
    }
    for (const d of this.#dependents.get(uid) ?? []) out.attemptToDelete.push(d);
    return out;
  }
}
