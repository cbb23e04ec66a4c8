/**
 * @module An example replacement scheduler: binds each pending pod to the
 * schedulable node that has the fewest pods (ties by name). It provides the
 * `scheduler` capability, so with the default scheduler disabled it takes its
 * place:
 *
 * ```yaml
 * plugins:
 *   scheduler: { enabled: false }     # the built-in one
 * ```
 *
 * It is deliberately small — no resources, affinity or taints — to show the
 * shape of a scheduler plugin: informers for pods and nodes, a work queue, and
 * `pods/binding` through the client. Only types are imported from skiff.
 */
import type { KubeObject, Plugin, ResourceRef } from "../../../index.ts";

interface Pod extends KubeObject {
  spec?: { nodeName?: string; schedulerName?: string };
}
interface Node extends KubeObject {
  spec?: { unschedulable?: boolean };
}

const pods: ResourceRef = { group: "", version: "v1", resource: "pods" };
const nodes: ResourceRef = { group: "", version: "v1", resource: "nodes", namespaced: false };

const plugin: Plugin<{ schedulerName: string }> = {
  manifest: {
    name: "simple-scheduler",
    version: "1.0.0",
    description: "Fewest-pods placement (example replacement for the default scheduler)",
    provides: ["scheduler"],
    roles: ["server"],
    configSchema: {
      additionalProperties: false,
      properties: { schedulerName: { type: "string", minLength: 1, default: "default-scheduler" } },
    },
  },
  start(ctx) {
    const podInformer = ctx.informers.informer<Pod>(pods);
    const nodeInformer = ctx.informers.informer<Node>(nodes);
    podInformer.addIndex("node", (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
    const pending = (p: Pod) =>
      !p.spec?.nodeName && !p.metadata.deletionTimestamp && (p.spec?.schedulerName ?? "default-scheduler") === ctx.config.schedulerName;
    const queue = ctx.controller({
      name: "simple-scheduler",
      async reconcile(key) {
        const [namespace, name] = key.split("/") as [string, string];
        const pod = podInformer.get(name, namespace);
        if (!pod || !pending(pod)) return;
        const candidates = nodeInformer.list().filter((n) => !n.spec?.unschedulable);
        if (candidates.length === 0) return { requeueAfter: 1000 };
        candidates.sort((a, b) => podInformer.byIndex("node", a.metadata.name!).length - podInformer.byIndex("node", b.metadata.name!).length || a.metadata.name!.localeCompare(b.metadata.name!));
        const node = candidates[0]!.metadata.name!;
        await ctx.client.createSubresource(pods, name, "binding", {
          apiVersion: "v1",
          kind: "Binding",
          metadata: { name, namespace },
          target: { apiVersion: "v1", kind: "Node", name: node },
        }, { namespace });
        ctx.events.record(pod, "Normal", "Scheduled", `Successfully assigned ${namespace}/${name} to ${node} by simple-scheduler`);
      },
    });
    const enqueue = (p: Pod) => {
      if (pending(p)) queue.enqueue(`${p.metadata.namespace}/${p.metadata.name}`);
    };
    podInformer.on({ add: enqueue, update: (_o, p) => enqueue(p) });
    // A new node may fit pods that waited for one.
    nodeInformer.on({ add: () => podInformer.list().forEach(enqueue) });
  },
};

export default plugin;
