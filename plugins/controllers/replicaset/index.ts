/**
 * @module The `replicaset-controller` plugin: keeps `spec.replicas` pods for
 * every ReplicaSet (apps/v1) and ReplicationController (v1) — one reconciler
 * per kind over one shared pod informer, as kube-controller-manager runs
 * them. Design: ../README.md.
 */
import { keyOf } from "../../../core/client/keys.ts";
import type { Informer } from "../../../core/client/types.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { Expectations } from "../common/expectations.ts";
import { CONTROLLER_UID_INDEX, ensureIndex, ORPHANS_INDEX } from "../common/informers.ts";
import { controllerRefOf } from "../common/owner-refs.ts";
import { type Pod, PODS, type ReplicaOwner } from "../common/refs.ts";
import { type ControllerConfig, controllerPlugin, type Term } from "../common/runtime.ts";
import { BURST_REPLICAS, REPLICA_SET_KIND, type ReplicaKind, ReplicaReconciler, REPLICATION_CONTROLLER_KIND } from "./replica-set-controller.ts";

export const NAME = "replicaset-controller";
export { BURST_REPLICAS, REPLICA_SET_KIND, type ReplicaKind, ReplicaReconciler, REPLICATION_CONTROLLER_KIND } from "./replica-set-controller.ts";

export interface ReplicaSetControllerConfig extends ControllerConfig {
  /** Most pods created or deleted per owner per round (upstream burstReplicas). */
  burstReplicas: number;
}

/** Wires one kind: owner and pod events → owner keys; expectations observed on the way. */
async function runKind(term: Term<ReplicaSetControllerConfig>, kind: ReplicaKind, pods: Informer<Pod>): Promise<void> {
  const owners = term.informers.informer<ReplicaOwner>(kind.ref);
  ensureIndex(owners, CONTROLLER_UID_INDEX);
  await term.waitForSync(owners as Informer<never>, pods as Informer<never>);
  if (term.signal.aborted) return;
  const expectations = new Expectations();
  const reconciler = new ReplicaReconciler({
    client: term.client,
    events: term.events,
    log: term.log,
    kind,
    owners,
    pods,
    expectations,
    burstReplicas: term.config.burstReplicas,
  });
  const queue = term.controller(reconciler);

  const resolve = (p: Pod): string | undefined => {
    const ref = controllerRefOf(p);
    if (!ref || ref.kind !== kind.kind) return undefined;
    const o = owners.get(ref.name, p.metadata.namespace);
    return o && o.metadata.uid === ref.uid ? keyOf(o) : undefined;
  };
  const enqueueMatching = (p: Pod) => {
    for (const o of owners.list(p.metadata.namespace ?? "")) if (kind.selector(o).matches(p.metadata.labels)) queue.enqueue(keyOf(o));
  };
  const podGone = (p: Pod) => {
    const key = resolve(p);
    if (!key) return;
    expectations.deletionObserved(key, p.metadata.uid!);
    queue.enqueue(key);
  };

  term.on(owners, {
    add: (o) => queue.enqueue(keyOf(o)),
    update: (_old, o) => queue.enqueue(keyOf(o)),
    delete: (o) => {
      expectations.delete(keyOf(o));
      queue.enqueue(keyOf(o));
    },
  });
  term.on(pods, {
    add(p) {
      if (p.metadata.deletionTimestamp !== undefined) return podGone(p);
      if (controllerRefOf(p)) {
        const key = resolve(p);
        if (!key) return;
        expectations.creationObserved(key);
        queue.enqueue(key);
        return;
      }
      enqueueMatching(p);
    },
    update(old, cur) {
      const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(cur.metadata.labels ?? {});
      if (cur.metadata.deletionTimestamp !== undefined) {
        podGone(cur);
        if (labelsChanged) podGone(old);
        return;
      }
      const oldRef = controllerRefOf(old);
      const curRef = controllerRefOf(cur);
      const refChanged = oldRef?.uid !== curRef?.uid;
      if (refChanged && oldRef) {
        const key = resolve(old);
        if (key) queue.enqueue(key);
      }
      if (curRef) {
        const key = resolve(cur);
        if (key) queue.enqueue(key);
        return;
      }
      if (labelsChanged || refChanged) enqueueMatching(cur);
    },
    delete: podGone,
  });
}

/** A fresh plugin object (tests and embedders running several kernels want their own). */
export function createReplicaSetPlugin(): Plugin<ReplicaSetControllerConfig> {
  return controllerPlugin<ReplicaSetControllerConfig>({
    name: NAME,
    description: "Keeps the desired number of pods for ReplicaSets and ReplicationControllers.",
    provides: ["controller:replicaset", "controller:replicationcontroller"],
    component: NAME,
    defaultWorkers: 5,
    configProperties: { burstReplicas: { type: "integer", minimum: 1, default: BURST_REPLICAS } },
    async run(term) {
      const pods = term.informers.informer<Pod>(PODS);
      ensureIndex(pods, CONTROLLER_UID_INDEX);
      ensureIndex(pods, ORPHANS_INDEX);
      term.config.burstReplicas ??= BURST_REPLICAS;
      await Promise.all([runKind(term, REPLICA_SET_KIND, pods), runKind(term, REPLICATION_CONTROLLER_KIND, pods)]);
    },
  });
}

const plugin: Plugin<ReplicaSetControllerConfig> = createReplicaSetPlugin();
export default plugin;
