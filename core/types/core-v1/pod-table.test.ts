/** @module Tests for the pod table row (READY / STATUS / RESTARTS) against upstream printPod behaviour. */
import { describe, expect, test } from "bun:test";
import type { KubeObject } from "../../api/meta.ts";
import { podColumns, podSummary } from "./pod-table.ts";

const NOW = Date.parse("2024-06-01T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const MIN = 60_000;

function pod(spec: Record<string, unknown>, status: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name: "p", creationTimestamp: ago(10 * MIN), ...meta }, spec, status };
}

const one = { containers: [{ name: "a", image: "x" }] };
const running = { running: { startedAt: ago(MIN) } };

describe("podSummary", () => {
  const cases: [string, KubeObject, { ready: string; status: string; restarts: string }][] = [
    ["pending, no statuses", pod(one, { phase: "Pending" }), { ready: "0/1", status: "Pending", restarts: "0" }],
    [
      "container creating",
      pod(one, { phase: "Pending", containerStatuses: [{ name: "a", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } }] }),
      { ready: "0/1", status: "ContainerCreating", restarts: "0" },
    ],
    [
      "running and ready",
      pod(one, { phase: "Running", containerStatuses: [{ name: "a", ready: true, restartCount: 0, state: running }] }),
      { ready: "1/1", status: "Running", restarts: "0" },
    ],
    [
      "crash loop with last restart time",
      pod(one, {
        phase: "Running",
        containerStatuses: [
          {
            name: "a",
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: "CrashLoopBackOff" } },
            lastState: { terminated: { exitCode: 1, reason: "Error", finishedAt: ago(5 * MIN) } },
          },
        ],
      }),
      { ready: "0/1", status: "CrashLoopBackOff", restarts: "3 (5m ago)" },
    ],
    [
      "terminated without reason shows exit code",
      pod(one, { phase: "Running", containerStatuses: [{ name: "a", ready: false, restartCount: 0, state: { terminated: { exitCode: 137 } } }] }),
      { ready: "0/1", status: "ExitCode:137", restarts: "0" },
    ],
    [
      "terminated by signal",
      pod(one, { phase: "Running", containerStatuses: [{ name: "a", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, signal: 9 } } }] }),
      { ready: "0/1", status: "Signal:9", restarts: "0" },
    ],
    [
      "completed",
      pod(one, { phase: "Succeeded", containerStatuses: [{ name: "a", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } }] }),
      { ready: "0/1", status: "Completed", restarts: "0" },
    ],
    ["evicted", pod(one, { phase: "Failed", reason: "Evicted" }), { ready: "0/1", status: "Evicted", restarts: "0" }],
    [
      "terminating",
      pod(one, { phase: "Running", containerStatuses: [{ name: "a", ready: true, restartCount: 0, state: running }] }, { deletionTimestamp: ago(0) }),
      { ready: "1/1", status: "Terminating", restarts: "0" },
    ],
    [
      "terminal pods being deleted keep their phase",
      pod(one, { phase: "Succeeded" }, { deletionTimestamp: ago(0) }),
      { ready: "0/1", status: "Succeeded", restarts: "0" },
    ],
    [
      "scheduling gated",
      pod(one, { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "SchedulingGated" }] }),
      { ready: "0/1", status: "SchedulingGated", restarts: "0" },
    ],
  ];
  for (const [name, p, want] of cases) test(name, () => expect(podSummary(p, NOW)).toEqual(want));

  const init = { initContainers: [{ name: "i1", image: "x" }, { name: "i2", image: "x" }], containers: [{ name: "a", image: "x" }] };
  test("first init container running: Init:0/2", () => {
    const p = pod(init, { phase: "Pending", initContainerStatuses: [{ name: "i1", ready: false, restartCount: 0, state: running }] });
    expect(podSummary(p, NOW).status).toBe("Init:0/2");
  });
  test("second init container waiting on image pull", () => {
    const p = pod(init, {
      phase: "Pending",
      initContainerStatuses: [
        { name: "i1", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } },
        { name: "i2", ready: false, restartCount: 0, state: { waiting: { reason: "ImagePullBackOff" } } },
      ],
    });
    expect(podSummary(p, NOW).status).toBe("Init:ImagePullBackOff");
  });
  test("init container failed", () => {
    const p = pod(init, {
      phase: "Pending",
      initContainerStatuses: [{ name: "i1", ready: false, restartCount: 2, state: { terminated: { exitCode: 1 } } }],
    });
    expect(podSummary(p, NOW)).toEqual({ ready: "0/1", status: "Init:ExitCode:1", restarts: "2" });
  });
  test("waiting on PodInitializing counts as progress", () => {
    const p = pod(init, { phase: "Pending", initContainerStatuses: [{ name: "i1", ready: false, restartCount: 0, state: { waiting: { reason: "PodInitializing" } } }] });
    expect(podSummary(p, NOW).status).toBe("Init:0/2");
  });
  test("started sidecar counts towards READY", () => {
    const spec = { initContainers: [{ name: "s", image: "x", restartPolicy: "Always" }], containers: [{ name: "a", image: "x" }] };
    const p = pod(spec, {
      phase: "Running",
      conditions: [{ type: "Initialized", status: "True" }],
      initContainerStatuses: [{ name: "s", ready: true, started: true, restartCount: 1, state: running }],
      containerStatuses: [{ name: "a", ready: true, restartCount: 0, state: running }],
    });
    expect(podSummary(p, NOW)).toEqual({ ready: "2/2", status: "Running", restarts: "1" });
  });
  test("Completed with a container still running falls back to Running/NotReady", () => {
    const spec = { containers: [{ name: "a", image: "x" }, { name: "b", image: "x" }] };
    const statuses = [
      { name: "a", ready: true, restartCount: 0, state: running },
      { name: "b", ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } },
    ];
    expect(podSummary(pod(spec, { phase: "Running", containerStatuses: statuses }), NOW).status).toBe("NotReady");
    const ready = pod(spec, { phase: "Running", conditions: [{ type: "Ready", status: "True" }], containerStatuses: statuses });
    expect(podSummary(ready, NOW)).toEqual({ ready: "1/2", status: "Running", restarts: "0" });
  });
});

describe("pod columns", () => {
  test("names, types and priorities as a 1.32 server sends them", () => {
    expect(podColumns().map((c) => [c.name, c.type, c.format, c.priority])).toEqual([
      ["Name", "string", "name", 0],
      ["Ready", "string", "", 0],
      ["Status", "string", "", 0],
      ["Restarts", "string", "", 0],
      ["Age", "string", "", 0],
      ["IP", "string", "", 1],
      ["Node", "string", "", 1],
      ["Nominated Node", "string", "", 1],
      ["Readiness Gates", "string", "", 1],
    ]);
  });
  test("wide row", () => {
    const p = pod(
      { ...one, nodeName: "n1", readinessGates: [{ conditionType: "g1" }, { conditionType: "g2" }] },
      {
        phase: "Running",
        podIPs: [{ ip: "10.0.0.5" }],
        conditions: [{ type: "g1", status: "True" }],
        containerStatuses: [{ name: "a", ready: true, restartCount: 0, state: running }],
      },
    );
    expect(podColumns().map((c) => c.cell(p, NOW))).toEqual(["p", "1/1", "Running", "0", "10m", "10.0.0.5", "n1", "<none>", "1/2"]);
  });
});
