/** @module DefaultBinder: binds through the `pods/binding` subresource, as kube-scheduler. */
import type { KubeObject } from "../../../core/api/meta.ts";
import type { ResourceRef } from "../../../core/client/types.ts";
import type { BindPlugin, CycleState, PodInfo, SchedulerHandle, StatusResult } from "../../../core/plugin/scheduler-framework.ts";
import { errorStatus } from "../framework/status.ts";

export const DEFAULT_BINDER = "DefaultBinder";
export const PODS: ResourceRef = { group: "", version: "v1", resource: "pods" };

export function defaultBinder(handle: SchedulerHandle): BindPlugin {
  return {
    name: DEFAULT_BINDER,
    async bind(_state: CycleState, pod: PodInfo, nodeName: string): Promise<StatusResult> {
      const binding: KubeObject = {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
        target: { apiVersion: "v1", kind: "Node", name: nodeName },
      };
      try {
        await handle.client.createSubresource(PODS, pod.name, "binding", binding, { namespace: pod.namespace });
        return undefined;
      } catch (e) {
        return errorStatus(`binding rejected: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  };
}
