/**
 * @module The node authorizer on an in-memory kernel (pods created through
 * the API, decisions through the kernel's chain), plus `podReferences`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import { createKernel, type Kernel } from "../../kernel.ts";
import type { AdmissionRequest } from "../../plugin/types.ts";
import { AdmissionChain } from "../admission.ts";
import { podReferences } from "./node-authorizer.ts";
import { NodeRestriction } from "./node-restriction.ts";
import { attributesOf } from "./request-attributes.ts";
import type { UserInfo } from "./types.ts";

const PODS = { group: "", version: "v1", resource: "pods" } as const;
const PVCS = { group: "", version: "v1", resource: "persistentvolumeclaims" } as const;
const n1: UserInfo = { name: "system:node:n1", groups: ["system:nodes", "system:authenticated"] };
const n2: UserInfo = { name: "system:node:n2", groups: ["system:nodes", "system:authenticated"] };

let k: Kernel;
const can = async (u: UserInfo, method: string, path: string, query = "") =>
  (await k.authorizer.authorize(u, attributesOf(method, path, new URLSearchParams(query)))).decision === "allow";

function pod(name: string, node: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "apps" },
    spec: { nodeName: node, containers: [{ name: "c", image: "busybox", ...((spec.container as object) ?? {}) }], ...spec, container: undefined },
  } as KubeObject;
}

async function eventually(what: string, f: () => Promise<boolean>, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeAll(async () => {
  k = await createKernel({ memory: true });
  await k.client.create({ group: "", version: "v1", resource: "namespaces", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } });
  await k.client.create(PVCS, {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "data", namespace: "apps" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeName: "pv-data" },
  } as KubeObject);
  await k.client.create(
    PODS,
    pod("web", "n1", {
      serviceAccountName: "web-sa",
      imagePullSecrets: [{ name: "registry" }],
      container: { envFrom: [{ configMapRef: { name: "web-config" } }], env: [{ name: "PW", valueFrom: { secretKeyRef: { name: "db-password", key: "pw" } } }] },
      volumes: [
        { name: "tls", secret: { secretName: "web-tls" } },
        { name: "data", persistentVolumeClaim: { claimName: "data" } },
        { name: "mix", projected: { sources: [{ configMap: { name: "projected-cm" } }] } },
      ],
    }),
  );
  await k.client.create(PODS, pod("batch", "n2", { volumes: [{ name: "creds", secret: { secretName: "batch-creds" } }] }));
  await eventually("pods in the node authorizer's cache", () => can(n1, "GET", "/api/v1/namespaces/apps/pods/web"));
});

afterAll(async () => {
  await k.stop();
});

describe("secrets, configmaps, claims, volumes and service accounts", () => {
  test("a node reads what pods bound to it reference, and nothing else", async () => {
    for (const s of ["web-tls", "db-password", "registry"]) expect(await can(n1, "GET", `/api/v1/namespaces/apps/secrets/${s}`)).toBe(true);
    expect(await can(n1, "GET", "/api/v1/namespaces/apps/secrets/batch-creds")).toBe(false);
    expect(await can(n2, "GET", "/api/v1/namespaces/apps/secrets/batch-creds")).toBe(true);
    expect(await can(n2, "GET", "/api/v1/namespaces/apps/secrets/web-tls")).toBe(false);
    expect(await can(n1, "GET", "/api/v1/namespaces/other/secrets/web-tls")).toBe(false);
    for (const c of ["web-config", "projected-cm"]) expect(await can(n1, "GET", `/api/v1/namespaces/apps/configmaps/${c}`)).toBe(true);
    expect(await can(n2, "GET", "/api/v1/namespaces/apps/configmaps/web-config")).toBe(false);
  });

  test("list and watch need a metadata.name field selector; writes are never allowed", async () => {
    expect(await can(n1, "GET", "/api/v1/namespaces/apps/secrets")).toBe(false);
    expect(await can(n1, "GET", "/api/v1/secrets")).toBe(false);
    expect(await can(n1, "GET", "/api/v1/namespaces/apps/secrets", "fieldSelector=metadata.name%3Dweb-tls&watch=true")).toBe(true);
    expect(await can(n1, "GET", "/api/v1/namespaces/apps/secrets", "fieldSelector=metadata.name%3Dbatch-creds")).toBe(false);
    expect(await can(n1, "PUT", "/api/v1/namespaces/apps/secrets/web-tls")).toBe(false);
    expect(await can(n1, "DELETE", "/api/v1/namespaces/apps/configmaps/web-config")).toBe(false);
  });

  test("claims, their volumes and service account tokens", async () => {
    expect(await can(n1, "GET", "/api/v1/namespaces/apps/persistentvolumeclaims/data")).toBe(true);
    expect(await can(n2, "GET", "/api/v1/namespaces/apps/persistentvolumeclaims/data")).toBe(false);
    expect(await can(n1, "PATCH", "/api/v1/namespaces/apps/persistentvolumeclaims/data/status")).toBe(true);
    expect(await can(n1, "PATCH", "/api/v1/namespaces/apps/persistentvolumeclaims/data")).toBe(false);
    expect(await can(n1, "GET", "/api/v1/persistentvolumes/pv-data")).toBe(true);
    expect(await can(n2, "GET", "/api/v1/persistentvolumes/pv-data")).toBe(false);
    expect(await can(n1, "POST", "/api/v1/namespaces/apps/serviceaccounts/web-sa/token")).toBe(true);
    expect(await can(n2, "POST", "/api/v1/namespaces/apps/serviceaccounts/web-sa/token")).toBe(false);
    expect(await can(n2, "POST", "/api/v1/namespaces/apps/serviceaccounts/default/token")).toBe(true);
    expect(await can(n1, "GET", "/api/v1/namespaces/apps/serviceaccounts/web-sa")).toBe(false);
  });

  test("a pod moving away takes its references with it", async () => {
    await k.client.delete(PODS, "batch", { namespace: "apps", gracePeriodSeconds: 0 });
    await eventually("batch's secret unreachable", async () => !(await can(n2, "GET", "/api/v1/namespaces/apps/secrets/batch-creds")));
    await k.client.create(PODS, pod("batch", "n1", { volumes: [{ name: "creds", secret: { secretName: "batch-creds" } }] }));
    await eventually("batch's secret reachable from n1", () => can(n1, "GET", "/api/v1/namespaces/apps/secrets/batch-creds"));
  });
});

describe("pods, nodes, leases and the static rules", () => {
  test("pods: get its own, list/watch only its own by spec.nodeName", async () => {
    expect(await can(n2, "GET", "/api/v1/namespaces/apps/pods/web")).toBe(false);
    expect(await can(n1, "GET", "/api/v1/pods", "fieldSelector=spec.nodeName%3Dn1")).toBe(true);
    expect(await can(n1, "GET", "/api/v1/watch/pods", "fieldSelector=spec.nodeName%3Dn1")).toBe(true);
    expect(await can(n1, "GET", "/api/v1/pods", "fieldSelector=spec.nodeName%3Dn2")).toBe(false);
    expect(await can(n1, "GET", "/api/v1/pods")).toBe(false);
    // Writes pass to the static rules (NodeRestriction admission narrows them).
    expect(await can(n1, "PATCH", "/api/v1/namespaces/apps/pods/web/status")).toBe(true);
    expect(await can(n1, "PUT", "/api/v1/namespaces/apps/pods/web")).toBe(false);
  });

  test("nodes: reads of its own Node only", async () => {
    expect(await can(n1, "GET", "/api/v1/nodes/n1")).toBe(true);
    expect(await can(n1, "GET", "/api/v1/nodes/n2")).toBe(false);
    expect(await can(n1, "GET", "/api/v1/nodes")).toBe(false);
    expect(await can(n1, "GET", "/api/v1/nodes", "fieldSelector=metadata.name%3Dn1")).toBe(true);
    expect(await can(n1, "PATCH", "/api/v1/nodes/n1/status")).toBe(true);
    expect(await can(n1, "DELETE", "/api/v1/nodes/n1")).toBe(false);
  });

  test("leases: its own, in kube-node-lease", async () => {
    expect(await can(n1, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1")).toBe(true);
    expect(await can(n1, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2")).toBe(false);
    expect(await can(n1, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases")).toBe(true);
    expect(await can(n1, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/n1")).toBe(false);
  });

  test("other resources per system:node's rules; not a node without the group", async () => {
    expect(await can(n1, "GET", "/api/v1/services")).toBe(true);
    expect(await can(n1, "POST", "/api/v1/namespaces/apps/events")).toBe(true);
    expect(await can(n1, "DELETE", "/api/v1/namespaces/apps/events/e")).toBe(false);
    expect(await can(n1, "GET", "/apis/apps/v1/deployments")).toBe(false);
    const impostor: UserInfo = { name: "system:node:n1", groups: ["system:authenticated"] };
    expect(await can(impostor, "GET", "/api/v1/namespaces/apps/secrets/web-tls")).toBe(false);
    expect((await k.authorizer.authorize({ name: "system:node:", groups: ["system:nodes"] }, attributesOf("GET", "/api/v1/nodes/x"))).reason).toContain("unknown node");
  });
});

test("modifying another node: the authorizer lets node writes through, NodeRestriction refuses another node's", async () => {
  const NODES = { group: "", version: "v1", resource: "nodes", namespaced: false } as const;
  for (const name of ["n1", "n2"]) await k.client.create(NODES, { apiVersion: "v1", kind: "Node", metadata: { name, labels: { "kubernetes.io/hostname": name } } } as KubeObject);
  const chain = new AdmissionChain([new NodeRestriction()]);
  const admit = async (u: UserInfo, target: string, change: (n: KubeObject) => void) => {
    const old = await k.client.get(NODES, target);
    const next = structuredClone(old);
    change(next);
    const req: AdmissionRequest = { operation: "UPDATE", group: "", version: "v1", resource: "nodes", namespace: "", name: target, object: next as Record<string, unknown>, oldObject: old as Record<string, unknown>, dryRun: false, userInfo: { username: u.name, groups: u.groups } };
    const nodes = k.registry.get("", "v1", "nodes")!;
    try {
      await chain.validate(chain.for(nodes), req);
      return "admitted";
    } catch (e) {
      return (e as Error).message;
    }
  };
  expect(await can(n1, "PATCH", "/api/v1/nodes/n2")).toBe(true);
  expect(await admit(n1, "n2", (n) => (n.metadata.labels = { ...n.metadata.labels, x: "y" }))).toBe('nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
  expect(await admit(n1, "n1", (n) => (n.metadata.labels = { ...n.metadata.labels, x: "y" }))).toBe("admitted");
  expect(await admit(n1, "n1", (n) => (n.metadata.labels = { ...n.metadata.labels, "node-role.kubernetes.io/control-plane": "" }))).toBe(
    'nodes "n1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io/control-plane',
  );
  expect(await admit({ name: "admin", groups: ["system:masters"] }, "n2", (n) => (n.metadata.labels = { ...n.metadata.labels, x: "y" }))).toBe("admitted");
});

test("podReferences", () => {
  const refs = podReferences({
    metadata: { name: "p", namespace: "x" },
    spec: {
      initContainers: [{ name: "i", env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "init-cm", key: "k" } } }] }],
      containers: [{ name: "c", envFrom: [{ secretRef: { name: "env-secret" } }] }],
      volumes: [
        { name: "e", ephemeral: { volumeClaimTemplate: {} } },
        { name: "c", csi: { driver: "d", nodePublishSecretRef: { name: "csi-secret" } } },
        { name: "r", rbd: { monitors: [], image: "i", secretRef: { name: "rbd-secret" } } },
      ],
    },
  } as unknown as KubeObject);
  expect(refs).toEqual([
    { kind: "pod", name: "p" },
    { kind: "serviceaccount", name: "default" },
    { kind: "configmap", name: "init-cm" },
    { kind: "secret", name: "env-secret" },
    { kind: "pvc", name: "p-e" },
    { kind: "secret", name: "csi-secret" },
    { kind: "secret", name: "rbd-secret" },
  ]);
});
