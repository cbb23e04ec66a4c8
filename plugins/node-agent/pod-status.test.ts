import { describe, expect, test } from "bun:test";
import type { ContainerStatus, PodSandboxStatus } from "../../core/runtime/adapter.ts";
import { computePodStatus, podPhase, type StatusInput } from "./pod-status.ts";
import type { ContainerStatusObj, Pod } from "./types.ts";

const T0 = Date.parse("2026-01-01T00:00:00Z");

function pod(extra: Partial<Pod["spec"]> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "ns", uid: "u1" },
    spec: { containers: [{ name: "b", image: "img:1" }, { name: "a", image: "img:2" }], restartPolicy: "Always", ...extra },
    status: { phase: "Pending", qosClass: "BestEffort", conditions: [{ type: "PodScheduled", status: "True", lastTransitionTime: "2025-12-31T00:00:00Z" }] },
  };
}

const sandbox: PodSandboxStatus = { id: "s1", config: { uid: "u1", name: "p", namespace: "ns", attempt: 0 }, state: "ready", createdAt: T0, ip: "10.0.0.5", ips: ["10.0.0.5"], labels: {}, annotations: {} };

function ctr(name: string, attempt: number, state: ContainerStatus["state"], extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    id: `${name}-${attempt}`,
    podSandboxId: "s1",
    name,
    attempt,
    state,
    createdAt: T0 + attempt * 1000,
    startedAt: T0 + attempt * 1000 + 10,
    image: "img",
    imageRef: "sha256:abc",
    logPath: "/x",
    labels: {},
    annotations: {},
    ...(state === "exited" ? { exitCode: 1, reason: "Error", finishedAt: T0 + attempt * 1000 + 500 } : {}),
    ...extra,
  };
}

function input(p: Pod, containers: ContainerStatus[], extra: Partial<StatusInput> = {}): StatusInput {
  return {
    pod: p,
    runtimeName: "fake",
    sandbox,
    containers,
    waiting: new Map(),
    ready: () => true,
    started: () => true,
    hostIPs: ["192.168.1.2"],
    startTime: "2026-01-01T00:00:00Z",
    podIsTerminal: false,
    now: T0 + 60_000,
    ...extra,
  };
}

