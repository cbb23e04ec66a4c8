/**
 * One agent simulating several nodes (the fake runtime's `nodes`): each is
 * registered with its own Lease, and pods bound to any of them run.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import { fakeRuntimePlugin } from "../../runtime-adapters/fake/index.ts";
import { nodeAgentPlugin } from "./index.ts";
import { boundPod, phase, podsRef, until } from "./testing.ts";
import { type Lease, type Node, type Pod, leasesRef, nodesRef } from "./types.ts";

setDefaultTimeout(15_000);

let k: Kernel;

beforeAll(async () => {
  k = await createKernel({
    memory: true,
    plugins: {
      available: [nodeAgentPlugin(), fakeRuntimePlugin()] as Plugin<never>[],
      runtime: "fake",
      nodeName: "host",
      settings: {
        "runtime-fake": { config: { nodes: 5, nodePrefix: "sim-", capacity: { cpu: "8", memory: "16Gi", pods: "20" } } },
        "node-agent": { config: { server: { port: 0 } } },
      },
    },
  });
});

afterAll(async () => {
  await k?.stop();
});

test("every simulated node is registered with its capacity and a Lease; the agent's own name is not", async () => {
  const nodes = await k.client.list<Node>(nodesRef);
  expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(["sim-0", "sim-1", "sim-2", "sim-3", "sim-4"]);
  const n = nodes.items.find((x) => x.metadata.name === "sim-3")!;
  expect(n.status!.capacity).toEqual({ cpu: "8", memory: "16Gi", pods: "20" });
  expect(n.status!.nodeInfo!.containerRuntimeVersion).toBe("fake://0.1.0");
  expect(n.metadata.labels).toMatchObject({ "kubernetes.io/hostname": "sim-3", type: "fake" });
  const leases = await k.client.list<Lease>(leasesRef, { namespace: "kube-node-lease" });
  expect(leases.items.map((l) => l.spec!.holderIdentity).sort()).toEqual(["sim-0", "sim-1", "sim-2", "sim-3", "sim-4"]);
});

test("pods bound to simulated nodes run with their node's host IP; pods of other nodes are left alone", async () => {
  await k.client.create(podsRef, boundPod("on-sim-2", "sim-2"));
  await k.client.create(podsRef, boundPod("elsewhere", "real-node"));
  const p = await until<Pod>(k.client, podsRef, "on-sim-2", "default", (p) => phase(p) === "Running");
  const node = await k.client.get<Node>(nodesRef, "sim-2");
  expect(p!.status!.hostIP).toBe(node.status!.addresses![0]!.address);
  const other = await k.client.get<Pod>(podsRef, "elsewhere", { namespace: "default" });
  expect(other.status?.phase).toBe("Pending");
  expect(other.status?.containerStatuses).toBeUndefined();
});
