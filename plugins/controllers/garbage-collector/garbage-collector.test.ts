import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isApiError } from "../../../core/api/errors.ts";
import type { KubeObject, OwnerReference } from "../../../core/api/meta.ts";
import type { Client, ResourceRef } from "../../../core/client/types.ts";
import { type Deployment, DEPLOYMENTS, PODS, REPLICA_SETS, type ReplicaSet } from "../common/refs.ts";
import { FakeKubelet, listPods, podTemplate, rolloutStatus, startCluster, type TestCluster, until } from "../common/testing.ts";
import { createDeploymentPlugin } from "../deployment/index.ts";
import { createReplicaSetPlugin } from "../replicaset/index.ts";
import { createGarbageCollectorPlugin } from "./index.ts";

const CM: ResourceRef = { group: "", version: "v1", resource: "configmaps" };
const NS = "default";
let c: TestCluster;

beforeAll(async () => {
  c = await startCluster([createGarbageCollectorPlugin() as never, createReplicaSetPlugin() as never, createDeploymentPlugin() as never]);
});
afterAll(() => c.stop());

const ref = (o: KubeObject, block = true): OwnerReference => ({ apiVersion: "v1", kind: "ConfigMap", name: o.metadata.name!, uid: o.metadata.uid!, ...(block ? { blockOwnerDeletion: true } : {}) });
const cm = (client: Client, name: string, meta: Record<string, unknown> = {}) =>
  client.create<KubeObject>(CM, { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: NS, ...meta } });
const gone = (client: Client, r: ResourceRef, name: string) =>
  client.get(r, name, { namespace: NS }).then(
    () => false,
    (e: unknown) => isApiError(e, "NotFound"),
  );
const exists = async (r: ResourceRef, name: string) => !(await gone(c.client, r, name));