describe("computePodStatus", () => {
  test("all running: Running, conditions True in the kubelet's order, statuses sorted by name", () => {
    const s = computePodStatus(input(pod(), [ctr("a", 0, "running"), ctr("b", 0, "running")]));
    expect(s.phase).toBe("Running");
    expect(s.conditions!.map((c) => [c.type, c.status])).toEqual([
      ["PodReadyToStartContainers", "True"],
      ["Initialized", "True"],
      ["Ready", "True"],
      ["ContainersReady", "True"],
      ["PodScheduled", "True"],
    ]);
    expect(s.conditions!.find((c) => c.type === "PodScheduled")!.lastTransitionTime).toBe("2025-12-31T00:00:00Z");
    expect(s.containerStatuses!.map((c) => c.name)).toEqual(["a", "b"]);
    expect(s.containerStatuses![0]).toEqual({
      name: "a",
      state: { running: { startedAt: "2026-01-01T00:00:00Z" } },
      lastState: {},
      ready: true,
      restartCount: 0,
      image: "img:2",
      imageID: "sha256:abc",
      containerID: "fake://a-0",
      started: true,
    });
    expect(s).toMatchObject({ podIP: "10.0.0.5", podIPs: [{ ip: "10.0.0.5" }], hostIP: "192.168.1.2", hostIPs: [{ ip: "192.168.1.2" }], qosClass: "BestEffort" });
  });

  test("nothing created yet: Pending with ContainerCreating", () => {
    const s = computePodStatus(input(pod(), [], { sandbox: null }));
    expect(s.phase).toBe("Pending");
    expect(s.containerStatuses!.every((c) => c.state.waiting?.reason === "ContainerCreating" && !c.ready && c.restartCount === 0)).toBe(true);
    expect(s.conditions!.find((c) => c.type === "PodReadyToStartContainers")!.status).toBe("False");
    expect(s.conditions!.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "ContainersNotReady", message: "containers with unready status: [a b]" });
  });

  test("crash loop: waiting CrashLoopBackOff, lastState terminated, restartCount from the attempt", () => {
    const waiting = new Map([["a", { reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=a pod=p_ns(u1)" }]]);
    const s = computePodStatus(input(pod(), [ctr("a", 3, "exited"), ctr("a", 2, "exited"), ctr("b", 0, "running")], { waiting }));
    const a = s.containerStatuses![0]!;
    expect(a.state.waiting).toEqual({ reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=a pod=p_ns(u1)" });
    expect(a.lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error", containerID: "fake://a-3" });
    expect(a.restartCount).toBe(3);
    expect(s.phase).toBe("Running");
  });

  test("a restarted container shows the previous one as lastState", () => {
    const s = computePodStatus(input(pod(), [ctr("a", 1, "running"), ctr("a", 0, "exited", { exitCode: 137 }), ctr("b", 0, "running")]));
    const a = s.containerStatuses![0]!;
    expect(a.state.running).toBeDefined();
    expect(a.lastState.terminated?.exitCode).toBe(137);
    expect(a.restartCount).toBe(1);
  });

  test("not ready: ContainersReady and Ready False; unstarted container not ready", () => {
    const s = computePodStatus(input(pod(), [ctr("a", 0, "running"), ctr("b", 0, "running")], { ready: (id) => id !== "b-0", started: (id) => id !== "a-0" }));
    expect(s.containerStatuses!.map((c) => [c.name, c.ready, c.started])).toEqual([
      ["a", false, false],
      ["b", false, true],
    ]);
    expect(s.conditions!.find((c) => c.type === "Ready")!.message).toBe("containers with unready status: [a b]");
  });

  test("transition times are kept while a condition's status holds", () => {
    const first = computePodStatus(input(pod(), [ctr("a", 0, "running"), ctr("b", 0, "running")], { ready: () => false }));
    const later = computePodStatus(input(pod(), [ctr("a", 0, "running"), ctr("b", 0, "running")], { ready: () => false, previous: first, now: T0 + 120_000 }));
    expect(later.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime).toBe(first.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime!);
    const ready = computePodStatus(input(pod(), [ctr("a", 0, "running"), ctr("b", 0, "running")], { previous: later, now: T0 + 180_000 }));
    expect(ready.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime).toBe("2026-01-01T00:03:00Z");
  });

  test("init containers: PodInitializing for app containers, Initialized False with the incomplete ones", () => {
    const p = pod({ initContainers: [{ name: "i1" }, { name: "i2" }], containers: [{ name: "a" }] });
    const s = computePodStatus(input(p, [ctr("i1", 0, "exited", { exitCode: 0, reason: "Completed" }), ctr("i2", 0, "running")]));
    expect(s.phase).toBe("Pending");
    expect(s.initContainerStatuses!.map((c) => c.name)).toEqual(["i1", "i2"]);
    expect(s.containerStatuses![0]!.state.waiting?.reason).toBe("PodInitializing");
    expect(s.conditions!.find((c) => c.type === "Initialized")).toMatchObject({ status: "False", reason: "ContainersNotInitialized", message: "containers with incomplete status: [i2]" });
  });

  test("terminal pods: Succeeded / Failed with PodCompleted", () => {
    const p = pod({ restartPolicy: "Never", containers: [{ name: "a" }] });
    const ok = computePodStatus(input(p, [ctr("a", 0, "exited", { exitCode: 0, reason: "Completed" })], { podIsTerminal: true }));
    expect(ok.phase).toBe("Succeeded");
    expect(ok.conditions!.find((c) => c.type === "Ready")!.reason).toBe("PodCompleted");
    const bad = computePodStatus(input(p, [ctr("a", 0, "exited")], { podIsTerminal: true }));
    expect(bad.phase).toBe("Failed");
  });

  test("the pod IP stays after the sandbox stopped", () => {
    const first = computePodStatus(input(pod(), [ctr("a", 0, "running"), ctr("b", 0, "running")]));
    const after = computePodStatus(input(pod(), [], { sandbox: { ...sandbox, state: "notready", ip: undefined, ips: undefined } as PodSandboxStatus, previous: first }));
    expect(after.podIP).toBe("10.0.0.5");
  });
});

describe("podPhase (kubelet getPhase)", () => {
  const running: ContainerStatusObj = { name: "x", state: { running: {} }, lastState: {}, ready: true, restartCount: 0, image: "", imageID: "" };
  const ok: ContainerStatusObj = { ...running, state: { terminated: { exitCode: 0 } } };
  const failed: ContainerStatusObj = { ...running, state: { terminated: { exitCode: 2 } } };
  const waitingFresh: ContainerStatusObj = { ...running, state: { waiting: { reason: "ContainerCreating" } } };
  const restarting: ContainerStatusObj = { ...running, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1 } } };
  const cases: [string, "Always" | "OnFailure" | "Never", ContainerStatusObj[], ContainerStatusObj[], string][] = [
    ["running", "Always", [], [running], "Running"],
    ["one waiting", "Always", [], [running, waitingFresh], "Pending"],
    ["all stopped, Always", "Always", [], [failed], "Running"],
    ["restarting, Always", "Always", [], [restarting], "Running"],
    ["all succeeded, OnFailure", "OnFailure", [], [ok, ok], "Succeeded"],
    ["one failed, OnFailure", "OnFailure", [], [ok, failed], "Running"],
    ["one failed, Never", "Never", [], [ok, failed], "Failed"],
    ["init running", "Always", [running], [waitingFresh], "Pending"],
    ["init failed, Never", "Never", [failed], [waitingFresh], "Failed"],
    ["init failed, restarting", "Always", [restarting], [waitingFresh], "Pending"],
    ["init done", "Always", [ok], [running], "Running"],
  ];
  for (const [name, policy, init, regular, phase] of cases) {
    test(name, () => {
      expect(podPhase(pod({ restartPolicy: policy }), init, regular, false)).toBe(phase as never);
    });
  }
});
