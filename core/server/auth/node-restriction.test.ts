/** @module NodeRestriction admission: table-driven over admission requests (upstream admission_test.go's cases for pods, nodes and leases). */
import { describe, expect, test } from "bun:test";
import { ApiError } from "../../api/errors.ts";
import type { AdmissionRequest } from "../../plugin/types.ts";
import { forbiddenNodeLabels, modifiedLabels, NodeRestriction } from "./node-restriction.ts";

const asNode = (name: string) => ({ username: `system:node:${name}`, groups: ["system:nodes", "system:authenticated"] });
const mirror = { "kubernetes.io/config.mirror": "hash" };

function req(r: Partial<AdmissionRequest> & Pick<AdmissionRequest, "operation" | "resource">): AdmissionRequest {
  return { group: "", version: "v1", namespace: "ns", name: "", dryRun: false, userInfo: asNode("n1"), ...r };
}

const pod = (node: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
  metadata: { name: "p", namespace: "ns", annotations: mirror, ...meta },
  spec: { nodeName: node, containers: [{ name: "c", image: "i" }], ...extra },
});
const nodeObj = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []) => ({ metadata: { name, labels }, spec: { taints } });

function outcome(r: AdmissionRequest): string {
  try {
    new NodeRestriction().validate(r);
    return "ok";
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    expect(e.reason).toBe("Forbidden");
    return e.message;
  }
}

