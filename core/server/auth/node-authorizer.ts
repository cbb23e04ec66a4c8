/**
 * @module The node authorizer (upstream's `plugin/pkg/auth/authorizer/node`,
 * 1.32 with AuthorizeNodeWithSelectors): what a kubelet identity —
 * `system:node:<name>` in group `system:nodes` — may read and write.
 *
 * Upstream keeps a graph of pods, secrets, configmaps, PVCs, PVs and service
 * accounts; here the same questions are answered from indexes over a pod
 * informer and a PVC informer: "is there a pod bound to this node that
 * references secret ns/x?" is one index lookup keyed by
 * `node|kind|namespace|name`.
 *
 * - secrets, configmaps: get/list/watch of one named object referenced by a
 *   pod bound to the node (volumes, projected sources, env, envFrom,
 *   imagePullSecrets); list/watch need a `metadata.name` field selector.
 * - persistentvolumeclaims: get (and update/patch of `status`) of claims used
 *   by such a pod; persistentvolumes: get of volumes bound to such claims.
 * - serviceaccounts: only `create` of the `token` subresource, for service
 *   accounts such a pod runs as.
 * - pods: get of a pod bound to the node; list/watch only with the field
 *   selector `spec.nodeName=<node>`; other verbs per the static node rules
 *   (NodeRestriction admission limits them to the node's own pods).
 * - nodes: get/list/watch of its own Node only; writes per the static rules
 *   (NodeRestriction limits them to its own Node).
 * - leases: get/create/update/patch/delete in `kube-node-lease`, of the
 *   lease named after the node (create is checked by NodeRestriction).
 * - everything else: allowed when the static node rules (`nodeRules()`,
 *   the `system:node` ClusterRole's rules) allow it, else no opinion.
 * - endpoints, endpointslices: list/watch (`AGENT_PROXY_RULES`). Skiff's
 *   agent runs the network proxy under the node's own identity, where
 *   upstream's kube-proxy has `system:kube-proxy` (bound to
 *   `system:node-proxier`); the rest of that role (services, nodes, events)
 *   the node rules already grant.
 *
 * Like upstream it never denies: it allows, or says why not and lets the
 * next authorizer (RBAC) decide.
 */
import type { KubeObject } from "../../api/meta.ts";
import type { Informer, InformerFactory } from "../../client/types.ts";
import { nodeRules } from "./rbac/bootstrap-policy.ts";
import { type PolicyRule, rulesAllow } from "./rbac/rules.ts";
import type { SubjectRules } from "./rbac/rule-resolver.ts";
import type { SelectorAttributes } from "./request-attributes.ts";
import { Groups, type AuthorizationResult, type Authorizer, type RequestAttributes, type UserInfo } from "./types.ts";

export const NODE_USER_PREFIX = "system:node:";
export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** upstream NodeIdentifier: `system:node:<name>` in `system:nodes`; `name` may be "" (unknown node). */
export function nodeIdentity(user: UserInfo | undefined): { name: string } | undefined {
  if (!user || !user.name.startsWith(NODE_USER_PREFIX)) return undefined;
  if (!user.groups.includes(Groups.nodes)) return undefined;
  return { name: user.name.slice(NODE_USER_PREFIX.length) };
}

type RefKind = "secret" | "configmap" | "pvc" | "serviceaccount" | "pod";
const REFS_INDEX = "node-authorizer:refs";
const VOLUME_INDEX = "node-authorizer:volume";

type Json = Record<string, unknown>;
const asObj = (v: unknown): Json | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined);
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** The objects a pod references, as `kind|name` pairs (podutil.VisitPodSecretNames / VisitPodConfigmapNames and the graph populator). */
export function podReferences(pod: KubeObject): { kind: RefKind; name: string }[] {
  const out: { kind: RefKind; name: string }[] = [];
  const add = (kind: RefKind, name: unknown) => {
    if (typeof name === "string" && name !== "") out.push({ kind, name });
  };
  const spec = asObj((pod as Json).spec) ?? {};
  add("pod", pod.metadata.name);
  add("serviceaccount", str(spec.serviceAccountName) || "default");
  for (const s of asArr(spec.imagePullSecrets)) add("secret", asObj(s)?.name);
  for (const list of ["initContainers", "containers", "ephemeralContainers"]) {
    for (const c of asArr(spec[list])) {
      const co = asObj(c) ?? {};
      for (const e of asArr(co.envFrom)) {
        add("secret", asObj(asObj(e)?.secretRef)?.name);
        add("configmap", asObj(asObj(e)?.configMapRef)?.name);
      }
      for (const e of asArr(co.env)) {
        const from = asObj(asObj(e)?.valueFrom);
        add("secret", asObj(from?.secretKeyRef)?.name);
        add("configmap", asObj(from?.configMapKeyRef)?.name);
      }
    }
  }
  for (const v of asArr(spec.volumes)) {
    const vo = asObj(v) ?? {};
    add("secret", asObj(vo.secret)?.secretName);
    add("configmap", asObj(vo.configMap)?.name);
    add("pvc", asObj(vo.persistentVolumeClaim)?.claimName);
    if (asObj(vo.ephemeral)) add("pvc", `${pod.metadata.name}-${str(vo.name)}`);
    for (const src of asArr(asObj(vo.projected)?.sources)) {
      add("secret", asObj(asObj(src)?.secret)?.name);
      add("configmap", asObj(asObj(src)?.configMap)?.name);
    }
    // Volume sources with a secret reference (cephfs, flexVolume, iscsi, rbd, scaleIO, storageos, csi …).
    for (const [key, source] of Object.entries(vo)) {
      if (key === "secret" || key === "projected") continue;
      const so = asObj(source);
      if (!so) continue;
      add("secret", asObj(so.secretRef)?.name);
      add("secret", asObj(so.nodePublishSecretRef)?.name);
      add("secret", asObj(so.controllerExpandSecretRef)?.name);
    }
  }
  return out;
}

