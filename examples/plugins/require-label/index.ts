/**
 * @module An out-of-tree Skiff admission plugin: objects of the configured
 * resources (default: pods and deployments) must carry a label (default
 * `team`) in namespaces that opt in with the label
 * `require-label.example.skiff.dev/enforce: "true"` (so system namespaces
 * keep working). Creates and updates without it are refused with 403
 * Forbidden. Install it with
 * `skiff plugins add ./examples/plugins/require-label`; configure it in
 * skiff.yaml:
 *
 * ```yaml
 * plugins:
 *   require-label: { config: { label: team, resources: [pods, deployments.apps] } }
 * ```
 *
 * It imports only types from Skiff: the token table arrives as `register`'s
 * third argument, and it refuses with an error carrying a Kubernetes Status
 * (`status: { kind: "Status", reason: "Forbidden", … }`), which the
 * admission chain returns to the client as is.
 */
import type { DependencyContainer } from "tsyringe";
import type { Admission, AdmissionRequest, Plugin } from "../../../core/plugin/types.ts";
import type { Client, ResourceRef } from "../../../core/client/types.ts";

export const NAME = "require-label";
export const OPT_IN = "require-label.example.skiff.dev/enforce";
const NAMESPACES: ResourceRef = { group: "", version: "v1", resource: "namespaces", namespaced: false };

export interface RequireLabelConfig {
  label: string;
  resources: string[];
}

type Labels = Record<string, string> | undefined;
const labelsOf = (o: unknown): Labels => ((o as { metadata?: { labels?: Labels } } | undefined)?.metadata?.labels ?? undefined);

export function requireLabel(config: RequireLabelConfig, client: Client, forbidden: (req: AdmissionRequest, why: string) => Error): Admission {
  return {
    name: "RequireLabel",
    resources: config.resources,
    async validate(req) {
      if (req.operation === "DELETE" || req.subresource || !req.object) return;
      const ns = await client.get(NAMESPACES, req.namespace).catch(() => undefined);
      if (labelsOf(ns)?.[OPT_IN] !== "true") return;
      if (labelsOf(req.object)?.[config.label] === undefined) throw forbidden(req, `missing required label "${config.label}"`);
    },
  };
}

const plugin: Plugin<RequireLabelConfig> = {
  manifest: {
    name: NAME,
    version: "0.1.0",
    description: "Admission: objects must carry a label in namespaces that opt in.",
    roles: ["server"],
    configSchema: {
      type: "object",
      additionalProperties: false,
      properties: {
        label: { type: "string", minLength: 1, default: "team" },
        resources: { type: "array", items: { type: "string" }, default: ["pods", "deployments.apps"] },
      },
    },
  },
  register(container: DependencyContainer, config: RequireLabelConfig, tokens): void {
    const client = container.resolve(tokens.Client);
    container.register(tokens.Admission, { useValue: requireLabel(config, client, forbiddenError) });
  },
};

/**
 * A 403 without importing Skiff's ApiError: the admission chain accepts any
 * error whose `status` is a Kubernetes Status with a refusal reason.
 */
function forbiddenError(req: AdmissionRequest, why: string): Error {
  const resource = req.group ? `${req.resource}.${req.group}` : req.resource;
  const message = `${resource} "${req.name}" is forbidden: ${why}`;
  return Object.assign(new Error(message), { status: { kind: "Status", apiVersion: "v1", status: "Failure", code: 403, reason: "Forbidden", message } });
}

export default plugin;
