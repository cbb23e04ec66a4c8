/**
 * @module Issue 10, least privilege: a secure all-in-one kernel (RBAC, the
 * Node authorizer, NodeRestriction on; the fake runtime) where every
 * built-in plugin acts as its own identity still runs a Deployment end to
 * end — scheduled, started by the in-process node agent (as
 * `system:node:n1`, reading its pods' ConfigMap and Secret through the Node
 * authorizer), published as Endpoints and EndpointSlices, rolled out to a
 * new image, scaled down,
 * garbage-collected, its namespace emptied and removed — and the audit log
 * shows each plugin acting under its own user, with no request refused.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../core/api/meta.ts";
import { isApiError } from "../core/api/errors.ts";
import { createKernel, type Kernel } from "../core/kernel.ts";
import type { AuditEvent } from "../core/server/audit.ts";
import { builtinPlugins } from "../plugins/index.ts";

setDefaultTimeout(60_000);

const NS = { group: "", version: "v1", resource: "namespaces", namespaced: false } as const;
const NODES = { group: "", version: "v1", resource: "nodes", namespaced: false } as const;
const PODS = { group: "", version: "v1", resource: "pods" } as const;
const CMS = { group: "", version: "v1", resource: "configmaps" } as const;
const SECRETS = { group: "", version: "v1", resource: "secrets" } as const;
const SVCS = { group: "", version: "v1", resource: "services" } as const;
const EPS = { group: "", version: "v1", resource: "endpoints" } as const;
const SLICES = { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" } as const;
const SAS = { group: "", version: "v1", resource: "serviceaccounts" } as const;
const DEPLOYS = { group: "apps", version: "v1", resource: "deployments" } as const;
const RSS = { group: "apps", version: "v1", resource: "replicasets" } as const;

type Obj = KubeObject & Record<string, any>;

let k: Kernel;
let dir: string;

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function audit(): Promise<AuditEvent[]> {
  await k.audit!.flush();
  return readFileSync(join(dir, "audit.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "skiff-identities-"));
  const fast = { leaderElection: { enabled: true, leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 1 } };
  k = await createKernel({
    memory: true,
    security: { enabled: true },
    audit: { path: join(dir, "audit.log") },
    plugins: {
      available: builtinPlugins(),
      runtime: "fake",
      nodeName: "n1",
      // The proxy would program this host's nftables (as root): its identity is covered by the table test.
      disable: ["network-proxy"],
      settings: {
        dns: { config: { listen: ["0.0.0.0:0"], upstream: ["127.0.0.1:9"], service: { endpointAddress: "192.0.2.10" } } },
        "node-agent": { config: { server: { enabled: false } } },
        ...Object.fromEntries(
          ["deployment-controller", "replicaset-controller", "garbage-collector", "namespace-controller", "endpoints-controller", "endpointslice-controller"].map((n) => [n, { config: fast }]),
        ),
      },
    },
  });
});

afterAll(async () => {
  await k?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("every built-in plugin with work of its own runs under its own identity", () => {
  const users = Object.fromEntries(k.plugins.status().map((s) => [s.name, s.user]));
  expect(users).toMatchObject({
    scheduler: "system:kube-scheduler",
    "node-agent": "system:node:n1",
    dns: "system:serviceaccount:kube-system:coredns",
    "deployment-controller": "system:serviceaccount:kube-system:deployment-controller",
    "replicaset-controller": "system:serviceaccount:kube-system:replicaset-controller",
    "garbage-collector": "system:serviceaccount:kube-system:generic-garbage-collector",
    "namespace-controller": "system:serviceaccount:kube-system:namespace-controller",
    "node-lifecycle-controller": "system:serviceaccount:kube-system:node-controller",
    "endpoints-controller": "system:serviceaccount:kube-system:endpoint-controller",
    "endpointslice-controller": "system:serviceaccount:kube-system:endpointslice-controller",
    "event-ttl-controller": "system:serviceaccount:kube-system:event-ttl-controller",
    "serviceaccount-controller": "system:serviceaccount:kube-system:service-account-controller",
    "root-ca-cert-publisher": "system:serviceaccount:kube-system:root-ca-cert-publisher",
    "resourcequota-controller": "system:serviceaccount:kube-system:resourcequota-controller",
  });
  expect(k.plugins.status().filter((s) => s.state !== "running")).toEqual([]);
});

test("a Deployment runs end to end with least-privileged plugins, and nothing is refused", async () => {
  const c = k.client;
  await until("node n1 Ready", async () => {
    const n = await c.get<Obj>(NODES, "n1");
    return n.status?.conditions?.some((x: { type: string; status: string }) => x.type === "Ready" && x.status === "True");
  });
  await c.create(NS, { apiVersion: "v1", kind: "Namespace", metadata: { name: "apps" } });
  await until("the default ServiceAccount", () => c.get(SAS, "default", { namespace: "apps" }));
  await c.create(CMS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "apps" }, data: { mode: "edge" } });
  await c.create(SECRETS, { apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: "apps" }, stringData: { token: "s3cret" } } as KubeObject);
  await c.create(DEPLOYS, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "apps" },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          automountServiceAccountToken: false,
          containers: [
            {
              name: "web",
              image: "busybox",
              ports: [{ containerPort: 8080 }],
              env: [{ name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } }],
              volumeMounts: [{ name: "creds", mountPath: "/creds" }],
            },
          ],
          volumes: [{ name: "creds", secret: { secretName: "creds" } }],
        },
      },
    },
  } as KubeObject);
  await c.create(SVCS, { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "apps" }, spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } });

  await until("two Running pods on n1", async () => {
    const pods = (await c.list<Obj>(PODS, { namespace: "apps" })).items;
    return pods.length === 2 && pods.every((p) => p.spec.nodeName === "n1" && p.status?.phase === "Running");
  });
  await until("the Deployment available", async () => (await c.get<Obj>(DEPLOYS, "web", { namespace: "apps" })).status?.availableReplicas === 2);
  await until("Endpoints with both pods", async () => (await c.get<Obj>(EPS, "web", { namespace: "apps" })).subsets?.[0]?.addresses?.length === 2);
  await until("an EndpointSlice with both pods", async () => {
    const slices = (await c.list<Obj>(SLICES, { namespace: "apps", labelSelector: "kubernetes.io/service-name=web" })).items;
    return slices.some((s) => s.endpoints?.filter((e: { conditions?: { ready?: boolean } }) => e.conditions?.ready).length === 2);
  });
  await until("the kube-dns Service", () => c.get(SVCS, "kube-dns", { namespace: "kube-system" }));

  // A rollout: a second ReplicaSet, the old one scaled to zero.
  await c.patch(DEPLOYS, "web", "strategic", { spec: { template: { spec: { containers: [{ name: "web", image: "busybox:2" }] } } } }, { namespace: "apps" });
  await until("the rollout complete", async () => {
    const d = await c.get<Obj>(DEPLOYS, "web", { namespace: "apps" });
    const rss = (await c.list<Obj>(RSS, { namespace: "apps" })).items;
    const pods = (await c.list<Obj>(PODS, { namespace: "apps" })).items;
    return (
      rss.length === 2 &&
      d.status?.updatedReplicas === 2 &&
      d.status?.availableReplicas === 2 &&
      pods.length === 2 &&
      pods.every((p) => p.spec.containers[0].image === "busybox:2" && p.status?.phase === "Running")
    );
  });

  await c.patch(DEPLOYS, "web", "merge", { spec: { replicas: 1 } }, { namespace: "apps" });
  await until("one pod left", async () => (await c.list(PODS, { namespace: "apps" })).items.length === 1);

  await c.delete(DEPLOYS, "web", { namespace: "apps", propagationPolicy: "Background" });
  await until("the ReplicaSet and its pod collected", async () => {
    const [rss, pods] = await Promise.all([c.list(RSS, { namespace: "apps" }), c.list(PODS, { namespace: "apps" })]);
    return rss.items.length === 0 && pods.items.length === 0;
  });

  const refusedBefore = (await audit()).filter((e) => e.responseStatus.code === 403).map((e) => `${e.user.username} ${e.verb} ${e.requestURI}`);
  expect(refusedBefore).toEqual([]);

  await c.delete(NS, "apps");
  await until("the namespace removed", async () => {
    try {
      await c.get(NS, "apps");
      return false;
    } catch (e) {
      return isApiError(e, "NotFound");
    }
  });

  const events = await audit();
  // Events about a terminating namespace's objects are refused by its lifecycle (403 too), not by RBAC.
  const terminating = (e: AuditEvent) => e.verb === "create" && e.objectRef?.resource === "events" && e.objectRef.namespace === "apps";
  const refused = events.filter((e) => e.responseStatus.code === 403 && !terminating(e)).map((e) => `${e.user.username} ${e.verb} ${e.requestURI}`);
  expect(refused).toEqual([]);
  const actors = new Set(events.map((e) => `${e.user.username} ${e.verb} ${e.objectRef?.resource ?? ""}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""}`));
  for (const want of [
    "system:kube-scheduler create pods/binding",
    "system:node:n1 patch pods/status",
    "system:node:n1 create nodes",
    "system:serviceaccount:kube-system:deployment-controller create replicasets",
    "system:serviceaccount:kube-system:replicaset-controller create pods",
    "system:serviceaccount:kube-system:endpoint-controller create endpoints",
    "system:serviceaccount:kube-system:endpointslice-controller create endpointslices",
    "system:serviceaccount:kube-system:generic-garbage-collector delete pods",
    "system:serviceaccount:kube-system:namespace-controller update namespaces/finalize",
    "system:serviceaccount:kube-system:service-account-controller create serviceaccounts",
    "system:serviceaccount:kube-system:coredns create services",
  ]) {
    expect([...actors]).toContain(want);
  }
});
