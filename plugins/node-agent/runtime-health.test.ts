/**
 * The node's Ready condition follows the runtime's health: a runtime whose
 * health check fails (the daemon died) turns the node NotReady with the
 * kubelet's reason and message, its running pod keeps its status, and when
 * the runtime answers again the node is Ready and the pod still Running.
 * The fake runtime, wrapped so that its `status()` can be made to fail or
 * report a problem.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import type { RuntimeHealth } from "../../core/runtime/adapter.ts";
import { FakeRuntime } from "../../runtime-adapters/fake/index.ts";
import { goDuration } from "./agent.ts";
import { nodeAgentPlugin } from "./index.ts";
import { boundPod, phase, podsRef, until } from "./testing.ts";
import { type Node, nodesRef, type Pod } from "./types.ts";

setDefaultTimeout(20_000);

/** What the wrapped runtime's health check does now. */
let health: "ok" | "down" | "network" = "ok";
let relistFails = false;

class FlakyRuntime extends FakeRuntime {
  async status(): Promise<RuntimeHealth> {
    if (health === "down") throw new Error("connect ENOENT /run/flaky.sock");
    if (health === "network") return { ready: false, problems: ["container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni config uninitialized"] };
    return { ready: true };
  }
  override async listContainers(filter?: { podSandboxId?: string }) {
    if (relistFails) throw new Error("connect ENOENT /run/flaky.sock");
    return super.listContainers(filter);
  }
}

function flakyRuntimePlugin(): Plugin<Record<string, never>> {
  const runtime = new FlakyRuntime({});
  return {
    manifest: { name: "runtime-flaky", version: "0.0.1", description: "test", roles: ["agent"], provides: ["runtime", "runtime:fake"] },
    register(container, _config, tokens) {
      container.register(tokens.RuntimeAdapter, { useValue: runtime });
    },
    async stop() {
      await runtime.close();
    },
  };
}

let k: Kernel;

beforeAll(async () => {
  k = await createKernel({
    memory: true,
    plugins: {
      available: [nodeAgentPlugin(), flakyRuntimePlugin()] as Plugin<never>[],
      preset: "all-in-one",
      runtime: "fake",
      nodeName: "n1",
      settings: { "node-agent": { config: { server: { enabled: false }, runtimeHealthSeconds: 0.2, relistSeconds: 0.2, plegThresholdSeconds: 1 } } },
    },
  });
});

afterAll(async () => {
  health = "ok";
  relistFails = false;
  await k?.stop();
});

const ready = (n: Node | undefined) => n?.status?.conditions?.find((c) => c.type === "Ready");

describe("runtime health → node Ready", () => {
  test("the daemon going away turns the node NotReady; its return turns it Ready, pods untouched", async () => {
    await k.client.create(podsRef, boundPod("p1", "n1"));
    const running = await until<Pod>(k.client, podsRef, "p1", "default", (p) => phase(p) === "Running");
    const startedAt = running!.status!.containerStatuses![0]!.state!.running!.startedAt;
    const before = ready(await k.client.get<Node>(nodesRef, "n1"))!;
    expect(before).toMatchObject({ status: "True", reason: "KubeletReady" });

    health = "down";
    const down = await until<Node>(k.client, nodesRef, "n1", undefined, (n) => ready(n)?.status === "False", 5000);
    expect(ready(down)).toMatchObject({ status: "False", reason: "KubeletNotReady", message: "container runtime is down" });
    expect(Date.parse(ready(down)!.lastTransitionTime!)).toBeGreaterThanOrEqual(Date.parse(before.lastTransitionTime!));

    health = "ok";
    const up = await until<Node>(k.client, nodesRef, "n1", undefined, (n) => ready(n)?.status === "True", 5000);
    expect(ready(up)).toMatchObject({ reason: "KubeletReady", message: "kubelet is posting ready status" });
    const p = await k.client.get<Pod>(podsRef, "p1", { namespace: "default" });
    expect(phase(p)).toBe("Running");
    expect(p.status!.containerStatuses![0]).toMatchObject({ ready: true, restartCount: 0 });
    expect(p.status!.containerStatuses![0]!.state!.running!.startedAt).toBe(startedAt);
  });

  test("a runtime that answers but is not ready reports its own problem", async () => {
    health = "network";
    const n = await until<Node>(k.client, nodesRef, "n1", undefined, (x) => ready(x)?.status === "False", 5000);
    expect(ready(n)!.message).toBe("container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni config uninitialized");
    health = "ok";
    await until<Node>(k.client, nodesRef, "n1", undefined, (x) => ready(x)?.status === "True", 5000);
  });

  test("relists failing past the PLEG threshold turn the node NotReady (PLEG is not healthy)", async () => {
    relistFails = true;
    const n = await until<Node>(k.client, nodesRef, "n1", undefined, (x) => ready(x)?.status === "False", 5000);
    expect(ready(n)!.message).toMatch(/^PLEG is not healthy: pleg was last seen active \ds ago; threshold is 1s$/);
    relistFails = false;
    await until<Node>(k.client, nodesRef, "n1", undefined, (x) => ready(x)?.status === "True", 5000);
  });

  test("goDuration prints as Go does", () => {
    expect(goDuration(180_000)).toBe("3m0s");
    expect(goDuration(45_400)).toBe("45s");
    expect(goDuration(3_723_000)).toBe("1h2m3s");
  });
});
