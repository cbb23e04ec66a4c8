import { afterAll, beforeAll, expect, test } from "bun:test";
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject } from "../../../core/api/meta.ts";
import type { ResourceRef } from "../../../core/client/types.ts";
import { type Condition, DEPLOYMENTS, NAMESPACES, PODS } from "../common/refs.ts";
import { listPods, podTemplate, startCluster, type TestCluster, until } from "../common/testing.ts";
import { createDeploymentPlugin } from "../deployment/index.ts";
import { createGarbageCollectorPlugin } from "../garbage-collector/index.ts";
import { createReplicaSetPlugin } from "../replicaset/index.ts";
import { createNamespacePlugin } from "./index.ts";

const CM: ResourceRef = { group: "", version: "v1", resource: "configmaps" };
let c: TestCluster;
beforeAll(async () => {
  c = await startCluster([createNamespacePlugin() as never, createGarbageCollectorPlugin() as never, createReplicaSetPlugin() as never, createDeploymentPlugin() as never]);
});
afterAll(() => c.stop());

const gone = (r: ResourceRef, name: string, namespace?: string) =>
  c.client.get(r, name, namespace ? { namespace } : {}).then(
    () => false,
    (e: unknown) => isApiError(e, "NotFound"),
  );

test("deleting a namespace removes its contents, then the namespace; creating in it meanwhile is refused", async () => {
  await c.client.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } });
  await c.client.create(CM, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "plain", namespace: "doomed" } });
  await c.client.create(CM, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "held", namespace: "doomed", finalizers: ["example.com/hold"] } });
  await c.client.create(DEPLOYMENTS, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "doomed" },
    spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, template: podTemplate({ app: "web" }) },
  });
  await until("pods", async () => (await listPods(c.client, { namespace: "doomed" })).length === 2);

  await c.client.delete(NAMESPACES, "doomed");
  const ns = await c.client.get<KubeObject & { status?: { phase?: string } }>(NAMESPACES, "doomed");
  expect(ns.status?.phase).toBe("Terminating");
  const refused = await c.client.create(CM, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "late", namespace: "doomed" } }).catch((e: unknown) => e);
  expect(isApiError(refused, "Forbidden")).toBe(true);
  expect((refused as Error).message).toContain("because it is being terminated");

  // Everything without a finalizer goes; the held ConfigMap keeps the namespace, and the conditions say why.
  await until("content deleted", async () => (await gone(DEPLOYMENTS, "web", "doomed")) && (await gone(CM, "plain", "doomed")) && (await listPods(c.client, { namespace: "doomed" })).length === 0);
  const cond = await until("conditions", async () => {
    const x = await c.client.get<KubeObject & { status?: { conditions?: Condition[] } }>(NAMESPACES, "doomed");
    const f = x.status?.conditions?.find((y) => y.type === "NamespaceFinalizersRemaining");
    return f?.status === "True" && x.status!.conditions!;
  });
  expect(cond.find((y) => y.type === "NamespaceFinalizersRemaining")!.message).toBe(
    "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances",
  );
  expect(cond.find((y) => y.type === "NamespaceContentRemaining")!.message).toBe("Some resources are remaining: configmaps has 1 resource instances");
  expect(await gone(NAMESPACES, "doomed")).toBe(false);

  await c.client.patch(CM, "held", "merge", { metadata: { finalizers: null } }, { namespace: "doomed" });
  await until("namespace gone", () => gone(NAMESPACES, "doomed"), 8000);
}, 20_000); // the last wait alone may take 8 s (the controller's requeue backoff); bun's default 5 s cut it under load

test("an empty namespace goes at once", async () => {
  await c.client.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: "empty" } });
  await c.client.delete(NAMESPACES, "empty");
  await until("gone", () => gone(NAMESPACES, "empty"));
  expect(await gone(PODS, "x", "default")).toBe(true);
});