describe("NodeRestriction", () => {
  const cases: [string, AdmissionRequest, string][] = [
    ["non-node users are not restricted", req({ operation: "UPDATE", resource: "nodes", name: "n2", userInfo: { username: "alice", groups: ["system:authenticated"] } }), "ok"],
    ["a node name without the nodes group is not a node", req({ operation: "DELETE", resource: "nodes", name: "n2", userInfo: { username: "system:node:n1", groups: [] } }), "ok"],
    ["no user info, nothing to restrict", { ...req({ operation: "DELETE", resource: "nodes", name: "n2" }), userInfo: undefined } as AdmissionRequest, "ok"],
    ["an unknown node", req({ operation: "UPDATE", resource: "nodes", name: "n1", userInfo: { username: "system:node:", groups: ["system:nodes"] } }), 'nodes "n1" is forbidden: could not determine node from user "system:node:"'],
    // pods
    ["create a mirror pod bound to itself", req({ operation: "CREATE", resource: "pods", name: "p", object: pod("n1") }), "ok"],
    ["create a non-mirror pod", req({ operation: "CREATE", resource: "pods", name: "p", object: pod("n1", {}, { annotations: {} }) }), 'pods "p" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods'],
    ["create a mirror pod bound elsewhere", req({ operation: "CREATE", resource: "pods", name: "p", object: pod("n2") }), 'pods "p" is forbidden: node "n1" can only create pods with spec.nodeName set to itself'],
    ["create a mirror pod using a secret", req({ operation: "CREATE", resource: "pods", name: "p", object: pod("n1", { volumes: [{ name: "s", secret: { secretName: "x" } }] }) }), 'pods "p" is forbidden: node "n1" can not create pods that reference secrets'],
    ["create a mirror pod using a configmap", req({ operation: "CREATE", resource: "pods", name: "p", object: pod("n1", { volumes: [{ name: "c", configMap: { name: "x" } }] }) }), 'pods "p" is forbidden: node "n1" can not create pods that reference configmaps'],
    ["create a mirror pod using a claim", req({ operation: "CREATE", resource: "pods", name: "p", object: pod("n1", { volumes: [{ name: "c", persistentVolumeClaim: { claimName: "x" } }] }) }), 'pods "p" is forbidden: node "n1" can not create pods that reference persistentvolumeclaims'],
    ["create a mirror pod with a service account", req({ operation: "CREATE", resource: "pods", name: "p", object: pod("n1", { serviceAccountName: "sa" }) }), 'pods "p" is forbidden: node "n1" can not create pods that reference a service account'],
    ["create a mirror pod owned by another node", req({ operation: "CREATE", resource: "pods", name: "p", object: pod("n1", {}, { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: "n2", uid: "u", controller: true }] }) }), 'pods "p" is forbidden: node "n1" can only create pods with an owner reference set to itself'],
    ["create a mirror pod owned by itself", req({ operation: "CREATE", resource: "pods", name: "p", object: pod("n1", {}, { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: "n1", uid: "u", controller: true }] }) }), "ok"],
    ["delete its own pod", req({ operation: "DELETE", resource: "pods", name: "p", oldObject: pod("n1") }), "ok"],
    ["delete another node's pod", req({ operation: "DELETE", resource: "pods", name: "p", oldObject: pod("n2") }), 'pods "p" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself'],
    ["update a pod", req({ operation: "UPDATE", resource: "pods", name: "p", object: pod("n1"), oldObject: pod("n1") }), 'pods "p" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods'],
    ["update its pod's status", req({ operation: "UPDATE", resource: "pods", subresource: "status", name: "p", object: pod("n1"), oldObject: pod("n1") }), "ok"],
    ["update another node's pod's status", req({ operation: "UPDATE", resource: "pods", subresource: "status", name: "p", object: pod("n2"), oldObject: pod("n2") }), 'pods "p" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself'],
    ["change labels through pod status", req({ operation: "UPDATE", resource: "pods", subresource: "status", name: "p", object: pod("n1", {}, { labels: { a: "b" } }), oldObject: pod("n1") }), 'pods "p" is forbidden: node "n1" cannot update labels through pod status'],
    ["evict its own pod", req({ operation: "CREATE", resource: "pods", subresource: "eviction", name: "p", oldObject: pod("n1") }), "ok"],
    ["evict another node's pod", req({ operation: "CREATE", resource: "pods", subresource: "eviction", name: "p", oldObject: pod("n2") }), 'pods "p" is forbidden: node n1 can only evict pods with spec.nodeName set to itself'],
    ["another pod subresource", req({ operation: "CREATE", resource: "pods", subresource: "binding", name: "p" }), `pods "p" is forbidden: unexpected pod subresource "binding", only 'status' and 'eviction' are allowed`],
    // nodes
    ["create itself", req({ operation: "CREATE", resource: "nodes", name: "n1", object: nodeObj("n1", { "kubernetes.io/hostname": "n1", "node.kubernetes.io/exclude-from-external-load-balancers": "" }) }), "ok"],
    ["create another node", req({ operation: "CREATE", resource: "nodes", name: "n2", object: nodeObj("n2") }), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"'],
    ["update another node", req({ operation: "UPDATE", resource: "nodes", name: "n2", object: nodeObj("n2"), oldObject: nodeObj("n2") }), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"'],
    ["update another node's status", req({ operation: "UPDATE", resource: "nodes", subresource: "status", name: "n2", object: nodeObj("n2"), oldObject: nodeObj("n2") }), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"'],
    ["delete another node", req({ operation: "DELETE", resource: "nodes", name: "n2", oldObject: nodeObj("n2") }), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"'],
    ["delete itself", req({ operation: "DELETE", resource: "nodes", name: "n1", oldObject: nodeObj("n1") }), "ok"],
    ["register with a node-restriction label", req({ operation: "CREATE", resource: "nodes", name: "n1", object: nodeObj("n1", { "node-restriction.kubernetes.io/pool": "a" }) }), 'nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-restriction.kubernetes.io/pool'],
    ["register with a role label", req({ operation: "CREATE", resource: "nodes", name: "n1", object: nodeObj("n1", { "node-role.kubernetes.io/master": "" }) }), 'nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-role.kubernetes.io/master'],
    ["change its own node-restriction label", req({ operation: "UPDATE", resource: "nodes", name: "n1", object: nodeObj("n1", { "example.node-restriction.kubernetes.io/x": "b" }), oldObject: nodeObj("n1", { "example.node-restriction.kubernetes.io/x": "a" }) }), 'nodes "n1" is forbidden: is not allowed to modify labels: example.node-restriction.kubernetes.io/x'],
    ["remove a node-restriction label", req({ operation: "UPDATE", resource: "nodes", name: "n1", object: nodeObj("n1"), oldObject: nodeObj("n1", { "node-restriction.kubernetes.io/x": "a" }) }), 'nodes "n1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/x'],
    ["keep a node-restriction label, change others", req({ operation: "UPDATE", resource: "nodes", name: "n1", object: nodeObj("n1", { "node-restriction.kubernetes.io/x": "a", mine: "2", "topology.kubernetes.io/zone": "z" }), oldObject: nodeObj("n1", { "node-restriction.kubernetes.io/x": "a", mine: "1" }) }), "ok"],
    ["change its taints", req({ operation: "UPDATE", resource: "nodes", name: "n1", object: nodeObj("n1", {}, []), oldObject: nodeObj("n1", {}, [{ key: "k", effect: "NoSchedule" }]) }), 'nodes "n1" is forbidden: node "n1" is not allowed to modify taints'],
    // leases
    ["its own lease", req({ operation: "UPDATE", resource: "leases", group: "coordination.k8s.io", namespace: "kube-node-lease", name: "n1" }), "ok"],
    ["create its own lease", req({ operation: "CREATE", resource: "leases", group: "coordination.k8s.io", namespace: "kube-node-lease", name: "n1", object: { metadata: { name: "n1" } } }), "ok"],
    ["create another node's lease", req({ operation: "CREATE", resource: "leases", group: "coordination.k8s.io", namespace: "kube-node-lease", name: "n2", object: { metadata: { name: "n2" } } }), 'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node'],
    ["update another node's lease", req({ operation: "UPDATE", resource: "leases", group: "coordination.k8s.io", namespace: "kube-node-lease", name: "n2" }), 'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node'],
    ["leases elsewhere are not restricted here", req({ operation: "UPDATE", resource: "leases", group: "coordination.k8s.io", namespace: "kube-system", name: "n2" }), "ok"],
  ];
  for (const [what, r, want] of cases) test(what, () => expect(outcome(r)).toBe(want));

  test("label helpers", () => {
    expect(modifiedLabels({ a: "1", b: "2" }, { b: "3", c: "4" })).toEqual(["a", "b", "c"]);
    expect(forbiddenNodeLabels(["kubernetes.io/hostname", "kubelet.kubernetes.io/x", "foo.node.kubernetes.io/y", "k8s.io/z", "example.com/ok", "node-restriction.kubernetes.io/no"])).toEqual([
      "k8s.io/z",
      "node-restriction.kubernetes.io/no",
    ]);
  });
});
