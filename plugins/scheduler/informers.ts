/**
 * @module Feeds the scheduler from shared informers (PriorityClasses,
 * Namespaces, Nodes, Pods). Pods that arrive before their node are kept on
 * a placeholder node until it does.
 */
import type { KubeObject } from "../../core/api/meta.ts";
import type { InformerFactory, ResourceRef } from "../../core/client/types.ts";
import { PODS } from "./plugins/default-binder.ts";
import type { Scheduler } from "./scheduler.ts";

export const NODES: ResourceRef = { group: "", version: "v1", resource: "nodes", namespaced: false };
export const NAMESPACES: ResourceRef = { group: "", version: "v1", resource: "namespaces", namespaced: false };
export const PRIORITY_CLASSES: ResourceRef = { group: "scheduling.k8s.io", version: "v1", resource: "priorityclasses", namespaced: false };

/**
 * Registers the scheduler's handlers; resolves once every informer has
 * synced. PriorityClasses come first (pods' priorities are resolved as they
 * arrive); nodes, namespaces and pods then list in parallel. The scheduling
 * loop must not start before this resolves.
 */
export async function wireInformers(s: Scheduler, factory: InformerFactory): Promise<void> {
  const pcs = factory.informer(PRIORITY_CLASSES);
  pcs.on({ add: (o) => s.onPriorityClass(o), update: (_o, n) => s.onPriorityClass(n), delete: (o) => s.onPriorityClass(o, true) });
  await pcs.waitForSync();
  const nss = factory.informer(NAMESPACES);
  nss.on({ add: (o) => s.onNamespace(o), update: (_o, n) => s.onNamespace(n), delete: (o) => s.onNamespace(o, true) });
  const nodes = factory.informer(NODES);
  nodes.on({ add: (o) => s.onNodeAdd(o), update: (_o, n) => s.onNodeUpdate(n), delete: (o) => s.onNodeDelete(o) });
  const pods = factory.informer<KubeObject>(PODS);
  pods.on({ add: (o) => s.onPodAdd(o), update: (o, n) => s.onPodUpdate(o, n), delete: (o) => s.onPodDelete(o) });
  await Promise.all([nss.waitForSync(), nodes.waitForSync(), pods.waitForSync()]);
}
