/**
 * @module The PodSecurity admission step (upstream
 * `k8s.io/pod-security-admission/admission`). A namespace's labels pick the
 * policy: `pod-security.kubernetes.io/<mode>: privileged|baseline|restricted`
 * and `<mode>-version: latest|v1.N`, for the modes
 *
 * - `enforce`: a pod that fails is refused, 403 `violates PodSecurity
 *   "restricted:latest": <reason> (<detail>), …`;
 * - `warn`: the client gets a `Warning` header, `would violate PodSecurity
 *   "restricted:latest": …` (kubectl prints it);
 * - `audit`: recorded as a Warning header prefixed for the audit trail is not
 *   possible here (skiff's audit log has no annotations); see the README.
 *
 * Workload resources with a pod template (Deployments, ReplicaSets,
 * StatefulSets, DaemonSets, Jobs, CronJobs, ReplicationControllers,
 * PodTemplates) get the warnings only, as upstream. Namespaces are checked
 * too: invalid policy labels are refused (422), and making `enforce`
 * stricter warns about the existing pods that would fail it.
 * Unlabelled namespaces use the plugin's `defaults` (privileged). Only the
 * latest policy version is modelled: any `v1.N` evaluates as latest but is
 * named as given in messages.
 */
import { errors } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { Client, Informer } from "../../../core/client/types.ts";
import type { Admission, AdmissionRequest } from "../../../core/plugin/types.ts";
import { asObj, type Json, NAMESPACES, type PodSpec, PODS } from "../common.ts";
import { evaluatePod, formatResults, type Level, LEVELS } from "./policy.ts";

export const LABEL_PREFIX = "pod-security.kubernetes.io/";
const MODES = ["enforce", "audit", "warn"] as const;
type Mode = (typeof MODES)[number];

export interface LevelVersion {
  level: Level;
  version: string;
}

export interface PodSecurityConfig {
  defaults: { enforce: Level; "enforce-version": string; audit: Level; "audit-version": string; warn: Level; "warn-version": string };
  exemptions: { usernames: string[]; namespaces: string[]; runtimeClasses: string[] };
}

export const DEFAULT_CONFIG: PodSecurityConfig = {
  defaults: { enforce: "privileged", "enforce-version": "latest", audit: "privileged", "audit-version": "latest", warn: "privileged", "warn-version": "latest" },
  exemptions: { usernames: [], namespaces: [], runtimeClasses: [] },
};

const VERSION = /^(latest|v1\.(0|[1-9][0-9]*))$/;

/** Where a workload resource keeps its pod template. */
const TEMPLATES: Record<string, string[]> = {
  "apps/deployments": ["spec", "template"],
  "apps/replicasets": ["spec", "template"],
  "apps/statefulsets": ["spec", "template"],
  "apps/daemonsets": ["spec", "template"],
  "batch/jobs": ["spec", "template"],
  "batch/cronjobs": ["spec", "jobTemplate", "spec", "template"],
  "/replicationcontrollers": ["spec", "template"],
  "/podtemplates": ["template"],
};

const label = (mode: Mode, version = false) => `${LABEL_PREFIX}${mode}${version ? "-version" : ""}`;
const name = (lv: LevelVersion) => `${lv.level}:${lv.version}`;

/** Problems with a namespace's policy labels, as field causes. */
export function labelCauses(labels: Record<string, string>): { reason: string; field: string; message: string }[] {
  const out: { reason: string; field: string; message: string }[] = [];
  for (const mode of MODES) {
    const l = labels[label(mode)];
    if (l !== undefined && !LEVELS.includes(l as Level)) {
      out.push({ reason: "FieldValueInvalid", field: `metadata.labels[${label(mode)}]`, message: `Invalid value: ${JSON.stringify(l)}: must be one of ${LEVELS.join(", ")}` });
    }
    const v = labels[label(mode, true)];
    if (v !== undefined && !VERSION.test(v)) {
      out.push({ reason: "FieldValueInvalid", field: `metadata.labels[${label(mode, true)}]`, message: `Invalid value: ${JSON.stringify(v)}: must be "latest" or "v1.x"` });
    }
  }
  return out;
}

/** The namespace's policy per mode (invalid labels evaluate as restricted:latest, failing closed as upstream). */
export function namespacePolicy(labels: Record<string, string>, defaults: PodSecurityConfig["defaults"]): Record<Mode, LevelVersion> {
  const out = {} as Record<Mode, LevelVersion>;
  for (const mode of MODES) {
    const l = labels[label(mode)] ?? defaults[mode];
    const v = labels[label(mode, true)] ?? defaults[`${mode}-version`];
    out[mode] = LEVELS.includes(l as Level) && VERSION.test(v) ? { level: l as Level, version: v } : { level: "restricted", version: "latest" };
  }
  return out;
}

export class PodSecurityAdmission implements Admission {
  readonly name = "PodSecurity";
  readonly operations: AdmissionRequest["operation"][] = ["CREATE", "UPDATE"];
  readonly resources = ["pods", "namespaces", ...Object.keys(TEMPLATES).map((k) => {
    const [g, r] = k.split("/");
    return g ? `${r}.${g}` : r!;
  })];

