import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { KubeObject } from "../../../core/api/meta.ts";
import { type Deployment, DEPLOYMENTS, type Pod, PODS, REPLICA_SETS, type ReplicaSet } from "../common/refs.ts";
import { FakeKubelet, listPods, podTemplate, rolloutStatus, startCluster, type TestCluster, until } from "../common/testing.ts";
import { createReplicaSetPlugin } from "../replicaset/index.ts";
import { createDeploymentPlugin } from "./index.ts";
import { DESIRED_REPLICAS, MAX_REPLICAS, REVISION, REVISION_HISTORY } from "./util.ts";

let c: TestCluster;
let kubelet: FakeKubelet;
const NS = "default";

beforeAll(async () => {
  c = await startCluster([createReplicaSetPlugin() as never, createDeploymentPlugin() as never]);
  kubelet = await new FakeKubelet(c.client, NS, 5).start();
});
afterAll(async () => {
  await kubelet.stop();
  await c.stop();
});

function deployment(name: string, replicas: number, extra: Record<string, unknown> = {}, image = "nginx:1.27"): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }, image), ...extra },
  };
}

const getD = (name: string) => c.client.get<Deployment>(DEPLOYMENTS, name, { namespace: NS });
const replicaSetsOf = async (name: string) =>
  (await c.client.list<ReplicaSet>(REPLICA_SETS, { namespace: NS, labelSelector: `app=${name}` })).items.sort((a, b) => Number(a.metadata.annotations?.[REVISION]) - Number(b.metadata.annotations?.[REVISION]));
const setImage = (name: string, image: string) =>
  c.client.patch(DEPLOYMENTS, name, "strategic", { spec: { template: { spec: { containers: [{ name: "c", image }] } } } }, { namespace: NS });
const complete = (name: string, ms = 8000) => until(`${name} rolled out`, async () => rolloutStatus(await getD(name)) === "done", ms);