describe("garbage collector", () => {
  test.each([
    ["no policy (Background)", "none", undefined],
    ["Background", "bg", "Background"],
  ] as const)("%s: dependents go after their owner", async (_l, id, policy) => {
    const owner = await cm(c.client, `owner-${id}`);
    await cm(c.client, `dep-${id}`, { ownerReferences: [ref(owner)] });
    await c.client.delete(CM, owner.metadata.name!, { namespace: NS, ...(policy ? { propagationPolicy: policy } : {}) });
    await until("dependent collected", () => gone(c.client, CM, `dep-${id}`));
  });

  test("an object with one live owner left only loses the reference to the gone one", async () => {
    const a = await cm(c.client, "two-a");
    const b = await cm(c.client, "two-b");
    await cm(c.client, "two-dep", { ownerReferences: [ref(a), ref(b)] });
    await c.client.delete(CM, "two-a", { namespace: NS });
    await until("reference dropped", async () => {
      const d = await c.client.get(CM, "two-dep", { namespace: NS });
      return d.metadata.ownerReferences?.length === 1 && d.metadata.ownerReferences[0]!.uid === b.metadata.uid;
    });
  });

  test("Foreground: the owner waits for blocking dependents, not for the others", async () => {
    const owner = await cm(c.client, "fg-owner");
    await cm(c.client, "fg-block", { ownerReferences: [ref(owner, true)], finalizers: ["example.com/hold"] });
    await cm(c.client, "fg-free", { ownerReferences: [ref(owner, false)] });
    await c.client.delete(CM, "fg-owner", { namespace: NS, propagationPolicy: "Foreground" });
    await until("blocking dependent terminating", async () => (await c.client.get(CM, "fg-block", { namespace: NS })).metadata.deletionTimestamp !== undefined);
    await until("free dependent gone", () => gone(c.client, CM, "fg-free"));
    const o = await c.client.get(CM, "fg-owner", { namespace: NS });
    expect(o.metadata.finalizers).toContain("foregroundDeletion");
    expect(o.metadata.deletionTimestamp).toBeDefined();
    await c.client.patch(CM, "fg-block", "merge", { metadata: { finalizers: null } }, { namespace: NS });
    await until("owner gone", () => gone(c.client, CM, "fg-owner"));
  });

  test("Orphan: dependents stay, without the reference", async () => {
    const owner = await cm(c.client, "or-owner");
    await cm(c.client, "or-dep", { ownerReferences: [ref(owner)] });
    await c.client.delete(CM, "or-owner", { namespace: NS, propagationPolicy: "Orphan" });
    await until("owner gone", () => gone(c.client, CM, "or-owner"));
    const d = await c.client.get(CM, "or-dep", { namespace: NS });
    expect(d.metadata.ownerReferences).toBeUndefined();
  });

  test("an owner that never existed (unknown uid) makes the dependent garbage; an unknown kind does not", async () => {
    await cm(c.client, "ghost-dep", { ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "ghost", uid: "00000000-0000-0000-0000-000000000000" }] });
    await cm(c.client, "alien-dep", { ownerReferences: [{ apiVersion: "example.com/v1", kind: "Alien", name: "x", uid: "00000000-0000-0000-0000-000000000001" }] });
    await until("ghost's dependent collected", () => gone(c.client, CM, "ghost-dep"));
    expect(await exists(CM, "alien-dep")).toBe(true);
  });

  test("deleting a Deployment in the foreground removes ReplicaSets and pods first; orphan leaves them", async () => {
    const kubelet = await new FakeKubelet(c.client, NS).start();
    try {
      for (const name of ["gc-fg", "gc-orphan"]) {
        await c.client.create(DEPLOYMENTS, {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name, namespace: NS },
          spec: { replicas: 3, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }) },
        });
        await until(`${name} rolled out`, async () => rolloutStatus(await c.client.get<Deployment>(DEPLOYMENTS, name, { namespace: NS })) === "done");
      }
      await c.client.delete(DEPLOYMENTS, "gc-fg", { namespace: NS, propagationPolicy: "Foreground" });
      await until("deployment gone", () => gone(c.client, DEPLOYMENTS, "gc-fg"), 8000);
      expect((await c.client.list<ReplicaSet>(REPLICA_SETS, { namespace: NS, labelSelector: "app=gc-fg" })).items).toEqual([]);
      expect(await listPods(c.client, { namespace: NS, labelSelector: "app=gc-fg" })).toEqual([]);

      await c.client.delete(DEPLOYMENTS, "gc-orphan", { namespace: NS, propagationPolicy: "Orphan" });
      await until("deployment gone", () => gone(c.client, DEPLOYMENTS, "gc-orphan"));
      const rss = (await c.client.list<ReplicaSet>(REPLICA_SETS, { namespace: NS, labelSelector: "app=gc-orphan" })).items;
      expect(rss.length).toBe(1);
      expect(rss[0]!.metadata.ownerReferences).toBeUndefined();
      expect((await listPods(c.client, { namespace: NS, labelSelector: "app=gc-orphan" })).length).toBe(3);
    } finally {
      await kubelet.stop();
    }
  });
});

test("dependents whose owner was deleted while no collector ran are collected at startup", async () => {
  const dir = mkdtempSync(join(tmpdir(), "skiff-gc-"));
  try {
    const before = await startCluster([], {}, dir);
    const owner = await cm(before.client, "startup-owner");
    await cm(before.client, "startup-dep", { ownerReferences: [ref(owner)] });
    await before.client.create(PODS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "startup-pod", namespace: NS, ownerReferences: [ref(owner)] },
      spec: { containers: [{ name: "c", image: "x" }] },
    });
    await before.client.delete(CM, "startup-owner", { namespace: NS });
    expect(await gone(before.client, CM, "startup-dep")).toBe(false);
    await before.stop();
    const after = await startCluster([createGarbageCollectorPlugin() as never], {}, dir);
    try {
      await until("collected", async () => (await gone(after.client, CM, "startup-dep")) && (await gone(after.client, PODS, "startup-pod")));
    } finally {
      await after.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
