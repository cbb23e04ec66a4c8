/**
 * @module The informers one plugin run sees: the process's shared informers,
 * with the handlers it registers removed when the run stops (so a restarted
 * plugin does not leave its old handlers attached), and index names scoped
 * to the plugin (two plugins may both call an index "service"; a restarted
 * plugin adding its index again keeps the existing one).
 */
import type { KubeObject } from "../api/meta.ts";
import type { Informer, InformerFactory, InformerHandlers, ResourceRef } from "../client/types.ts";

export class ScopedInformers implements InformerFactory {
  readonly #off: (() => void)[] = [];

  constructor(
    private readonly shared: InformerFactory,
    private readonly scope: string,
  ) {}

  informer<T extends KubeObject = KubeObject>(ref: ResourceRef, opts?: { namespace?: string; labelSelector?: string; fieldSelector?: string }): Informer<T> {
    const inner = this.shared.informer<T>(ref, opts);
    const scoped = (name: string) => `${this.scope}/${name}`;
    const off = this.#off;
    return {
      get ref() {
        return inner.ref;
      },
      get resourceVersion() {
        return inner.resourceVersion;
      },
      on(handlers: InformerHandlers<T>) {
        const remove = inner.on(handlers);
        off.push(remove);
        return remove;
      },
      addIndex(name, fn) {
        if (!inner.hasIndex(scoped(name))) inner.addIndex(scoped(name), fn);
      },
      hasIndex: (name) => inner.hasIndex(scoped(name)),
      byIndex: (name, value) => inner.byIndex(scoped(name), value),
      getByKey: (key) => inner.getByKey(key),
      get: (name, namespace) => inner.get(name, namespace),
      list: (namespace) => inner.list(namespace),
      hasSynced: () => inner.hasSynced(),
      waitForSync: () => inner.waitForSync(),
    };
  }

  /** The shared factory runs for the whole process; a plugin cannot start or stop it. */
  start(): void {}

  waitForSync(): Promise<void> {
    return this.shared.waitForSync();
  }

  async stop(): Promise<void> {
    this.release();
  }

  /** Removes every handler this scope registered. */
  release(): void {
    for (const off of this.#off.splice(0)) off();
  }
}