/** Watches pods of a Deployment and records the worst moments: most pods, fewest ready. */
async function watchBounds(name: string): Promise<{ stop(): { maxPods: number; minReady: number } }> {
  const list = await c.client.list<Pod>(PODS, { namespace: NS, labelSelector: `app=${name}` });
  const pods = new Map<string, Pod>(list.items.map((p) => [p.metadata.uid!, p]));
  const stream = c.client.watch<Pod>(PODS, { namespace: NS, labelSelector: `app=${name}`, resourceVersion: list.metadata.resourceVersion! });
  let maxPods = 0;
  let minReady = Infinity;
  const observe = () => {
    const live = [...pods.values()].filter((p) => !p.metadata.deletionTimestamp);
    maxPods = Math.max(maxPods, live.length);
    minReady = Math.min(minReady, live.filter((p) => p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True")).length);
  };
  observe();
  void (async () => {
    try {
      for await (const ev of stream) {
        if (ev.type === "DELETED") pods.delete(ev.object.metadata.uid!);
        else if (ev.type !== "BOOKMARK") pods.set(ev.object.metadata.uid!, ev.object);
        observe();
      }
    } catch {
      // closed
    }
  })();
  return {
    stop() {
      stream.close();
      return { maxPods, minReady };
    },
  };
}

describe("Deployment", () => {
  test("creates a hashed ReplicaSet with revision 1 and reports a complete rollout", async () => {
    await c.client.create(DEPLOYMENTS, deployment("web", 5));
    await complete("web");
    const [rs] = await replicaSetsOf("web");
    const hash = rs!.metadata.labels!["pod-template-hash"]!;
    expect(rs!.metadata.name).toBe(`web-${hash}`);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(rs!.spec!.selector).toEqual({ matchLabels: { app: "web", "pod-template-hash": hash } });
    expect(rs!.spec!.template!.metadata!.labels).toEqual({ app: "web", "pod-template-hash": hash });
    expect(rs!.metadata.annotations).toMatchObject({ [REVISION]: "1", [DESIRED_REPLICAS]: "5", [MAX_REPLICAS]: "7" });
    expect(rs!.metadata.ownerReferences![0]).toMatchObject({ kind: "Deployment", name: "web", controller: true, blockOwnerDeletion: true });
    const d = await getD("web");
    expect(d.metadata.generation).toBe(1); // the controller's own writes never move it
    expect(d.status).toMatchObject({ replicas: 5, updatedReplicas: 5, readyReplicas: 5, availableReplicas: 5 });
    const byType = Object.fromEntries((d.status!.conditions ?? []).map((x) => [x.type, x]));
    expect(byType.Available).toMatchObject({ status: "True", reason: "MinimumReplicasAvailable" });
    expect(byType.Progressing).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable", message: `ReplicaSet "web-${hash}" has successfully progressed.` });
    expect((await listPods(c.client, { namespace: NS, labelSelector: "app=web" })).length).toBe(5);
  });

  test.each([
    ["25%/25% (defaults)", {}, 5],
    ["maxSurge 0, maxUnavailable 1", { maxSurge: 0, maxUnavailable: 1 }, 4],
    ["maxSurge 2, maxUnavailable 0", { maxSurge: 2, maxUnavailable: 0 }, 6],
  ] as const)("a rolling update respects %s at every observed moment", async (_label, ru, n) => {
    const name = `roll-${n}`;
    await c.client.create(DEPLOYMENTS, deployment(name, n, { strategy: { type: "RollingUpdate", rollingUpdate: ru } }));
    await complete(name);
    const d0 = await getD(name);
    const surge = Number(d0.spec!.strategy!.rollingUpdate!.maxSurge === "25%" ? Math.ceil(n / 4) : d0.spec!.strategy!.rollingUpdate!.maxSurge);
    const unavailable = Number(d0.spec!.strategy!.rollingUpdate!.maxUnavailable === "25%" ? Math.floor(n / 4) : d0.spec!.strategy!.rollingUpdate!.maxUnavailable);
    const w = await watchBounds(name);
    await setImage(name, "nginx:1.28");
    await complete(name);
    const { maxPods, minReady } = w.stop();
    expect(maxPods).toBeLessThanOrEqual(n + surge);
    expect(minReady).toBeGreaterThanOrEqual(n - unavailable);
    const rss = await replicaSetsOf(name);
    expect(rss.map((r) => [r.metadata.annotations?.[REVISION], r.spec?.replicas])).toEqual([
      ["1", 0],
      ["2", n],
    ]);
    const pods = await listPods(c.client, { namespace: NS, labelSelector: `app=${name}` });
    expect(pods.filter((p) => !p.metadata.deletionTimestamp).every((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image === "nginx:1.28")).toBe(true);
  });

  test("undo (the old template again) reuses the old ReplicaSet, with a new revision and the history annotation", async () => {
    const before = await replicaSetsOf("web");
    await setImage("web", "nginx:1.28");
    await complete("web");
    const two = await replicaSetsOf("web");
    expect(two.length).toBe(2);
    // What `kubectl rollout undo` sends: the old ReplicaSet's template, with creationTimestamp null and empty resources.
    const old = structuredClone(before[0]!.spec!.template!) as { metadata: Record<string, unknown> & { labels: Record<string, string> }; spec: { containers: Record<string, unknown>[] } };
    delete old.metadata.labels["pod-template-hash"];
    old.metadata.creationTimestamp = null;
    old.spec.containers[0]!.resources = {};
    await c.client.patch(DEPLOYMENTS, "web", "json", [{ op: "replace", path: "/spec/template", value: old }], { namespace: NS });
    await complete("web");
    const after = await replicaSetsOf("web");
    expect(after.length).toBe(2);
    const back = after.find((r) => r.metadata.name === before[0]!.metadata.name)!;
    expect(back.metadata.annotations?.[REVISION]).toBe("3");
    expect(back.metadata.annotations?.[REVISION_HISTORY]).toBe("1");
    expect(back.spec!.replicas).toBe(5);
  });

  test("a paused Deployment does not roll out; resuming does", async () => {
    await c.client.patch(DEPLOYMENTS, "web", "merge", { spec: { paused: true } }, { namespace: NS });
    await until("paused condition", async () => (await getD("web")).status?.conditions?.find((x) => x.type === "Progressing")?.reason === "DeploymentPaused");
    await setImage("web", "nginx:1.29");
    await new Promise((r) => setTimeout(r, 200));
    expect((await replicaSetsOf("web")).length).toBe(2);
    await c.client.patch(DEPLOYMENTS, "web", "merge", { spec: { paused: false } }, { namespace: NS });
    await complete("web");
    const rss = await replicaSetsOf("web");
    expect(rss.length).toBe(3);
    expect(rss.at(-1)!.spec!.template!.spec!.containers).toMatchObject([{ image: "nginx:1.29" }]);
  });

  test("scaling through /scale mid-rollout is shared proportionally between the ReplicaSets", async () => {
    await c.client.create(DEPLOYMENTS, deployment("prop", 10, { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
    await complete("prop");
    kubelet.pause();
    await setImage("prop", "nginx:1.28");
    // Stuck mid-rollout: new pods never become ready.
    await until("rollout under way", async () => {
      const rss = await replicaSetsOf("prop");
      return rss.length === 2 && rss[1]!.spec!.replicas! > 0 && rss[0]!.spec!.replicas! < 10 && (await getD("prop")).status?.observedGeneration === (await getD("prop")).metadata.generation;
    });
    await until("settled", async () => {
      const rss = await replicaSetsOf("prop");
      return rss[0]!.spec!.replicas === 8 && rss[1]!.spec!.replicas === 5;
    });
    await c.client.patch(DEPLOYMENTS, "prop", "merge", { spec: { replicas: 20 } }, { namespace: NS, subresource: "scale" });
    const rss = await until("scaled", async () => {
      const r = await replicaSetsOf("prop");
      return r[0]!.spec!.replicas! + r[1]!.spec!.replicas! === 23 && r;
    }).finally(() => kubelet.resume());
    // 8 + 5 = 13 (10 + maxSurge 3) grows to 23 (20 + 3) in proportion: 8 × 23/13 ≈ 14, 5 × 23/13 ≈ 9.
    expect(rss.map((r) => r.spec!.replicas)).toEqual([14, 9]);
    await complete("prop", 15_000);
    expect((await replicaSetsOf("prop")).map((r) => r.spec!.replicas)).toEqual([0, 20]);
  });

  test("Recreate scales the old ReplicaSet to zero before the new one gets pods", async () => {
    await c.client.create(DEPLOYMENTS, deployment("rec", 3, { strategy: { type: "Recreate" } }));
    await complete("rec");
    const w = await watchBounds("rec");
    await setImage("rec", "nginx:1.28");
    await complete("rec");
    const { maxPods, minReady } = w.stop();
    expect(maxPods).toBe(3);
    expect(minReady).toBe(0);
    expect((await replicaSetsOf("rec")).map((r) => r.spec!.replicas)).toEqual([0, 3]);
  });

  test("progressDeadlineSeconds: a stuck rollout is reported ProgressDeadlineExceeded", async () => {
    await c.client.create(DEPLOYMENTS, deployment("stuck", 2, { progressDeadlineSeconds: 1 }));
    await complete("stuck");
    kubelet.pause();
    await setImage("stuck", "nginx:broken");
    const d = await until("timed out", async () => {
      const x = await getD("stuck");
      return x.status?.conditions?.find((y) => y.type === "Progressing")?.reason === "ProgressDeadlineExceeded" && x;
    }, 6000).finally(() => kubelet.resume());
    expect(rolloutStatus(d)).toMatch(/^failed: deployment "stuck" exceeded its progress deadline/);
    expect(d.status!.conditions!.find((y) => y.type === "Progressing")).toMatchObject({ status: "False", message: expect.stringMatching(/has timed out progressing\.$/) });
  });

  test("revisionHistoryLimit removes the oldest scaled-down ReplicaSets", async () => {
    await c.client.create(DEPLOYMENTS, deployment("hist", 1, { revisionHistoryLimit: 1 }));
    await complete("hist");
    for (const tag of ["a", "b", "c"]) {
      await setImage("hist", `nginx:${tag}`);
      await complete("hist");
    }
    await until("two left", async () => (await replicaSetsOf("hist")).length === 2);
    expect((await replicaSetsOf("hist")).map((r) => r.metadata.annotations?.[REVISION])).toEqual(["3", "4"]);
  });

  test("restartedAt (kubectl rollout restart) rolls the pods", async () => {
    const before = (await listPods(c.client, { namespace: NS, labelSelector: "app=hist" })).map((p) => p.metadata.uid);
    await c.client.patch(DEPLOYMENTS, "hist", "strategic", { spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } } } } }, { namespace: NS });
    await complete("hist");
    const after = (await listPods(c.client, { namespace: NS, labelSelector: "app=hist" })).filter((p) => !p.metadata.deletionTimestamp);
    expect(after.length).toBe(1);
    expect(before).not.toContain(after[0]!.metadata.uid);
  });
});
