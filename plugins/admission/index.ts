/**
 * @module The built-in admission plugins, one per upstream admission plugin
 * (each enabled or disabled by name in skiff.yaml): node-restriction,
 * service-account, limit-ranger, resource-quota, pod-security. The chain
 * runs mutating steps in this order, then every validating step. Design:
 * README.md.
 */
import type { Plugin } from "../../core/plugin/types.ts";
import { createNodeRestrictionPlugin } from "./node-restriction/index.ts";
import { createServiceAccountAdmissionPlugin } from "./service-account/index.ts";
import { createPodSecurityPlugin } from "./pod-security/index.ts";
import { createLimitRangerPlugin } from "./limit-ranger/index.ts";
import { createResourceQuotaControllerPlugin, createResourceQuotaPlugin } from "./resource-quota/index.ts";

export { createNodeRestrictionPlugin } from "./node-restriction/index.ts";
export { createServiceAccountAdmissionPlugin } from "./service-account/index.ts";
export { createPodSecurityPlugin } from "./pod-security/index.ts";
export { createLimitRangerPlugin } from "./limit-ranger/index.ts";
export { createResourceQuotaControllerPlugin, createResourceQuotaPlugin } from "./resource-quota/index.ts";

/** Fresh instances of every built-in admission plugin, in chain order. */
export function admissionPlugins(): Plugin<never>[] {
  return [
    createNodeRestrictionPlugin(),
    createServiceAccountAdmissionPlugin(),
    createLimitRangerPlugin(),
    createPodSecurityPlugin(),
    createResourceQuotaPlugin(),
    createResourceQuotaControllerPlugin(),
  ] as Plugin<never>[];
}
