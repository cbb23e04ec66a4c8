/**
 * @module Garbage collection by ownerReferences, as Kubernetes does it:
 * - Background: once every owner of an object is gone, the object is deleted.
 * - Foreground (`foregroundDeletion` finalizer on the owner): dependents are
 *   deleted first; the owner goes once none that block it (blockOwnerDeletion)
 *   remain.
 * - Orphan (`orphan` finalizer): the owner's references are removed from its
 *   dependents, then the owner goes.
 * Level-based: it keeps an index of every object's uid and owners, fed by
 * watches on every type, and acts on what the index says. Dependents whose
 * owner was already gone at startup are collected too.
 */
import { isApiError } from "../api/errors.ts";
import type { KubeObject, OwnerReference } from "../api/meta.ts";
import type { ResourceType, TypeRegistry } from "../api/registry.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/types.ts";
import { Follower } from "./follow.ts";

interface Node {
  type: ResourceType;
  ns: string;
  name: string;
  owners: OwnerReference[];
  deleting: boolean;
  finalizers: string[];
}

const ORPHAN = "orphan";
const FOREGROUND = "foregroundDeletion";

export class GarbageCollector {
  readonly #nodes = new Map<string, Node>();
  readonly #dependents = new Map<string, Set<string>>();
  readonly #watches = new Map<string, Follower>();
  readonly #queue = new Set<string>();
  #draining = false;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;
  /** uids seen deleted, so a dependent referencing them is known orphaned. */
  readonly #gone = new Set<string>();
  /** Types whose initial list has been fully indexed. */
  readonly #synced = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly registry: TypeRegistry,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.#sync();
    this.#unsubscribe = this.registry.onChange(() => this.#sync());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    await Promise.all([...this.#watches.values()].map((w) => w.stop()));
    this.#watches.clear();
  }

  /** Watches every registered type (new CRDs included). */
  #sync(): void {
    const keys = new Set<string>();
    for (const t of this.registry.all()) {
      if (keys.has(t.key)) continue;
      keys.add(t.key);
      if (!this.#watches.has(t.key)) this.#watchType(t);
    }
    for (const [k, w] of this.#watches) {
      if (!keys.has(k)) {
        void w.stop();
        this.#watches.delete(k);
        this.#synced.delete(k);
      }
    }
  }

  #watchType(type: ResourceType): void {
    const f = new Follower(
      this.store,
      type,
      (ev) => {
        if (ev.type === "BOOKMARK") {
          if (ev.object.metadata.annotations?.["k8s.io/initial-events-end"] === "true") {
            this.#synced.add(type.key);
            for (const uid of this.#nodes.keys()) this.#enqueue(uid);
          }
        } else if (ev.type === "DELETED") this.#remove(ev.object);
        else this.#upsert(type, ev.object);
      },
      {
        bookmarks: true,
        retryMs: 500,
        onError: (e) => {
          this.#synced.delete(type.key);
          this.log.warn({ resource: type.key, err: (e as Error).message }, "watch ended; restarting");
        },
      },
    );
    this.#watches.set(type.key, f);
    f.start();
  }

  #upsert(type: ResourceType, o: KubeObject): void {
    const uid = o.metadata.uid!;
    const prev = this.#nodes.get(uid);
    for (const r of prev?.owners ?? []) this.#dependents.get(r.uid)?.delete(uid);
    const node: Node = {
      type,
      ns: o.metadata.namespace ?? "",
      name: o.metadata.name!,
      owners: o.metadata.ownerReferences ?? [],
      deleting: o.metadata.deletionTimestamp !== undefined,
      finalizers: o.metadata.finalizers ?? [],
    };
    this.#nodes.set(uid, node);
    for (const r of node.owners) {
      let set = this.#dependents.get(r.uid);
      if (!set) this.#dependents.set(r.uid, (set = new Set()));
      set.add(uid);
    }
    if (node.deleting && (node.finalizers.includes(ORPHAN) || node.finalizers.includes(FOREGROUND))) this.#enqueue(uid);
    if (node.owners.length > 0) this.#enqueue(uid);
    // A dependent that was blocking a foreground deletion changed: look at its owners again.
    for (const r of node.owners) if (this.#nodes.get(r.uid)?.deleting) this.#enqueue(r.uid);
  }

  #remove(o: KubeObject): void {
    const uid = o.metadata.uid!;
    const node = this.#nodes.get(uid);
    this.#nodes.delete(uid);
    this.#gone.add(uid);
    for (const r of node?.owners ?? []) {
      this.#dependents.get(r.uid)?.delete(uid);
      if (this.#nodes.get(r.uid)?.deleting) this.#enqueue(r.uid);
    }
    for (const dep of this.#dependents.get(uid) ?? []) this.#enqueue(dep);
  }

  #enqueue(uid: string): void {
    this.#queue.add(uid);
    if (!this.#draining) {
      this.#draining = true;
      setTimeout(() => void this.#drain(), 0);
    }
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.size > 0 && !this.#stopped) {
        const uid = this.#queue.values().next().value as string;
        this.#queue.delete(uid);
        try {
          await this.#process(uid);
        } catch (e) {
          if (!isApiError(e, "NotFound") && !isApiError(e, "Conflict")) {
            this.log.warn({ uid, err: (e as Error).message }, "garbage collection failed; will retry");
            setTimeout(() => this.#enqueue(uid), 1000);
          }
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Whether every initial list has been seen (before that, a missing owner may just not be indexed yet). */
  #ready(): boolean {
    for (const k of this.#watches.keys()) if (!this.#synced.has(k)) return false;
    return true;
  }

  async #process(uid: string): Promise<void> {
    const node = this.#nodes.get(uid);
    if (!node) return;
    if (node.deleting && node.finalizers.includes(ORPHAN)) {
      for (const dep of [...(this.#dependents.get(uid) ?? [])]) {
        const d = this.#nodes.get(dep);
        if (!d) continue;
        await this.store.guaranteedUpdate(d.type, d.ns, d.name, (o) => {
          const refs = (o.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
          if (refs.length === 0) delete o.metadata.ownerReferences;
          else o.metadata.ownerReferences = refs;
          return o;
        });
      }
      await this.#dropFinalizer(node, ORPHAN);
      return;
    }
    if (node.deleting && node.finalizers.includes(FOREGROUND)) {
      let blocking = 0;
      for (const dep of [...(this.#dependents.get(uid) ?? [])]) {
        const d = this.#nodes.get(dep);
        if (!d) continue;
        if (d.owners.some((r) => r.uid === uid && r.blockOwnerDeletion)) blocking++;
        if (!d.deleting) {
          await this.store
            .delete(d.type, d.ns, d.name, { graceful: { gracePeriodSeconds: 0, finalizers: [FOREGROUND] } })
            .catch((e: unknown) => {
              if (!isApiError(e, "NotFound")) throw e;
            });
        }
      }
      if (blocking === 0) await this.#dropFinalizer(node, FOREGROUND);
      return;
    }
    // Background: an object whose owners are all gone is deleted.
    if (node.owners.length > 0 && !node.deleting && this.#ready()) {
      const alive = node.owners.some((r) => {
        const owner = this.#nodes.get(r.uid);
        return owner !== undefined && !(owner.deleting && owner.finalizers.includes(ORPHAN));
      });
      const allGone = node.owners.every((r) => this.#gone.has(r.uid) || !this.#nodes.has(r.uid));
      if (!alive && allGone) {
        await this.store.delete(node.type, node.ns, node.name).catch((e: unknown) => {
          if (!isApiError(e, "NotFound")) throw e;
        });
      }
    }
  }

  async #dropFinalizer(node: Node, finalizer: string): Promise<void> {
    await this.store.guaranteedUpdate(node.type, node.ns, node.name, (o) => ({
      ...o,
      metadata: { ...o.metadata, finalizers: (o.metadata.finalizers ?? []).filter((f) => f !== finalizer) },
    }));
  }
}