  constructor(
    private readonly client: Client,
    private readonly namespaces: Informer | undefined,
    private readonly config: PodSecurityConfig = DEFAULT_CONFIG,
  ) {}

  async validate(req: AdmissionRequest): Promise<void> {
    if (req.operation === "DELETE" || !req.object) return;
    if (req.group === "" && req.resource === "namespaces") return this.#namespace(req);
    if (req.subresource) return;
    if (this.config.exemptions.usernames.includes(req.userInfo?.username ?? "")) return;
    if (this.config.exemptions.namespaces.includes(req.namespace)) return;
    if (req.group === "" && req.resource === "pods") {
      if (req.operation !== "CREATE") return;
      return this.#pod(req, req.object);
    }
    const path = TEMPLATES[`${req.group}/${req.resource}`];
    if (!path) return;
    let template: unknown = req.object;
    for (const p of path) template = asObj(template)?.[p];
    const t = asObj(template);
    if (!t) return;
    const policy = await this.#policy(req.namespace);
    const spec = (asObj(t.spec) ?? {}) as PodSpec;
    if (this.#exemptRuntime(spec)) return;
    for (const mode of ["warn"] as const) {
      const failed = evaluatePod(policy[mode].level, asObj(t.metadata) ?? {}, spec);
      if (failed.length > 0) req.warnings?.push(`would violate PodSecurity ${JSON.stringify(name(policy[mode]))}: ${formatResults(failed)}`);
    }
  }

  async #pod(req: AdmissionRequest, pod: Json): Promise<void> {
    const spec = (asObj(pod.spec) ?? {}) as PodSpec;
    if (this.#exemptRuntime(spec)) return;
    const policy = await this.#policy(req.namespace);
    const meta = asObj(pod.metadata) ?? {};
    const enforce = evaluatePod(policy.enforce.level, meta, spec);
    const sameAsEnforce = policy.warn.level === policy.enforce.level && policy.warn.version === policy.enforce.version;
    if (!(sameAsEnforce && enforce.length > 0)) {
      const warn = sameAsEnforce ? enforce : evaluatePod(policy.warn.level, meta, spec);
      if (warn.length > 0) req.warnings?.push(`would violate PodSecurity ${JSON.stringify(name(policy.warn))}: ${formatResults(warn)}`);
    }
    if (enforce.length > 0) {
      throw errors.forbidden({ resource: "pods", group: "", name: req.name }, `violates PodSecurity ${JSON.stringify(name(policy.enforce))}: ${formatResults(enforce)}`);
    }
  }

  async #namespace(req: AdmissionRequest): Promise<void> {
    const labels = (asObj(asObj(req.object!.metadata)?.labels) ?? {}) as Record<string, string>;
    const causes = labelCauses(labels);
    if (causes.length > 0) throw errors.invalid({ kind: "Namespace", group: "", name: req.name, causes });
    if (req.operation !== "UPDATE" || req.subresource) return;
    const oldLabels = (asObj(asObj(req.oldObject?.metadata)?.labels) ?? {}) as Record<string, string>;
    const before = namespacePolicy(oldLabels, this.config.defaults).enforce;
    const after = namespacePolicy(labels, this.config.defaults).enforce;
    if (before.level === after.level && before.version === after.version) return;
    if (after.level === "privileged" || this.config.exemptions.namespaces.includes(req.name)) return;
    // As upstream: check the pods already there against the new enforce level, and warn.
    const pods = (await this.client.list<KubeObject>(PODS, { namespace: req.name })).items;
    const groups = new Map<string, string[]>();
    for (const p of pods) {
      const spec = (p.spec ?? {}) as PodSpec;
      if (this.#exemptRuntime(spec)) continue;
      const failed = evaluatePod(after.level, (p.metadata ?? {}) as Json, spec);
      if (failed.length === 0) continue;
      const key = failed.map((f) => f.reason).join(", ");
      groups.set(key, [...(groups.get(key) ?? []), p.metadata.name!]);
    }
    if (groups.size === 0) return;
    req.warnings?.push(`existing pods in namespace ${JSON.stringify(req.name)} violate the new PodSecurity enforce level ${JSON.stringify(name(after))}`);
    for (const [reasons, names] of groups) {
      const others = names.length - 1;
      req.warnings?.push(`${names[0]}${others > 0 ? ` (and ${others} other ${others === 1 ? "pod" : "pods"})` : ""}: ${reasons}`);
    }
  }

  #exemptRuntime(spec: PodSpec): boolean {
    const rc = spec.runtimeClassName;
    return typeof rc === "string" && this.config.exemptions.runtimeClasses.includes(rc);
  }

  async #policy(namespace: string): Promise<Record<Mode, LevelVersion>> {
    let ns = this.namespaces?.get(namespace);
    if (!ns) {
      try {
        ns = await this.client.get(NAMESPACES, namespace);
      } catch {
        // The namespace check that follows admission answers for a missing namespace.
        return namespacePolicy({}, this.config.defaults);
      }
    }
    return namespacePolicy((ns.metadata.labels ?? {}) as Record<string, string>, this.config.defaults);
  }
}
