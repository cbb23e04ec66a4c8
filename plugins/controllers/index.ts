/**
 * @module The built-in controllers, each a plugin of its own (enable or
 * disable them one by one in skiff.yaml): replicaset-controller (ReplicaSets
 * and ReplicationControllers), deployment-controller, garbage-collector,
 * namespace-controller, event-ttl-controller, endpoints-controller and
 * endpointslice-controller (a Service's pods as Endpoints and
 * EndpointSlices). Every one runs under leader election on its own Lease in
 * kube-system. Design: README.md.
 */
import type { Plugin } from "../../core/plugin/types.ts";
import { createDeploymentPlugin } from "./deployment/index.ts";
import { createEndpointsPlugin } from "./endpoints/index.ts";
import { createEndpointSlicePlugin } from "./endpointslice/index.ts";
import { createEventTtlPlugin } from "./event-ttl/index.ts";
import { createGarbageCollectorPlugin } from "./garbage-collector/index.ts";
import { createNamespacePlugin } from "./namespace/index.ts";
import { createReplicaSetPlugin } from "./replicaset/index.ts";

export { createDeploymentPlugin } from "./deployment/index.ts";
export { createEndpointsPlugin } from "./endpoints/index.ts";
export { createEndpointSlicePlugin } from "./endpointslice/index.ts";
export { createEventTtlPlugin } from "./event-ttl/index.ts";
export { createGarbageCollectorPlugin } from "./garbage-collector/index.ts";
export { createNamespacePlugin } from "./namespace/index.ts";
export { createReplicaSetPlugin } from "./replicaset/index.ts";
export { type ControllerConfig, controllerPlugin } from "./common/runtime.ts";
export { LeaderElector } from "./common/leader-election.ts";

/** Fresh instances of every built-in controller plugin. */
export function controllerPlugins(): Plugin<never>[] {
  return [
    createReplicaSetPlugin(),
    createDeploymentPlugin(),
    createGarbageCollectorPlugin(),
    createNamespacePlugin(),
    createEventTtlPlugin(),
    createEndpointsPlugin(),
    createEndpointSlicePlugin(),
  ] as Plugin<never>[];
}
