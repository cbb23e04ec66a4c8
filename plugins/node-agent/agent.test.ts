/**
 * The node agent against an in-memory kernel and the fake runtime: node
 * registration and lease, pods through their lifecycle (restart policies,
 * back-off, init containers, probes, termination, config errors) and the
 * agent endpoint (logs, exec).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import { fakeRuntimePlugin } from "../../runtime-adapters/fake/index.ts";
import { nodeAgentPlugin } from "./index.ts";
import { boundPod, condition, phase, podsRef, statusOf, until } from "./testing.ts";
import { type Lease, type Node, type Pod, leasesRef, nodesRef } from "./types.ts";

setDefaultTimeout(15_000);

let k: Kernel;
let port = 0;
const behavior = (b: object, container?: string) => ({ [`fake.skiff.dev/behavior${container ? `.${container}` : ""}`]: JSON.stringify(b) });

beforeAll(async () => {
  k = await createKernel({
    memory: true,
    plugins: {
      available: [nodeAgentPlugin(), fakeRuntimePlugin()] as Plugin<never>[],
      preset: "all-in-one",
      runtime: "fake",
      nodeName: "n1",
      settings: {
        "node-agent": { config: { server: { port: 0 }, backoff: { initialSeconds: 0.3, maxSeconds: 1 }, relistSeconds: 0.2 } },
      },
    },
  });
  const node = await k.client.get<Node>(nodesRef, "n1");
  port = node.status!.daemonEndpoints!.kubeletEndpoint!.Port;
});

afterAll(async () => {
  await k?.stop();
});

const create = (p: Pod) => k.client.create(podsRef, p);
const wait = (name: string, pred: (p: Pod | undefined) => boolean, ms = 8000) => until<Pod>(k.client, podsRef, name, "default", pred, ms);

describe("node", () => {
  test("registered with capacity, addresses, nodeInfo, labels and Ready", async () => {
    const n = await k.client.get<Node>(nodesRef, "n1");
    expect(n.metadata.labels).toMatchObject({ "kubernetes.io/hostname": "n1", "kubernetes.io/os": "linux" });
    expect(Number(n.status!.capacity!.cpu)).toBeGreaterThan(0);
    expect(n.status!.capacity!.pods).toBe("110");
    expect(n.status!.allocatable!.memory).toMatch(/^\d+Ki$/);
    expect(n.status!.addresses!.map((a) => a.type)).toEqual(["InternalIP", "Hostname"]);
    expect(n.status!.nodeInfo).toMatchObject({ containerRuntimeVersion: "fake://0.1.0", operatingSystem: "linux" });
    expect(n.status!.conditions!.find((c) => c.type === "Ready")).toMatchObject({ status: "True", reason: "KubeletReady" });
    expect(port).toBeGreaterThan(0);
  });

  test("holds a Lease in kube-node-lease, owned by the Node", async () => {
    const n = await k.client.get<Node>(nodesRef, "n1");
    const l = await k.client.get<Lease>(leasesRef, "n1", { namespace: "kube-node-lease" });
    expect(l.spec).toMatchObject({ holderIdentity: "n1", leaseDurationSeconds: 40 });
    expect(l.spec!.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(l.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Node", name: "n1", uid: n.metadata.uid! }]);
  });
});

describe("pods", () => {
  test("a pod runs: Running, Ready, container status, IPs, start time, events", async () => {
    await create(boundPod("run", "n1"));
    const p = await wait("run", (p) => condition(p, "Ready") === "True");
    expect(phase(p)).toBe("Running");
    expect(statusOf(p)).toMatchObject({ ready: true, started: true, restartCount: 0, image: "busybox:1.36", imageID: "fake://busybox:1.36" });
    expect(statusOf(p)!.containerID).toMatch(/^fake:\/\//);
    expect(p!.status!.podIP).toMatch(/^10\./);
    expect(p!.status!.hostIP).toBeDefined();
    expect(p!.status!.startTime).toBeDefined();
    const list = await k.client.list({ group: "", version: "v1", resource: "events" }, { namespace: "default", fieldSelector: "involvedObject.name=run" });
    expect(list.items.map((e) => (e as { reason?: string }).reason)).toEqual(expect.arrayContaining(["Pulled", "Created", "Started"]));
  });

  test("Always: a crashing container restarts, then waits in CrashLoopBackOff with lastState", async () => {
    await create(boundPod("crash", "n1", {}, behavior({ exitCode: 1, runMs: 30, stdout: ["boom"] })));
    const seen = new Set<string>();
    const p = await wait("crash", (p) => {
      const s = statusOf(p);
      if (s?.state.waiting?.reason) seen.add(s.state.waiting.reason);
      return (s?.restartCount ?? 0) >= 3;
    });
    expect(seen.has("CrashLoopBackOff")).toBe(true);
    expect(phase(p)).toBe("Running");
    expect(statusOf(p)!.lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    const backoff = await wait("crash", (p) => statusOf(p)?.state.waiting?.reason === "CrashLoopBackOff");
    expect(statusOf(backoff)!.state.waiting!.message).toMatch(/^back-off \d+s restarting failed container=c pod=crash_default\(/);
  });

  test("OnFailure: success ends Succeeded; Never: failure ends Failed", async () => {
    await create(boundPod("ok", "n1", { restartPolicy: "OnFailure" }, behavior({ exitCode: 0, runMs: 20 })));
    await create(boundPod("bad", "n1", { restartPolicy: "Never" }, behavior({ exitCode: 2, runMs: 20 })));
    const ok = await wait("ok", (p) => phase(p) === "Succeeded");
    expect(statusOf(ok)!.state.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(condition(ok, "Ready")).toBe("False");
    const bad = await wait("bad", (p) => phase(p) === "Failed");
    expect(statusOf(bad)).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 2, reason: "Error" } } });
    expect(condition(bad, "PodReadyToStartContainers")).toBe("False"); // the sandbox was stopped
  });

  test("init containers run in order, to completion, before the containers", async () => {
    const spec = { initContainers: [{ name: "i1", image: "x" }, { name: "i2", image: "x" }], containers: [{ name: "c", image: "x" }] };
    await create(boundPod("init", "n1", spec, { ...behavior({ exitCode: 0, runMs: 60 }, "i1"), ...behavior({ exitCode: 0, runMs: 60 }, "i2") }));
    const pending = await wait("init", (p) => statusOf(p, "i1")?.state.running !== undefined || statusOf(p, "i1")?.state.terminated !== undefined);
    expect(phase(pending)).toBe("Pending");
    const p = await wait("init", (p) => phase(p) === "Running");
    const i1 = statusOf(p, "i1")!.state.terminated!;
    const i2 = statusOf(p, "i2")!.state.terminated!;
    expect(i1.exitCode).toBe(0);
    expect(Date.parse(i2.startedAt!)).toBeGreaterThanOrEqual(Date.parse(i1.finishedAt!) - 1000);
    expect(condition(p, "Initialized")).toBe("True");
  });

  test("a failing init container with restartPolicy Never fails the pod; containers never start", async () => {
    const spec = { restartPolicy: "Never" as const, initContainers: [{ name: "i1", image: "x" }], containers: [{ name: "c", image: "x" }] };
    await create(boundPod("initfail", "n1", spec, behavior({ exitCode: 5, runMs: 10 }, "i1")));
    const p = await wait("initfail", (p) => phase(p) === "Failed");
    expect(statusOf(p, "i1")!.state.terminated!.exitCode).toBe(5);
    expect(statusOf(p, "c")!.state.waiting?.reason).toBe("PodInitializing");
  });

  test("liveness probe failures restart the container; readiness gates Ready", async () => {
    await create(
      boundPod("probes", "n1", {
        containers: [
          { name: "live", image: "x", livenessProbe: { exec: { command: ["false"] }, periodSeconds: 1, failureThreshold: 1 } },
          { name: "unready", image: "x", readinessProbe: { exec: { command: ["exit", "1"] }, periodSeconds: 1 } },
          { name: "ready", image: "x", readinessProbe: { exec: { command: ["true"] }, periodSeconds: 1 } },
        ],
      }),
    );
    const p = await wait("probes", (p) => (statusOf(p, "live")?.restartCount ?? 0) >= 1 && statusOf(p, "ready")?.ready === true);
    expect(statusOf(p, "unready")!.ready).toBe(false);
    expect(condition(p, "Ready")).toBe("False");
    expect(p!.status!.conditions!.find((c) => c.type === "ContainersReady")!.message).toContain("unready");
  });

  test("a missing ConfigMap: CreateContainerConfigError until it exists", async () => {
    await create(boundPod("cfg", "n1", { containers: [{ name: "c", image: "x", env: [{ name: "FOO", valueFrom: { configMapKeyRef: { name: "later", key: "foo" } } }] }] }));
    const p = await wait("cfg", (p) => statusOf(p)?.state.waiting?.reason === "CreateContainerConfigError");
    expect(statusOf(p)!.state.waiting!.message).toBe('configmap "later" not found');
    await k.client.create({ group: "", version: "v1", resource: "configmaps" }, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "later", namespace: "default" }, data: { foo: "bar" } });
    await wait("cfg", (p) => phase(p) === "Running", 15_000);
  });

  test("deletion: SIGTERM, SIGKILL after the grace period, then the pod is removed", async () => {
    await create(boundPod("stubborn", "n1", { terminationGracePeriodSeconds: 1 }, behavior({ ignoreSigterm: true })));
    await wait("stubborn", (p) => phase(p) === "Running");
    const t0 = Date.now();
    await k.client.delete(podsRef, "stubborn", { namespace: "default" });
    await wait("stubborn", (p) => p === undefined);
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(1900); // the 2 s minimum grace of the kubelet
    expect(ms).toBeLessThan(6000);
  });
});

describe("agent endpoint", () => {
  test("containerLogs: plain, tail, timestamps; unknown pod is 404", async () => {
    await create(boundPod("logs", "n1", { containers: [{ name: "c", image: "x", env: [{ name: "GREETING", value: "hi" }] }] }, behavior({ stdout: ["one", "two"], echoEnv: ["GREETING"] })));
    await wait("logs", (p) => phase(p) === "Running");
    const get = (q: string) => fetch(`http://127.0.0.1:${port}/containerLogs/default/logs/c${q}`);
    expect(await (await get("")).text()).toBe("one\ntwo\nGREETING=hi\n");
    expect(await (await get("?tailLines=1")).text()).toBe("GREETING=hi\n");
    expect(await (await get("?timestamps=true&tailLines=1")).text()).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z GREETING=hi\n$/);
    const missing = await fetch(`http://127.0.0.1:${port}/containerLogs/default/nope/c`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { reason: string }).reason).toBe("NotFound");
  });

  test("exec over WebSocket (v5.channel.k8s.io): output and exit code in the Status", async () => {
    await create(boundPod("exec", "n1"));
    await wait("exec", (p) => phase(p) === "Running");
    const run = (cmd: string[]) =>
      new Promise<{ out: string; status: Record<string, unknown> }>((resolve, reject) => {
        const q = cmd.map((c) => `command=${encodeURIComponent(c)}`).join("&");
        const ws = new WebSocket(`ws://127.0.0.1:${port}/exec/default/exec/c?${q}&stdout=1&stderr=1`, ["v5.channel.k8s.io"]);
        ws.binaryType = "arraybuffer";
        let out = "";
        let status: Record<string, unknown> = {};
        ws.onmessage = (m) => {
          const b = new Uint8Array(m.data as ArrayBuffer);
          const text = new TextDecoder().decode(b.subarray(1));
          if (b[0] === 1) out += text;
          if (b[0] === 3) status = JSON.parse(text);
        };
        ws.onclose = () => resolve({ out, status });
        ws.onerror = (e) => reject(e);
      });
    const ok = await run(["echo", "hello", "world"]);
    expect(ok.out).toBe("hello world\n");
    expect(ok.status.status).toBe("Success");
    const bad = await run(["exit", "3"]);
    expect(bad.status).toMatchObject({ status: "Failure", reason: "NonZeroExitCode", details: { causes: [{ reason: "ExitCode", message: "3" }] } });
  });
});
