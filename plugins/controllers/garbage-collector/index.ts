/**
 * @module The `garbage-collector` plugin: cascading deletion by
 * ownerReferences (Background, Foreground, Orphan) over every resource it
 * can discover, watched by informers into an ownership graph. Replaces the
 * kernel's inline collector (core/server/garbage-collector.ts). Design:
 * ../README.md.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Informer } from "../../../core/client/types.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { crdResources, discoverAll, KindMap, type ResourceInfo } from "../common/discovery.ts";
import { CRDS } from "../common/refs.ts";
import { type ControllerConfig, controllerPlugin, type Queue, type Term } from "../common/runtime.ts";
import { GarbageCollectorReconciler } from "./garbage-collector.ts";
import { type Changes, Graph } from "./graph.ts";

export const NAME = "garbage-collector";
export { GarbageCollectorReconciler } from "./garbage-collector.ts";
export { Graph } from "./graph.ts";

/** Kinds never watched: nothing owns Events and they are by far the most numerous objects. */
const NOT_WATCHED = new Set(["events"]);

function feed(queue: Queue, c: Changes): void {
  for (const uid of c.attemptToDelete) queue.enqueue(`d/${uid}`);
  for (const uid of c.attemptToOrphan) queue.enqueue(`o/${uid}`);
}

/** Watches one resource into the graph. */
function monitor(term: Term, graph: Graph, queue: Queue, info: ResourceInfo): Informer<KubeObject> {
  const inf = term.informers.informer(info.ref);
  term.on(inf, {
    add: (o) => feed(queue, graph.upsert(info, o)),
    update: (_old, o) => feed(queue, graph.upsert(info, o)),
    delete: (o) => feed(queue, graph.remove(o)),
  });
  return inf;
}

export function createGarbageCollectorPlugin(): Plugin<ControllerConfig> {
  return controllerPlugin<ControllerConfig>({
    name: NAME,
    description: "Deletes objects whose owners are gone; Foreground and Orphan cascading deletion.",
    provides: ["controller:garbage-collector"],
    serviceAccount: "generic-garbage-collector",
    component: NAME,
    defaultWorkers: 4,
    async run(term) {
      const all = await discoverAll(term.client);
      const seen = new Set<string>();
      const resources = all.filter((r) => {
        const key = `${r.ref.group}/${r.ref.resource}`;
        if (seen.has(key) || NOT_WATCHED.has(r.ref.resource)) return false;
        seen.add(key);
        return true;
      });
      const kinds = new KindMap(all);
      const informers = resources.map((r) => term.informers.informer(r.ref));
      await term.waitForSync(...(informers as Informer<never>[]));
      if (term.signal.aborted) return;
      const graph = new Graph();
      const queue = term.controller(new GarbageCollectorReconciler(term.client, graph, kinds, term.log));
      // No await from here on until every monitor is registered: the graph is
      // complete (from the caches) before the first key is processed.
      const watched = new Set<string>();
      for (const r of resources) {
        watched.add(`${r.ref.group}/${r.ref.resource}`);
        monitor(term, graph, queue, r);
      }
      // Owners gone before we started: look at every dependent once.
      for (const n of graph.nodes.values()) {
        if (n.owners.length > 0 || n.deleting) queue.enqueue(`d/${n.uid}`);
        if (n.deleting && n.finalizers.includes("orphan")) queue.enqueue(`o/${n.uid}`);
      }
      // CustomResourceDefinitions added later are watched as they appear.
      term.on(term.informers.informer(CRDS), {
        add(crd) {
          for (const r of crdResources(crd)) kinds.add(r);
          const first = crdResources(crd)[0];
          if (!first || watched.has(`${first.ref.group}/${first.ref.resource}`)) return;
          watched.add(`${first.ref.group}/${first.ref.resource}`);
          monitor(term, graph, queue, first);
        },
      });
    },
  });
}

const plugin: Plugin<ControllerConfig> = createGarbageCollectorPlugin();
export default plugin;
