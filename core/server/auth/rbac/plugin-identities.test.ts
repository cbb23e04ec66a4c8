/**
 * @module The built-in plugins' identities against the bootstrap policy
 * (issue 10, least privilege), table-driven: for each plugin, the identity
 * its manifest declares may do what the plugin does, and may not read
 * Secrets or write Nodes unless upstream's role for that component allows
 * it. Decisions go through the kernel's full chain (system:masters → Node →
 * RBAC) with the default policy reconciled, as the request gate asks them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../../../api/meta.ts";
import { createKernel, type Kernel } from "../../../kernel.ts";
import { rootContainer } from "../../../plugin/di.ts";
import { resolveIdentity, userInfoOf } from "../../../plugin/identity.ts";
import { Tokens } from "../../../plugin/tokens.ts";
import type { PluginIdentity, PluginManifest } from "../../../plugin/types.ts";
import type { RuntimeAdapter } from "../../../runtime/adapter.ts";
import { builtinPlugins } from "../../../../plugins/index.ts";
import { attributesOf } from "../request-attributes.ts";

/** `METHOD /path[?query]`. */
type Call = string;
interface Row {
  plugin: string;
  /** For the node agent: a runtime simulating nodes. */
  simulated?: boolean;
  user: string;
  can: Call[];
  cannot: Call[];
}

const NODE_CANNOT = ["POST /api/v1/nodes", "PATCH /api/v1/nodes/n1", "PUT /api/v1/nodes/n1/status", "DELETE /api/v1/nodes/n1"];
const SECRET_CANNOT = ["GET /api/v1/namespaces/apps/secrets/creds", "LIST /api/v1/namespaces/apps/secrets", "WATCH /api/v1/secrets"];
const LEASE = (name: string) => `PUT /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}`;
const EVENT = "POST /api/v1/namespaces/apps/events";

