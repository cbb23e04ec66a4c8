/**
 * @module The `namespace-controller` plugin: empties and removes namespaces
 * being deleted. Replaces the finalizing half of the kernel's inline
 * namespace lifecycle (core/server/namespace-lifecycle.ts). Design: ../README.md.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Informer } from "../../../core/client/types.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { NAMESPACES } from "../common/refs.ts";
import { type ControllerConfig, controllerPlugin } from "../common/runtime.ts";
import { NamespaceReconciler } from "./namespace-controller.ts";

export const NAME = "namespace-controller";
export { NamespaceReconciler } from "./namespace-controller.ts";

export function createNamespacePlugin(): Plugin<ControllerConfig> {
  return controllerPlugin<ControllerConfig>({
    name: NAME,
    description: "Deletes everything in a terminating namespace, then the namespace.",
    provides: ["controller:namespace"],
    component: NAME,
    defaultWorkers: 2,
    async run(term) {
      const namespaces = term.informers.informer<KubeObject>(NAMESPACES);
      await term.waitForSync(namespaces as Informer<never>);
      if (term.signal.aborted) return;
      const queue = term.controller(new NamespaceReconciler(term.client, namespaces as never, term.log));
      const enqueue = (ns: KubeObject) => {
        if (ns.metadata.deletionTimestamp) queue.enqueue(ns.metadata.name!);
      };
      term.on(namespaces, { add: enqueue, update: (_o, ns) => enqueue(ns) });
    },
  });
}

const plugin: Plugin<ControllerConfig> = createNamespacePlugin();
export default plugin;
