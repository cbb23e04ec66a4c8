/**
 * An agent restart re-adopts what the runtime runs: running containers are
 * not restarted and their status stays; a pod deleted while the agent was
 * down is terminated and removed; a sandbox whose pod no longer exists is
 * removed. The agent runs in its own PluginHost (as `skiff agent` does)
 * against an in-memory server; both agents share one fake runtime world.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventRecorder } from "../../core/client/events.ts";
import { SharedInformerFactory } from "../../core/client/informer.ts";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import { logger } from "../../core/log.ts";
import { pluginConfig } from "../../core/plugin/config.ts";
import { PluginHost } from "../../core/plugin/host.ts";
import { Tokens } from "../../core/plugin/tokens.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import { FakeRuntime, FakeWorld } from "../../runtime-adapters/fake/index.ts";
import { nodeAgentPlugin } from "./index.ts";
import { boundPod, phase, podsRef, statusOf, until } from "./testing.ts";
import type { Pod } from "./types.ts";

setDefaultTimeout(15_000);

let k: Kernel;
const world = new FakeWorld();
const root = mkdtempSync(join(tmpdir(), "skiff-readopt-"));

async function startAgent(): Promise<() => Promise<void>> {
  const informers = new SharedInformerFactory(k.client);
  const host = new PluginHost({ role: "agent", client: k.client, informers, events: new EventRecorder(k.client, { component: "test" }), log: logger("test-agent"), nodeName: "n1" });
  host.container.register(Tokens.RuntimeName, { useValue: "fake" });
  const runtime: Plugin<never> = {
    manifest: { name: "runtime-fake", version: "1", provides: ["runtime", "runtime:fake"], roles: ["agent"] },
    register: (c, _cfg, t) => c.register(t.RuntimeAdapter, { useValue: new FakeRuntime({ world }) }),
  };
  const agent = nodeAgentPlugin() as Plugin<never>;
  const configs = new Map([
    ["runtime-fake", {}],
    ["node-agent", pluginConfig(agent, { rootDir: root, stopPodsOnExit: "never", server: { enabled: false }, relistSeconds: 0.2 })],
  ]);
  host.register([runtime, agent], configs);
  informers.start();
  await host.start();
  return async () => {
    await host.stop();
    await informers.stop();
  };
}

beforeAll(async () => {
  k = await createKernel({ memory: true, plugins: { preset: "server" } });
});

afterAll(async () => {
  await k?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Polls in-memory runtime state (no watch to await there). */
async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const wait = (name: string, pred: (p: Pod | undefined) => boolean) => until<Pod>(k.client, podsRef, name, "default", pred);

test("restarting the agent changes nothing for running pods, and catches up with what happened meanwhile", async () => {
  let stop = await startAgent();
  await k.client.create(podsRef, boundPod("keep", "n1"));
  await k.client.create(podsRef, boundPod("doomed", "n1", { terminationGracePeriodSeconds: 1 }));
  await k.client.create(podsRef, boundPod("orphan", "n1"));
  const before = await wait("keep", (p) => phase(p) === "Running");
  await wait("doomed", (p) => phase(p) === "Running");
  const orphan = await wait("orphan", (p) => phase(p) === "Running");
  await stop();

  // While the agent is down: a graceful delete (the pod stays, Terminating) and a forced one (gone).
  await k.client.delete(podsRef, "doomed", { namespace: "default" });
  await k.client.delete(podsRef, "orphan", { namespace: "default", gracePeriodSeconds: 0 });
  const orphanSandbox = [...world.sandboxes.values()].find((s) => s.status.config.uid === orphan!.metadata.uid);
  expect(orphanSandbox).toBeDefined();
  const containersBefore = world.containers.size;

  stop = await startAgent();
  try {
    await wait("doomed", (p) => p === undefined);
    const after = await wait("keep", (p) => phase(p) === "Running");
    expect(statusOf(after)!.containerID).toBe(statusOf(before)!.containerID!);
    expect(statusOf(after)!.restartCount).toBe(0);
    expect(statusOf(after)!.state.running!.startedAt).toBe(statusOf(before)!.state.running!.startedAt!);
    expect(after!.status!.podIP).toBe(before!.status!.podIP!);
    await waitFor(() => !world.sandboxes.has(orphanSandbox!.status.id));
    // Only the kept pod's container is left (no restart created a new one).
    expect(world.containers.size).toBeLessThan(containersBefore);
    expect([...world.containers.values()].filter((c) => c.status.labels["io.kubernetes.pod.uid"] === before!.metadata.uid).length).toBe(1);
  } finally {
    await stop();
  }
});