const TABLE: Row[] = [
  {
    plugin: "scheduler",
    user: "system:kube-scheduler",
    can: ["LIST /api/v1/nodes", "POST /api/v1/namespaces/apps/pods/web/binding", "PATCH /api/v1/namespaces/apps/pods/web/status", "DELETE /api/v1/namespaces/apps/pods/web", EVENT],
    cannot: [...SECRET_CANNOT, ...NODE_CANNOT, "POST /api/v1/namespaces/apps/pods", "PUT /api/v1/namespaces/apps/pods/web"],
  },
  {
    plugin: "deployment-controller",
    user: "system:serviceaccount:kube-system:deployment-controller",
    can: [
      "POST /apis/apps/v1/namespaces/apps/replicasets",
      "PUT /apis/apps/v1/namespaces/apps/replicasets/web-1",
      "PATCH /apis/apps/v1/namespaces/apps/replicasets/web-1",
      "DELETE /apis/apps/v1/namespaces/apps/replicasets/web-1",
      "PUT /apis/apps/v1/namespaces/apps/deployments/web/status",
      "POST /apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
      "GET /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/deployment-controller",
      LEASE("deployment-controller"),
      EVENT,
    ],
    cannot: [...SECRET_CANNOT, ...NODE_CANNOT, LEASE("replicaset-controller"), "POST /api/v1/namespaces/apps/pods", "DELETE /apis/apps/v1/namespaces/apps/deployments/web"],
  },
  {
    plugin: "replicaset-controller",
    user: "system:serviceaccount:kube-system:replicaset-controller",
    can: [
      "POST /api/v1/namespaces/apps/pods",
      "DELETE /api/v1/namespaces/apps/pods/web-1",
      "PATCH /api/v1/namespaces/apps/pods/web-1",
      "GET /apis/apps/v1/namespaces/apps/replicasets/web-1",
      "PUT /apis/apps/v1/namespaces/apps/replicasets/web-1/status",
      "GET /api/v1/namespaces/apps/replicationcontrollers/rc",
      "PUT /api/v1/namespaces/apps/replicationcontrollers/rc/status",
      LEASE("replicaset-controller"),
      EVENT,
    ],
    cannot: [...SECRET_CANNOT, ...NODE_CANNOT, "POST /apis/apps/v1/namespaces/apps/deployments", "PUT /api/v1/namespaces/apps/pods/web-1/status", LEASE("deployment-controller")],
  },
  {
    plugin: "garbage-collector",
    user: "system:serviceaccount:kube-system:generic-garbage-collector",
    // Upstream: get/list/watch/patch/update/delete on everything (Secrets included).
    can: ["DELETE /api/v1/namespaces/apps/pods/web-1", "PATCH /api/v1/namespaces/apps/configmaps/c", "GET /api/v1/namespaces/apps/secrets/creds", "GET /apis/example.com/v1/widgets", LEASE("garbage-collector")],
    cannot: ["POST /api/v1/namespaces/apps/pods", "POST /api/v1/nodes", "POST /apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "DELETECOLLECTION /api/v1/namespaces/apps/pods"],
  },
  {
    plugin: "namespace-controller",
    user: "system:serviceaccount:kube-system:namespace-controller",
    // Upstream: get/list/watch/delete/deletecollection on everything (Secrets included).
    can: ["DELETE /api/v1/namespaces/apps", "PUT /api/v1/namespaces/apps/finalize", "PUT /api/v1/namespaces/apps/status", "DELETECOLLECTION /api/v1/namespaces/apps/pods", "LIST /api/v1/namespaces/apps/secrets", LEASE("namespace-controller")],
    cannot: ["POST /api/v1/namespaces", "POST /api/v1/namespaces/apps/pods", "PATCH /api/v1/nodes/n1", "PUT /api/v1/namespaces/apps/configmaps/c"],
  },
  {
    plugin: "node-lifecycle-controller",
    user: "system:serviceaccount:kube-system:node-controller",
    can: ["PATCH /api/v1/nodes/n1", "PATCH /api/v1/nodes/n1/status", "DELETE /api/v1/nodes/n1", "DELETE /api/v1/namespaces/apps/pods/web-1", "PATCH /api/v1/namespaces/apps/pods/web-1/status", LEASE("node-lifecycle-controller"), EVENT],
    cannot: [...SECRET_CANNOT, "POST /api/v1/nodes", "POST /api/v1/namespaces/apps/pods", "PATCH /api/v1/namespaces/apps/pods/web-1"],
  },
  {
    plugin: "endpoints-controller",
    user: "system:serviceaccount:kube-system:endpoint-controller",
    can: ["GET /api/v1/namespaces/apps/services/web", "LIST /api/v1/namespaces/apps/pods", "POST /api/v1/namespaces/apps/endpoints", "PUT /api/v1/namespaces/apps/endpoints/web", "DELETE /api/v1/namespaces/apps/endpoints/web", LEASE("endpoints-controller")],
    cannot: [...SECRET_CANNOT, ...NODE_CANNOT, "POST /apis/discovery.k8s.io/v1/namespaces/apps/endpointslices", "DELETE /api/v1/namespaces/apps/services/web"],
  },
  {
    plugin: "endpointslice-controller",
    user: "system:serviceaccount:kube-system:endpointslice-controller",
    can: [
      "GET /api/v1/nodes/n1",
      "POST /apis/discovery.k8s.io/v1/namespaces/apps/endpointslices",
      "PUT /apis/discovery.k8s.io/v1/namespaces/apps/endpointslices/web-abc",
      "DELETE /apis/discovery.k8s.io/v1/namespaces/apps/endpointslices/web-abc",
      LEASE("endpointslice-controller"),
    ],
    cannot: [...SECRET_CANNOT, ...NODE_CANNOT, "POST /api/v1/namespaces/apps/endpoints"],
  },
  {
    plugin: "event-ttl-controller",
    user: "system:serviceaccount:kube-system:event-ttl-controller",
    can: ["LIST /api/v1/events", "DELETE /api/v1/namespaces/apps/events/e1", "DELETE /apis/events.k8s.io/v1/namespaces/apps/events/e1", LEASE("event-ttl-controller")],
    cannot: [...SECRET_CANNOT, ...NODE_CANNOT, "DELETE /api/v1/namespaces/apps/pods/web-1", "DELETECOLLECTION /api/v1/namespaces/apps/events"],
  },
  {
    plugin: "serviceaccount-controller",
    user: "system:serviceaccount:kube-system:service-account-controller",
    can: ["POST /api/v1/namespaces/apps/serviceaccounts", LEASE("serviceaccount-controller")],
    cannot: [...SECRET_CANNOT, ...NODE_CANNOT, "DELETE /api/v1/namespaces/apps/serviceaccounts/default", "POST /api/v1/namespaces/apps/serviceaccounts/default/token"],
  },
  {
    plugin: "root-ca-cert-publisher",
    user: "system:serviceaccount:kube-system:root-ca-cert-publisher",
    can: ["POST /api/v1/namespaces/apps/configmaps", "PUT /api/v1/namespaces/apps/configmaps/kube-root-ca.crt", LEASE("root-ca-cert-publisher")],
    cannot: [...SECRET_CANNOT, ...NODE_CANNOT, "DELETE /api/v1/namespaces/apps/configmaps/kube-root-ca.crt", "POST /api/v1/namespaces/apps/secrets"],
  },
  {
    plugin: "resourcequota-controller",
    user: "system:serviceaccount:kube-system:resourcequota-controller",
    // Upstream: list/watch of everything (it counts Secrets), but no get.
    can: ["LIST /api/v1/namespaces/apps/pods", "LIST /api/v1/namespaces/apps/secrets", "PUT /api/v1/namespaces/apps/resourcequotas/q/status", LEASE("resourcequota-controller")],
    cannot: ["GET /api/v1/namespaces/apps/secrets/creds", ...NODE_CANNOT, "PUT /api/v1/namespaces/apps/resourcequotas/q"],
  },
  {
    plugin: "dns",
    user: "system:serviceaccount:kube-system:coredns",
    can: [
      "LIST /api/v1/services",
      "WATCH /apis/discovery.k8s.io/v1/endpointslices",
      "LIST /api/v1/pods",
      "LIST /api/v1/namespaces",
      "GET /api/v1/namespaces/kube-system/services/kube-dns",
      "POST /api/v1/namespaces/kube-system/services",
      "PUT /apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/kube-dns-skiff",
    ],
    cannot: [...SECRET_CANNOT, ...NODE_CANNOT, "DELETE /api/v1/namespaces/kube-system/services/kube-dns", "PUT /api/v1/namespaces/kube-system/services/kube-dns"],
  },
  {
    plugin: "network-proxy",
    user: "system:kube-proxy",
    can: ["LIST /api/v1/services", "WATCH /api/v1/endpoints", "LIST /apis/discovery.k8s.io/v1/endpointslices", "GET /api/v1/nodes/n1", EVENT],
    cannot: [...SECRET_CANNOT, ...NODE_CANNOT, "POST /api/v1/namespaces/apps/services", "LIST /api/v1/pods"],
  },
  {
    plugin: "node-agent",
    user: "system:node:n1",
    can: [
      "POST /api/v1/nodes",
      "GET /api/v1/nodes/n1",
      "PATCH /api/v1/nodes/n1/status",
      "LIST /api/v1/pods?fieldSelector=spec.nodeName%3Dn1",
      "PATCH /api/v1/namespaces/apps/pods/web-1/status",
      "DELETE /api/v1/namespaces/apps/pods/web-1",
      "PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1",
      // Referenced by web-1, which is bound to n1.
      "GET /api/v1/namespaces/apps/secrets/creds",
      "GET /api/v1/namespaces/apps/configmaps/settings",
      "GET /api/v1/namespaces/kube-system/services/kube-dns",
    ],
    cannot: [
      "GET /api/v1/namespaces/apps/secrets/other",
      "LIST /api/v1/namespaces/apps/secrets",
      "GET /api/v1/namespaces/apps/configmaps/other",
      "LIST /api/v1/pods",
      "LIST /api/v1/pods?fieldSelector=spec.nodeName%3Dn2",
      "GET /api/v1/nodes/n2",
      "PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n2",
      "DELETE /api/v1/namespaces/apps",
      "POST /apis/apps/v1/namespaces/apps/deployments",
    ],
  },
  {
    plugin: "node-agent",
    simulated: true,
    user: "system:skiff:node-simulator",
    // The node rules, unpartitioned (it acts for every simulated node), NodeRestriction does not apply.
    can: ["POST /api/v1/nodes", "PATCH /api/v1/nodes/node-7/status", "LIST /api/v1/pods", "PUT /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-7", "PATCH /api/v1/namespaces/apps/pods/web-1/status"],
    cannot: ["DELETE /api/v1/namespaces/apps", "POST /apis/apps/v1/namespaces/apps/deployments", "PATCH /api/v1/namespaces/apps/pods/web-1", "POST /apis/rbac.authorization.k8s.io/v1/clusterroles"],
  },
];

let k: Kernel;
const manifests = new Map<string, PluginManifest>(builtinPlugins().map((p) => [p.manifest.name, p.manifest]));

function identityOf(row: Row): PluginIdentity | "kernel" | undefined {
  const container = rootContainer.createChildContainer();
  if (row.simulated) {
    container.register(Tokens.RuntimeName, { useValue: "fake" });
    container.register(Tokens.RuntimeAdapter, { useValue: { name: "fake", simulatedNodes: [{ name: "node-7" }] } as unknown as RuntimeAdapter });
  }
  return resolveIdentity(manifests.get(row.plugin)!, { container, nodeName: "n1" });
}

async function decide(identity: PluginIdentity, call: Call): Promise<string> {
  const [verb, target] = call.split(" ") as [string, string];
  const [path, query] = target.split("?") as [string, string | undefined];
  const method = verb === "LIST" || verb === "WATCH" ? "GET" : verb === "DELETECOLLECTION" ? "DELETE" : verb;
  const q = new URLSearchParams(query ?? "");
  if (verb === "WATCH") q.set("watch", "true");
  const attrs = attributesOf(method, path, q);
  return (await k.authorizer.authorize(userInfoOf(identity), attrs)).decision;
}

beforeAll(async () => {
  k = await createKernel({ memory: true, security: { enabled: true } });
  await k.client.create({ group: "", version: "v1", resource: "namespaces", namespaced: false }, { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } });
  await k.client.create({ group: "", version: "v1", resource: "pods" }, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web-1", namespace: "apps" },
    spec: {
      nodeName: "n1",
      containers: [{ name: "c", image: "busybox", env: [{ name: "M", valueFrom: { configMapKeyRef: { name: "settings", key: "m" } } }] }],
      volumes: [{ name: "creds", secret: { secretName: "creds" } }],
    },
  } as KubeObject);
  // The Node authorizer's pod index follows its informer.
  const deadline = Date.now() + 5000;
  while ((await decide({ user: "system:node:n1", groups: ["system:nodes"] }, "GET /api/v1/namespaces/apps/secrets/creds")) !== "allow") {
    if (Date.now() > deadline) throw new Error("the Node authorizer never saw web-1");
    await new Promise((r) => setTimeout(r, 10));
  }
});
afterAll(() => k.stop());

