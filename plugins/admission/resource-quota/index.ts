/**
 * @module The `resource-quota` admission plugin (refuses creates beyond a
 * ResourceQuota's `hard`, charging `status.used` optimistically) and the
 * `resourcequota-controller` plugin (keeps `status` current). See
 * admission.ts, controller.ts and usage.ts.
 */
import { admissionPlugin, RESOURCE_QUOTAS } from "../common.ts";
import { ResourceQuotaAdmission } from "./admission.ts";

export const NAME = "resource-quota";
export { ResourceQuotaAdmission } from "./admission.ts";
export { createResourceQuotaControllerPlugin, CONTROLLER_NAME, computeUsage, ResourceQuotaReconciler } from "./controller.ts";
export * from "./usage.ts";

export function createResourceQuotaPlugin() {
  return admissionPlugin({
    name: NAME,
    description: "ResourceQuota admission: refuses creates that would exceed a quota, and charges it.",
    steps: ({ client, informers }) => [new ResourceQuotaAdmission(client, informers.informer(RESOURCE_QUOTAS))],
  });
}
