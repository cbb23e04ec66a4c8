/**
 * @module The `pod-security` admission plugin: the Pod Security Standards
 * (privileged, baseline, restricted) enforced, warned about and audited per
 * namespace by its `pod-security.kubernetes.io/*` labels. See admission.ts
 * and policy.ts.
 */
import type { KubeObject } from "../../../core/api/meta.ts";
import { admissionPlugin, NAMESPACES } from "../common.ts";
import { DEFAULT_CONFIG, PodSecurityAdmission, type PodSecurityConfig } from "./admission.ts";

export const NAME = "pod-security";
export * from "./admission.ts";
export { evaluatePod, formatResults, type Level } from "./policy.ts";

const level = { type: "string", enum: ["privileged", "baseline", "restricted"] };
const version = { type: "string", pattern: "^(latest|v1\\.(0|[1-9][0-9]*))$" };
const names = { type: "array", items: { type: "string" }, default: [] };

export function createPodSecurityPlugin() {
  return admissionPlugin<PodSecurityConfig>({
    name: NAME,
    description: "PodSecurity admission: Pod Security Standards per namespace (enforce, warn, audit labels).",
    configSchema: {
      type: "object",
      additionalProperties: false,
      properties: {
        defaults: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: {
            enforce: { ...level, default: "privileged" },
            "enforce-version": { ...version, default: "latest" },
            audit: { ...level, default: "privileged" },
            "audit-version": { ...version, default: "latest" },
            warn: { ...level, default: "privileged" },
            "warn-version": { ...version, default: "latest" },
          },
        },
        exemptions: {
          type: "object",
          additionalProperties: false,
          default: {},
          properties: { usernames: names, namespaces: names, runtimeClasses: names },
        },
      },
    },
    steps: ({ client, informers, config }) => [
      new PodSecurityAdmission(client, informers.informer<KubeObject>(NAMESPACES), {
        defaults: { ...DEFAULT_CONFIG.defaults, ...config?.defaults },
        exemptions: { ...DEFAULT_CONFIG.exemptions, ...config?.exemptions },
      }),
    ],
  });
}
