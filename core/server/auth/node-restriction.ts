/**
 * @module The NodeRestriction admission step (upstream's
 * `plugin/pkg/admission/noderestriction`): what a node identity
 * (`system:node:<name>` in `system:nodes`) may write, beyond what the node
 * authorizer lets through.
 *
 * - pods: create only mirror pods (the `kubernetes.io/config.mirror`
 *   annotation) bound to itself, owned by nothing but its Node, referencing no
 *   secrets, configmaps, claims or service account; delete only pods bound to
 *   itself; no update of the pod itself.
 * - pods/status: update only pods bound to itself, without changing labels.
 * - pods/eviction: evict only pods bound to itself.
 * - nodes (and their subresources): only its own Node; no taint changes on
 *   update; no labels under `node-restriction.kubernetes.io/` and no
 *   `kubernetes.io` / `k8s.io` labels beyond the kubelet's own set.
 * - leases in `kube-node-lease`: only the lease named after it.
 *
 * Requests from anyone else pass untouched. The step needs the request's
 * user in `AdmissionRequest.userInfo` (filled by the authentication stage);
 * without it there is nothing to restrict.
 */
import { errors } from "../../api/errors.ts";
import type { KubeObject } from "../../api/meta.ts";
import type { Informer, InformerFactory } from "../../client/types.ts";
import type { Admission, AdmissionRequest } from "../../plugin/types.ts";
import { NODE_LEASE_NAMESPACE, nodeIdentity, podReferences } from "./node-authorizer.ts";

export const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";
export const NODE_RESTRICTION_LABEL_PREFIX = "node-restriction.kubernetes.io";

/** kubeletapis.KubeletLabels: the kubernetes.io labels a kubelet sets on its Node. */
const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "kubernetes.io/os",
  "kubernetes.io/arch",
]);
/** kubeletapis.KubeletLabelNamespaces: whole label namespaces a kubelet may set. */
const KUBELET_LABEL_NAMESPACES = ["kubelet.kubernetes.io", "node.kubernetes.io"];

function labelNamespace(key: string): string {
  const i = key.indexOf("/");
  return i < 0 ? "" : key.slice(0, i);
}

function isKubernetesLabel(key: string): boolean {
  const ns = labelNamespace(key);
  return ns === "kubernetes.io" || ns.endsWith(".kubernetes.io") || ns === "k8s.io" || ns.endsWith(".k8s.io");
}

function isKubeletLabel(key: string): boolean {
  if (KUBELET_LABELS.has(key)) return true;
  const ns = labelNamespace(key);
  return KUBELET_LABEL_NAMESPACES.some((allowed) => ns === allowed || ns.endsWith(`.${allowed}`));
}

/** getModifiedLabels: keys added, removed or changed between `a` and `b`. */
export function modifiedLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): string[] {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(a ?? {})) if (!b || b[k] !== v) out.add(k);
  for (const k of Object.keys(b ?? {})) if (!a || !(k in a)) out.add(k);
  return [...out].sort();
}

/** getForbiddenLabels. */
export function forbiddenNodeLabels(modified: readonly string[]): string[] {
  return modified.filter((k) => {
    const ns = labelNamespace(k);
    if (ns === NODE_RESTRICTION_LABEL_PREFIX || ns.endsWith(`.${NODE_RESTRICTION_LABEL_PREFIX}`)) return true;
    return isKubernetesLabel(k) && !isKubeletLabel(k);
  });
}

type Json = Record<string, unknown>;
const asObj = (v: unknown): Json | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined);
const nodeNameOf = (pod: unknown): string => {
  const n = asObj(asObj(pod)?.spec)?.nodeName;
  return typeof n === "string" ? n : "";
};
const labelsOf = (o: unknown): Record<string, string> | undefined => asObj(asObj(o)?.metadata)?.labels as Record<string, string> | undefined;

const POD_REF = { group: "", version: "v1", resource: "pods" } as const;

export class NodeRestriction implements Admission {
  readonly name = "NodeRestriction";
  readonly resources = [
    "pods",
    "pods/status",
    "pods/eviction",
    "nodes",
    "nodes/status",
    "leases.coordination.k8s.io",
  ];
  readonly #pods: Informer | undefined;

  /** `informers` gives the pod an eviction names (an Eviction carries only the pod's name). */
  constructor(informers?: InformerFactory) {
    this.#pods = informers?.informer(POD_REF);
  }

