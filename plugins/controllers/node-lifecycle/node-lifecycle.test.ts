/**
 * The controller against an in-memory kernel, with Nodes and Leases played
 * by the test (no agent): a node whose Lease stops is marked Unknown,
 * tainted, and its pods evicted after their tolerations; a node that comes
 * back is untainted; when every node is unhealthy nothing is evicted.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createKernel, type Kernel } from "../../../core/kernel.ts";
import type { Plugin } from "../../../core/plugin/types.ts";
import { until } from "../../node-agent/testing.ts";
import { createNodeLifecyclePlugin } from "./index.ts";
import { LEASES, type Lease, type Node, NODES, type Pod, PODS } from "./node-lifecycle.ts";
import { UNREACHABLE } from "./taints.ts";

setDefaultTimeout(15_000);

let k: Kernel;
const beating = new Set<string>();
let heart: ReturnType<typeof setInterval> | undefined;

const iso = () => new Date().toISOString();
const micro = () => new Date().toISOString().replace("Z", "000Z");

async function node(name: string): Promise<void> {
  const t = iso().replace(/\.\d+Z$/, "Z");
  await k.client.create<Node>(NODES, {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: t, lastTransitionTime: t }] },
  } as Node);
  await k.client.create<Lease>(LEASES, { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace: "kube-node-lease" }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: micro() } } as Lease);
  beating.add(name);
}

async function beat(): Promise<void> {
  for (const name of beating) {
    const l = await k.client.get<Lease>(LEASES, name, { namespace: "kube-node-lease" });
    await k.client.update(LEASES, { ...l, spec: { ...l.spec, renewTime: micro() } }).catch(() => undefined);
  }
}

async function pod(name: string, nodeName: string, tolerations: object[] = []): Promise<void> {
  await k.client.create<Pod>(PODS, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: { nodeName, tolerations, containers: [{ name: "c", image: "x" }] },
  } as Pod);
  // Ready, as its kubelet would have reported it.
  await k.client.patch(PODS, name, "merge", { status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] } }, { namespace: "default", subresource: "status" });
}

const nodeWhere = (name: string, pred: (n: Node | undefined) => boolean) => until<Node>(k.client, NODES, name, undefined, pred);
const podWhere = (name: string, pred: (p: Pod | undefined) => boolean) => until<Pod>(k.client, PODS, name, "default", pred);
const ready = (n: Node | undefined) => n?.status?.conditions?.find((c) => c.type === "Ready");
const noExecute = (n: Node | undefined) => (n?.spec?.taints ?? []).filter((t) => t.effect === "NoExecute").map((t) => t.key);

beforeAll(async () => {
  k = await createKernel({
    memory: true,
    plugins: {
      available: [createNodeLifecyclePlugin()] as Plugin<never>[],
      preset: "server",
      settings: {
        "node-lifecycle-controller": {
          config: { leaderElection: { enabled: false }, nodeMonitorGracePeriodSeconds: 2, nodeMonitorPeriodSeconds: 0.25, nodeEvictionRate: 100, noExecuteDelaySeconds: 1 },
        },
      },
    },
  });
  await node("alive");
  await node("dying");
  heart = setInterval(() => void beat(), 300);
});

afterAll(async () => {
  clearInterval(heart);
  await k?.stop();
});

test("a node that stops heartbeating goes Unknown, is tainted, and its pods are evicted per toleration", async () => {
  await pod("quick", "dying", [{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: 1 }]);
  await pod("forever", "dying", [{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute" }]);
  await pod("default", "dying");
  await pod("safe", "alive");
  const t0 = Date.now();
  beating.delete("dying");
  const n = await nodeWhere("dying", (n) => ready(n)?.status === "Unknown");
  expect(Date.now() - t0).toBeGreaterThanOrEqual(1500);
  expect(ready(n)).toMatchObject({ reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." });
  const tainted = await nodeWhere("dying", (n) => noExecute(n).includes(UNREACHABLE));
  expect(tainted!.spec!.taints!.map((t) => `${t.key}:${t.effect}`).sort()).toEqual([`${UNREACHABLE}:NoExecute`, `${UNREACHABLE}:NoSchedule`]);
  await podWhere("default", (p) => p?.status?.conditions?.find((c) => c.type === "Ready")?.status === "False");
  const gone = await podWhere("quick", (p) => p === undefined || p.metadata.deletionTimestamp !== undefined);
  void gone;
  const forever = await k.client.get<Pod>(PODS, "forever", { namespace: "default" });
  expect(forever.metadata.deletionTimestamp).toBeUndefined();
  const dflt = await k.client.get<Pod>(PODS, "default", { namespace: "default" });
  expect(dflt.metadata.deletionTimestamp).toBeUndefined(); // 300 s default toleration
  expect(ready(await k.client.get<Node>(NODES, "alive"))?.status).toBe("True");
});

test("a node that heartbeats again is untainted", async () => {
  beating.add("dying");
  const t = iso().replace(/\.\d+Z$/, "Z");
  await k.client.patch(NODES, "dying", "merge", { status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: t, lastTransitionTime: t }] } }, { subresource: "status" });
  const n = await nodeWhere("dying", (n) => (n?.spec?.taints ?? []).length === 0);
  expect(ready(n)?.status).toBe("True");
});

test("when every node is unhealthy at once nothing is tainted NoExecute or evicted", async () => {
  await pod("stay", "alive", [{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 }]);
  beating.clear();
  await nodeWhere("alive", (n) => ready(n)?.status === "Unknown");
  await nodeWhere("dying", (n) => ready(n)?.status === "Unknown");
  // (Both stopped at once; their probe times differ by at most one heartbeat, well within noExecuteDelay.)
  // Several monitor passes later: still no NoExecute taint, the pod still there.
  const t0 = Date.now();
  while (Date.now() - t0 < 1500) {
    expect(noExecute(await k.client.get<Node>(NODES, "alive"))).toEqual([]);
    expect(noExecute(await k.client.get<Node>(NODES, "dying"))).toEqual([]);
    await new Promise((r) => setTimeout(r, 250));
  }
  const p = await k.client.get<Pod>(PODS, "stay", { namespace: "default" });
  expect(p.metadata.deletionTimestamp).toBeUndefined();
});
