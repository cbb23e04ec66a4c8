import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../../../core/api/meta.ts";
import { PODS, REPLICA_SETS, REPLICATION_CONTROLLERS, type Pod, type ReplicaOwner } from "../common/refs.ts";
import { listPods, podTemplate, setPodReady, startCluster, type TestCluster, until } from "../common/testing.ts";
import { createReplicaSetPlugin } from "./index.ts";

let c: TestCluster;
beforeAll(async () => {
  c = await startCluster([createReplicaSetPlugin() as never]);
});
afterAll(() => c.stop());

function rs(name: string, replicas: number, labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace: "default" },
    spec: { replicas, selector: { matchLabels: labels }, template: podTemplate(labels), ...extra },
  };
}

const active = (pods: Pod[]) => pods.filter((p) => !p.metadata.deletionTimestamp);

describe("ReplicaSet", () => {
  test("creates the missing pods, owned by the ReplicaSet, and reports status", async () => {
    const created = await c.client.create<ReplicaOwner>(REPLICA_SETS, rs("a", 3, { app: "a" }));
    const pods = await until("3 pods", async () => {
      const p = await listPods(c.client, { namespace: "default", labelSelector: "app=a" });
      return p.length === 3 && p;
    });
    for (const p of pods) {
      expect(p.metadata.generateName).toBe("a-");
      expect(p.metadata.ownerReferences).toEqual([
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "a", uid: created.metadata.uid!, controller: true, blockOwnerDeletion: true },
      ]);
    }
    await until("status.replicas 3", async () => (await c.client.get<ReplicaOwner>(REPLICA_SETS, "a", { namespace: "default" })).status?.replicas === 3);
    for (const p of pods.slice(0, 2)) await setPodReady(c.client, p);
    const st = await until("2 ready", async () => {
      const s = (await c.client.get<ReplicaOwner>(REPLICA_SETS, "a", { namespace: "default" })).status;
      return s?.readyReplicas === 2 && s;
    });
    expect(st).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
  });

  test("replaces deleted pods and scales down deleting the least valuable pods first", async () => {
    const pods = await listPods(c.client, { namespace: "default", labelSelector: "app=a" });
    await c.client.delete(PODS, pods[0]!.metadata.name!, { namespace: "default" });
    await until("back to 3", async () => {
      const p = active(await listPods(c.client, { namespace: "default", labelSelector: "app=a" }));
      return p.length === 3 && !p.some((x) => x.metadata.uid === pods[0]!.metadata.uid);
    });
    const now = await listPods(c.client, { namespace: "default", labelSelector: "app=a" });
    const ready = now.filter((p) => p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True"));
    await c.client.patch(REPLICA_SETS, "a", "merge", { spec: { replicas: ready.length } }, { namespace: "default" });
    const left = await until("scaled down", async () => {
      const p = active(await listPods(c.client, { namespace: "default", labelSelector: "app=a" }));
      return p.length === ready.length && p;
    });
    // The not-ready pods went first.
    expect(left.map((p) => p.metadata.uid).sort()).toEqual(ready.map((p) => p.metadata.uid).sort());
  });

  test("adopts a matching orphan instead of creating, and releases a pod whose labels stop matching", async () => {
    await c.client.create(PODS, { apiVersion: "v1", kind: "Pod", metadata: { name: "orphan", namespace: "default", labels: { app: "b" } }, spec: { containers: [{ name: "c", image: "x" }] } });
    const owner = await c.client.create<ReplicaOwner>(REPLICA_SETS, rs("b", 2, { app: "b" }));
    const adopted = await until("orphan adopted", async () => {
      const p = await c.client.get<Pod>(PODS, "orphan", { namespace: "default" });
      return p.metadata.ownerReferences?.[0]?.uid === owner.metadata.uid && p;
    });
    expect(adopted.metadata.ownerReferences![0]!.controller).toBe(true);
    await until("2 pods", async () => (await listPods(c.client, { namespace: "default", labelSelector: "app=b" })).length === 2);
    await c.client.patch(PODS, "orphan", "merge", { metadata: { labels: { app: "elsewhere" } } }, { namespace: "default" });
    await until("released", async () => ((await c.client.get<Pod>(PODS, "orphan", { namespace: "default" })).metadata.ownerReferences ?? []).length === 0);
    await until("replacement", async () => active(await listPods(c.client, { namespace: "default", labelSelector: "app=b" })).length === 2);
  });

  test("availableReplicas waits for minReadySeconds", async () => {
    await c.client.create(REPLICA_SETS, rs("m", 1, { app: "m" }, { minReadySeconds: 1 }));
    const [p] = await until("pod", async () => {
      const l = await listPods(c.client, { namespace: "default", labelSelector: "app=m" });
      return l.length === 1 && l;
    });
    await setPodReady(c.client, p!, true, Date.now());
    const get = async () => (await c.client.get<ReplicaOwner>(REPLICA_SETS, "m", { namespace: "default" })).status;
    await until("ready", async () => (await get())?.readyReplicas === 1);
    expect((await get())?.availableReplicas ?? 0).toBe(0);
    await until("available after minReadySeconds", async () => (await get())?.availableReplicas === 1, 4000);
  });

  test("never creates twice under a burst of syncs (expectations)", async () => {
    await c.client.create(REPLICA_SETS, rs("e", 20, { app: "e" }));
    // Poke the ReplicaSet repeatedly while it creates: each poke is a sync.
    for (let i = 0; i < 10; i++) await c.client.patch(REPLICA_SETS, "e", "merge", { metadata: { annotations: { poke: String(i) } } }, { namespace: "default" });
    await until("20 pods", async () => (await listPods(c.client, { namespace: "default", labelSelector: "app=e" })).length === 20);
    await new Promise((r) => setTimeout(r, 300));
    expect((await listPods(c.client, { namespace: "default", labelSelector: "app=e" })).length).toBe(20);
  });
});

describe("ReplicationController", () => {
  test("keeps 3 pods with a map selector", async () => {
    await c.client.create(REPLICATION_CONTROLLERS, {
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "rc", namespace: "default" },
      spec: { replicas: 3, selector: { app: "rc" }, template: podTemplate({ app: "rc" }) },
    });
    const pods = await until("3 pods", async () => {
      const p = await listPods(c.client, { namespace: "default", labelSelector: "app=rc" });
      return p.length === 3 && p;
    });
    expect(pods[0]!.metadata.ownerReferences![0]).toMatchObject({ apiVersion: "v1", kind: "ReplicationController", name: "rc", controller: true });
    await c.client.delete(PODS, pods[1]!.metadata.name!, { namespace: "default" });
    await until("back to 3", async () => {
      const p = active(await listPods(c.client, { namespace: "default", labelSelector: "app=rc" }));
      return p.length === 3 && !p.some((x) => x.metadata.uid === pods[1]!.metadata.uid);
    });
    await until("status", async () => (await c.client.get<ReplicaOwner>(REPLICATION_CONTROLLERS, "rc", { namespace: "default" })).status?.replicas === 3);
  });
});