describe("built-in plugin identities", () => {
  for (const row of TABLE) {
    test(`${row.plugin}${row.simulated ? " (simulated nodes)" : ""} acts as ${row.user}`, async () => {
      const id = identityOf(row);
      expect(id !== "kernel" && id?.user).toBe(row.user);
      const identity = id as PluginIdentity;
      const got: Record<string, string> = {};
      for (const c of [...row.can, ...row.cannot]) got[c] = await decide(identity, c);
      const want: Record<string, string> = {};
      for (const c of row.can) want[c] = "allow";
      for (const c of row.cannot) want[c] = "no-opinion";
      expect(got).toEqual(want);
    });
  }

  test("every built-in plugin that starts declares an identity; only admission plugins keep the kernel's", () => {
    const kernel: string[] = [];
    for (const p of builtinPlugins()) {
      if (!p.start) continue;
      const id = resolveIdentity(p.manifest, { container: rootContainer.createChildContainer(), nodeName: "n1" });
      expect(id === undefined ? `${p.manifest.name}: none` : p.manifest.name).toBe(p.manifest.name);
      if (id === "kernel") kernel.push(p.manifest.name);
    }
    for (const name of kernel) expect(manifests.get(name)!.provides ?? []).toContain(`admission:${name}`);
    const tested = new Set(TABLE.map((r) => r.plugin));
    const untested = builtinPlugins().filter((p) => p.start && !kernel.includes(p.manifest.name) && !tested.has(p.manifest.name));
    expect(untested.map((p) => p.manifest.name)).toEqual([]);
  });
});