const POD_REF = { group: "", version: "v1", resource: "pods" } as const;
const PVC_REF = { group: "", version: "v1", resource: "persistentvolumeclaims" } as const;

/** What a node's network proxy reads beyond the node rules (upstream `system:node-proxier`'s endpoint reads). */
export const AGENT_PROXY_RULES: PolicyRule[] = [
  { verbs: ["list", "watch"], apiGroups: [""], resources: ["endpoints"] },
  { verbs: ["list", "watch"], apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"] },
];

export class NodeAuthorizer implements Authorizer {
  readonly name = "node";
  readonly #pods: Informer;
  readonly #pvcs: Informer;
  readonly #rules: PolicyRule[];

  constructor(informers: InformerFactory, opts: { rules?: PolicyRule[] } = {}) {
    this.#pods = informers.informer(POD_REF);
    this.#pvcs = informers.informer(PVC_REF);
    this.#rules = opts.rules ?? [...nodeRules(), ...AGENT_PROXY_RULES];
    if (!this.#pods.hasIndex(REFS_INDEX)) {
      this.#pods.addIndex(REFS_INDEX, (pod) => {
        const node = str(asObj((pod as Json).spec)?.nodeName);
        if (!node) return [];
        const ns = pod.metadata.namespace ?? "";
        return [...new Set(podReferences(pod).map((r) => `${node}|${r.kind}|${ns}|${r.name}`))];
      });
    }
    if (!this.#pvcs.hasIndex(VOLUME_INDEX)) {
      this.#pvcs.addIndex(VOLUME_INDEX, (pvc) => {
        const v = str(asObj((pvc as Json).spec)?.volumeName);
        return v ? [v] : [];
      });
    }
  }

  hasSynced(): boolean {
    return this.#pods.hasSynced() && this.#pvcs.hasSynced();
  }

  authorize(user: UserInfo, attrs: RequestAttributes): AuthorizationResult | Promise<AuthorizationResult> {
    const node = nodeIdentity(user);
    if (!node) return NO_OPINION;
    if (node.name === "") return { decision: "no-opinion", reason: `unknown node for user "${user.name}"` };
    if (!this.hasSynced()) return Promise.all([this.#pods.waitForSync(), this.#pvcs.waitForSync()]).then(() => this.#decide(node.name, attrs));
    return this.#decide(node.name, attrs);
  }

  /** Nodes' permissions are not enumerable (upstream answers incomplete). */
  rulesFor(user: UserInfo): SubjectRules {
    if (!nodeIdentity(user)) return { resourceRules: [], nonResourceRules: [], incomplete: false };
    return { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: "node authorizer does not support user rule resolution" };
  }

  #decide(node: string, attrs: SelectorAttributes): AuthorizationResult {
    if (attrs.resourceRequest && attrs.apiGroup === "") {
      switch (attrs.resource) {
        case "secrets":
          return this.#readNamespaced(node, "secret", attrs);
        case "configmaps":
          return this.#readNamespaced(node, "configmap", attrs);
        case "persistentvolumeclaims":
          return attrs.subresource === "status" ? this.#statusUpdate(node, "pvc", attrs) : this.#get(node, "pvc", attrs);
        case "persistentvolumes":
          return this.#getVolume(node, attrs);
        case "serviceaccounts":
          return this.#createToken(node, attrs);
        case "pods":
          return this.#pod(node, attrs);
        case "nodes":
          return this.#node(node, attrs);
      }
    }
    if (attrs.resourceRequest && attrs.apiGroup === "coordination.k8s.io" && attrs.resource === "leases") return this.#lease(node, attrs);
    return this.#static(attrs);
  }

  #static(attrs: RequestAttributes): AuthorizationResult {
    return rulesAllow(attrs, this.#rules) ? ALLOW : NO_OPINION;
  }

  #related(node: string, kind: RefKind, namespace: string, name: string): AuthorizationResult {
    if (name === "") return { decision: "no-opinion", reason: "No Object name found" };
    if (this.#pods.byIndex(REFS_INDEX, `${node}|${kind}|${namespace}|${name}`).length > 0) return ALLOW;
    return { decision: "no-opinion", reason: `no relationship found between node '${node}' and this object` };
  }

  /** authorizeReadNamespacedObject. */
  #readNamespaced(node: string, kind: RefKind, attrs: RequestAttributes): AuthorizationResult {
    if (attrs.verb !== "get" && attrs.verb !== "list" && attrs.verb !== "watch") return { decision: "no-opinion", reason: "can only read resources of this type" };
    if (attrs.subresource) return { decision: "no-opinion", reason: "cannot read subresource" };
    if (attrs.namespace === "") return { decision: "no-opinion", reason: "can only read namespaced object of this type" };
    return this.#related(node, kind, attrs.namespace, attrs.name);
  }

  /** authorizeGet. */
  #get(node: string, kind: RefKind, attrs: RequestAttributes): AuthorizationResult {
    if (attrs.verb !== "get") return { decision: "no-opinion", reason: "can only get individual resources of this type" };
    if (attrs.subresource) return { decision: "no-opinion", reason: "cannot get subresource" };
    return this.#related(node, kind, attrs.namespace, attrs.name);
  }

  /** authorizeStatusUpdate. */
  #statusUpdate(node: string, kind: RefKind, attrs: RequestAttributes): AuthorizationResult {
    if (attrs.verb !== "update" && attrs.verb !== "patch") return { decision: "no-opinion", reason: "can only get/update/patch this type" };
    if (attrs.subresource !== "status") return { decision: "no-opinion", reason: "can only update status subresource" };
    return this.#related(node, kind, attrs.namespace, attrs.name);
  }

  /** A PersistentVolume is related through a claim bound to it that a pod on the node uses. */
  #getVolume(node: string, attrs: RequestAttributes): AuthorizationResult {
    if (attrs.verb !== "get") return { decision: "no-opinion", reason: "can only get individual resources of this type" };
    if (attrs.subresource) return { decision: "no-opinion", reason: "cannot get subresource" };
    if (attrs.name === "") return { decision: "no-opinion", reason: "No Object name found" };
    for (const pvc of this.#pvcs.byIndex(VOLUME_INDEX, attrs.name)) {
      if (this.#related(node, "pvc", pvc.metadata.namespace ?? "", pvc.metadata.name ?? "").decision === "allow") return ALLOW;
    }
    return { decision: "no-opinion", reason: `no relationship found between node '${node}' and this object` };
  }

  /** authorizeCreateToken. */
  #createToken(node: string, attrs: RequestAttributes): AuthorizationResult {
    if (attrs.verb !== "create" || attrs.name === "") return { decision: "no-opinion", reason: "can only create tokens for individual service accounts" };
    if (attrs.subresource !== "token") return { decision: "no-opinion", reason: "can only create token subresource of serviceaccount" };
    return this.#related(node, "serviceaccount", attrs.namespace, attrs.name);
  }

  /** authorizePod. */
  #pod(node: string, attrs: SelectorAttributes): AuthorizationResult {
    switch (attrs.verb) {
      case "get":
        return this.#get(node, "pod", attrs);
      case "list":
      case "watch":
        for (const r of attrs.fieldSelector ?? []) if (r.field === "spec.nodeName" && r.operator === "=" && r.value === node) return ALLOW;
        return { decision: "no-opinion", reason: "can only list/watch pods with spec.nodeName field selector" };
      default:
        return this.#static(attrs);
    }
  }

  /** authorizeNode: reads of its own Node only; writes per the static rules. */
  #node(node: string, attrs: RequestAttributes): AuthorizationResult {
    if (attrs.subresource === "" && (attrs.verb === "get" || attrs.verb === "list" || attrs.verb === "watch")) {
      if (attrs.name === node) return ALLOW;
      return { decision: "no-opinion", reason: `node '${node}' cannot read '${attrs.name}', only its own Node object` };
    }
    return this.#static(attrs);
  }

  /** authorizeLease. */
  #lease(node: string, attrs: RequestAttributes): AuthorizationResult {
    if (!["get", "create", "update", "patch", "delete"].includes(attrs.verb)) {
      return { decision: "no-opinion", reason: "can only get, create, update, patch, or delete a node lease" };
    }
    if (attrs.namespace !== NODE_LEASE_NAMESPACE) return { decision: "no-opinion", reason: `can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace` };
    // The name is unknown on create: NodeRestriction checks it there.
    if (attrs.verb !== "create" && attrs.name !== node) return { decision: "no-opinion", reason: "can only access node lease with the same name as the requesting node" };
    return ALLOW;
  }
}

const ALLOW: AuthorizationResult = Object.freeze({ decision: "allow", reason: "" });
const NO_OPINION: AuthorizationResult = Object.freeze({ decision: "no-opinion", reason: "" });