  validate(req: AdmissionRequest): void {
    const u = req.userInfo;
    if (!u) return;
    const node = nodeIdentity({ name: u.username, groups: u.groups });
    if (!node) return;
    const q = { resource: req.resource, group: req.group, name: req.name };
    const forbid = (why: string) => errors.forbidden(q, why);
    if (node.name === "") throw forbid(`could not determine node from user "${u.username}"`);
    const n = node.name;
    if (req.group === "" && req.resource === "pods") {
      switch (req.subresource ?? "") {
        case "":
          return this.#pod(n, req, forbid);
        case "status":
          if (req.operation !== "UPDATE") throw forbid(`unexpected operation "${req.operation}"`);
          if (nodeNameOf(req.oldObject) !== n) throw forbid(`node "${n}" can only update pod status for pods with spec.nodeName set to itself`);
          if (modifiedLabels(labelsOf(req.object), labelsOf(req.oldObject)).length > 0) throw forbid(`node "${n}" cannot update labels through pod status`);
          return;
        case "eviction": {
          if (req.operation !== "CREATE") throw forbid(`unexpected operation ${req.operation}`);
          const pod = this.#pods?.get(req.name, req.namespace) ?? (req.oldObject as KubeObject | undefined);
          if (!pod) throw errors.notFound({ resource: "pods", group: "", name: req.name });
          if (nodeNameOf(pod) !== n) throw forbid(`node ${n} can only evict pods with spec.nodeName set to itself`);
          return;
        }
        default:
          throw forbid(`unexpected pod subresource "${req.subresource}", only 'status' and 'eviction' are allowed`);
      }
    }
    if (req.group === "" && req.resource === "nodes") return this.#node(n, req, forbid);
    if (req.group === "coordination.k8s.io" && req.resource === "leases") {
      if (req.namespace !== NODE_LEASE_NAMESPACE) return;
      const name = req.operation === "CREATE" ? String(asObj(asObj(req.object)?.metadata)?.name ?? "") : req.name;
      if (name !== n) throw forbid("can only access node lease with the same name as the requesting node");
    }
  }

  #pod(n: string, req: AdmissionRequest, forbid: (why: string) => Error): void {
    switch (req.operation) {
      case "CREATE": {
        const pod = (req.object ?? {}) as KubeObject;
        const meta = pod.metadata ?? {};
        if (!(MIRROR_POD_ANNOTATION in (meta.annotations ?? {}))) {
          throw forbid(`pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${n}" can only create mirror pods`);
        }
        if (nodeNameOf(pod) !== n) throw forbid(`node "${n}" can only create pods with spec.nodeName set to itself`);
        const owners = meta.ownerReferences ?? [];
        if (owners.length > 1) throw forbid(`node "${n}" can only create pods with a single owner reference set to itself`);
        if (owners.length === 1) {
          const o = owners[0]!;
          if (o.apiVersion !== "v1" || o.kind !== "Node" || o.name !== n || o.controller !== true) {
            throw forbid(`node "${n}" can only create pods with an owner reference set to itself`);
          }
        }
        const spec = asObj((pod as Json).spec) ?? {};
        if (typeof spec.serviceAccountName === "string" && spec.serviceAccountName !== "") {
          throw forbid(`node "${n}" can not create pods that reference a service account`);
        }
        const refs = podReferences(pod);
        if (refs.some((r) => r.kind === "secret")) throw forbid(`node "${n}" can not create pods that reference secrets`);
        if (refs.some((r) => r.kind === "configmap")) throw forbid(`node "${n}" can not create pods that reference configmaps`);
        if (refs.some((r) => r.kind === "pvc")) throw forbid(`node "${n}" can not create pods that reference persistentvolumeclaims`);
        return;
      }
      case "DELETE":
        if (nodeNameOf(req.oldObject) !== n) throw forbid(`node "${n}" can only delete pods with spec.nodeName set to itself`);
        return;
      default:
        throw forbid(`unexpected operation "${req.operation}", node "${n}" can only create and delete mirror pods`);
    }
  }

  #node(n: string, req: AdmissionRequest, forbid: (why: string) => Error): void {
    const name = req.operation === "CREATE" ? String(asObj(asObj(req.object)?.metadata)?.name ?? req.name) : req.name;
    if (name !== n) throw forbid(`node "${n}" is not allowed to modify node "${name}"`);
    if (req.operation === "CREATE") {
      const bad = forbiddenNodeLabels(modifiedLabels(labelsOf(req.object), undefined));
      if (bad.length > 0) throw forbid(`node "${n}" is not allowed to set the following labels: ${bad.join(", ")}`);
    }
    if (req.operation === "UPDATE") {
      const taints = (o: unknown) => JSON.stringify(asObj(asObj(o)?.spec)?.taints ?? []);
      if (taints(req.object) !== taints(req.oldObject)) throw forbid(`node "${n}" is not allowed to modify taints`);
      const bad = forbiddenNodeLabels(modifiedLabels(labelsOf(req.object), labelsOf(req.oldObject)));
      if (bad.length > 0) throw forbid(`is not allowed to modify labels: ${bad.join(", ")}`);
    }
  }
}
