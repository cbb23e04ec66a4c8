/**
 * @module The `deployment-controller` plugin: rolls Deployments out through
 * ReplicaSets (RollingUpdate and Recreate), with revisions, rollback by
 * template, pause/resume, proportional scaling and progress deadlines.
 * Design: ../README.md.
 */
import { keyOf } from "../../../core/client/keys.ts";
import type { Informer } from "../../../core/client/types.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { CONTROLLER_UID_INDEX, ensureIndex, ORPHANS_INDEX } from "../common/informers.ts";
import { controllerRefOf } from "../common/owner-refs.ts";
import { type Deployment, DEPLOYMENTS, type Pod, PODS, REPLICA_SETS, type ReplicaSet } from "../common/refs.ts";
import { type ControllerConfig, controllerPlugin } from "../common/runtime.ts";
import { selectorOf } from "../common/selectors.ts";
import { DeploymentReconciler } from "./deployment-controller.ts";

export const NAME = "deployment-controller";
export { DeploymentReconciler } from "./deployment-controller.ts";

export function createDeploymentPlugin(): Plugin<ControllerConfig> {
  return controllerPlugin<ControllerConfig>({
    name: NAME,
    description: "Rolls Deployments out through ReplicaSets: rolling update and recreate, rollback, pause, progress deadlines.",
    provides: ["controller:deployment"],
    component: NAME,
    defaultWorkers: 5,
    async run(term) {
      const deployments = term.informers.informer<Deployment>(DEPLOYMENTS);
      const replicaSets = term.informers.informer<ReplicaSet>(REPLICA_SETS);
      const pods = term.informers.informer<Pod>(PODS);
      ensureIndex(replicaSets, CONTROLLER_UID_INDEX);
      ensureIndex(replicaSets, ORPHANS_INDEX);
      ensureIndex(pods, CONTROLLER_UID_INDEX);
      await term.waitForSync(deployments as Informer<never>, replicaSets as Informer<never>, pods as Informer<never>);
      if (term.signal.aborted) return;
      const queue = term.controller(new DeploymentReconciler({ client: term.client, events: term.events, log: term.log, deployments, replicaSets, pods }));

      const ownerKey = (o: ReplicaSet): string | undefined => {
        const ref = controllerRefOf(o);
        if (!ref || ref.kind !== "Deployment") return undefined;
        const d = deployments.get(ref.name, o.metadata.namespace);
        return d && d.metadata.uid === ref.uid ? keyOf(d) : undefined;
      };
      const enqueueMatching = (rs: ReplicaSet) => {
        for (const d of deployments.list(rs.metadata.namespace ?? "")) if (selectorOf(d, d.spec?.selector).matches(rs.metadata.labels)) queue.enqueue(keyOf(d));
      };
      const rsChanged = (rs: ReplicaSet) => {
        const key = ownerKey(rs);
        if (key) queue.enqueue(key);
        else if (!controllerRefOf(rs)) enqueueMatching(rs);
      };

      term.on(deployments, {
        add: (d) => queue.enqueue(keyOf(d)),
        update: (_o, d) => queue.enqueue(keyOf(d)),
        delete: (d) => queue.enqueue(keyOf(d)),
      });
      term.on(replicaSets, {
        add: rsChanged,
        update(old, cur) {
          const oldRef = controllerRefOf(old);
          if (oldRef && oldRef.uid !== controllerRefOf(cur)?.uid) {
            const key = ownerKey(old);
            if (key) queue.enqueue(key);
          }
          if (controllerRefOf(cur)) rsChanged(cur);
          else if (JSON.stringify(old.metadata.labels) !== JSON.stringify(cur.metadata.labels) || oldRef) enqueueMatching(cur);
        },
        delete: (rs) => {
          const key = ownerKey(rs);
          if (key) queue.enqueue(key);
        },
      });
      // Recreate waits for the old pods to be gone: a pod's deletion may be what it waits for.
      term.on(pods, {
        delete(p) {
          const ref = controllerRefOf(p);
          if (!ref || ref.kind !== "ReplicaSet") return;
          const rs = replicaSets.get(ref.name, p.metadata.namespace);
          if (!rs || rs.metadata.uid !== ref.uid) return;
          const key = ownerKey(rs);
          const d = key ? deployments.getByKey(key) : undefined;
          if (d && d.spec?.strategy?.type === "Recreate") queue.enqueue(key!);
        },
      });
    },
  });
}

const plugin: Plugin<ControllerConfig> = createDeploymentPlugin();
export default plugin;
