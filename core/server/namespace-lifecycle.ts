/**
 * @module Namespace lifecycle: the default namespaces exist at boot, and a
 * namespace marked for deletion (phase Terminating) is emptied — every
 * namespaced object in it deleted — and then removed. Level-based: it acts on
 * what it finds, so a restart mid-way simply continues.
 */
import { isApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import type { ResourceType, TypeRegistry } from "../api/registry.ts";
import type { Store } from "../store/types.ts";
import { Follower } from "./follow.ts";

export const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export class NamespaceLifecycle {
  #follower: Follower | undefined;
  /** Namespaces seen to exist and not be terminating. */
  readonly #active = new Set<string>();
  #running = new Set<string>();
  #stopped = false;

  constructor(
    private readonly store: Store,
    private readonly registry: TypeRegistry,
    private readonly namespaceType: ResourceType,
    /** Empty and remove terminating namespaces here (false when the namespace controller plugin does it). */
    private readonly finalize = true,
  ) {}

  /** Creates the default namespaces that are missing. */
  async bootstrap(): Promise<void> {
    for (const name of DEFAULT_NAMESPACES) {
      try {
        await this.store.create(this.namespaceType, {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
          spec: { finalizers: ["kubernetes"] },
          status: { phase: "Active" },
        });
      } catch (e) {
        if (!isApiError(e, "AlreadyExists")) throw e;
      }
    }
  }

  /** Starts watching; namespaces already terminating are finalized too. */
  start(): void {
    this.#active.clear();
    this.#follower = new Follower(this.store, this.namespaceType, (ev) => {
      if (ev.type === "BOOKMARK") return;
      const name = ev.object.metadata.name!;
      const terminating = ev.object.metadata.deletionTimestamp !== undefined;
      if (ev.type === "DELETED" || terminating) this.#active.delete(name);
      else this.#active.add(name);
      if (ev.type !== "DELETED" && terminating && this.finalize) this.#finalize(ev.object);
    });
    this.#follower.start();
  }

  /**
   * Whether `name` is known to exist and not be terminating, from the watch
   * (as kube-apiserver's NamespaceLifecycle admission uses its informer). A
   * false answer is not authoritative: callers check the store then.
   */
  isActive(name: string): boolean {
    return this.#active.has(name);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#follower?.stop();
  }

  #finalize(ns: KubeObject): void {
    const name = ns.metadata.name!;
    if (this.#running.has(name)) return;
    this.#running.add(name);
    void this.#empty(name).finally(() => this.#running.delete(name));
  }

  async #empty(name: string): Promise<void> {
    for (let round = 0; round < 100 && !this.#stopped; round++) {
      let remaining = 0;
      for (const t of this.registry.all()) {
        if (!t.namespaced) continue;
        const { items } = await this.store.list(t, { namespace: name });
        for (const item of items) {
          remaining++;
          const m = item.object.metadata;
          try {
            if ((m.finalizers?.length ?? 0) > 0) {
              if (!m.deletionTimestamp) await this.store.delete(t, name, m.name!, { graceful: { gracePeriodSeconds: 0 } });
            } else {
              await this.store.delete(t, name, m.name!);
            }
          } catch (e) {
            if (!isApiError(e, "NotFound")) throw e;
          }
        }
      }
      if (remaining === 0) {
        try {
          const cur = await this.store.get(this.namespaceType, "", name);
          if ((cur.object.metadata.finalizers?.length ?? 0) === 0) await this.store.delete(this.namespaceType, "", name);
        } catch (e) {
          if (!isApiError(e, "NotFound")) throw e;
        }
        return;
      }
      await new Promise((r) => setTimeout(r, 200 * Math.min(round + 1, 10)));
    }
  }
}
