/**
 * @module Informers: `SharedInformerFactory` hands out one shared informer per
 * (resource, namespace, selectors), starts them together and waits for
 * their first lists. The informer itself is in `shared-informer.ts`.
 */
import type { KubeObject } from "../api/meta.ts";
import { type InformerOptions, type InformerSelection, SharedInformer } from "./shared-informer.ts";
import type { Client, InformerFactory, ResourceRef } from "./types.ts";

export { NAMESPACE_INDEX, type InformerOptions, type InformerSelection, type InformerTransform, SharedInformer } from "./shared-informer.ts";

/** Options every informer of a factory gets (selection comes per informer). */
export type InformerFactoryOptions = Omit<InformerOptions, keyof InformerSelection>;

export class SharedInformerFactory implements InformerFactory {
  readonly #client: Client;
  readonly #opts: InformerFactoryOptions;
  readonly #informers = new Map<string, SharedInformer<KubeObject>>();
  #state: "idle" | "running" | "stopped" = "idle";

  constructor(client: Client, opts: InformerFactoryOptions = {}) {
    this.#client = client;
    this.#opts = opts;
  }

  /**
   * The shared informer for this resource and selection (created on first
   * use; started at once if the factory is running). Every caller gets the
   * same instance and therefore the same cached objects.
   */
  informer<T extends KubeObject = KubeObject>(ref: ResourceRef, sel: InformerSelection = {}): SharedInformer<T> {
    const key = [ref.group, ref.version, ref.resource, sel.namespace ?? "", sel.labelSelector ?? "", sel.fieldSelector ?? "", sel.transform?.name ?? ""].join("|");
    let inf = this.#informers.get(key);
    if (!inf) {
      inf = new SharedInformer<KubeObject>(this.#client, ref, { ...this.#opts, ...sel });
      this.#informers.set(key, inf);
      if (this.#state === "running") inf.start();
      else if (this.#state === "stopped") void inf.stop(); // waitForSync rejects rather than hangs
    }
    return inf as unknown as SharedInformer<T>;
  }

  /** Starts every informer, and those asked for later. */
  start(): void {
    if (this.#state !== "idle") return;
    this.#state = "running";
    for (const inf of this.#informers.values()) inf.start();
  }

  /** Resolves once every informer created so far has listed. Rejects if one is stopped first. */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.waitForSync()));
  }

  /** Stops every informer (closing their watches). */
  async stop(): Promise<void> {
    this.#state = "stopped";
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
  }
}
