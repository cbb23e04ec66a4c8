import { afterEach, describe, expect, test } from "bun:test";
import pino from "pino";
import { ApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import { createKernel, type Kernel } from "../kernel.ts";
import { EventRecorder, EVENTS } from "./events.ts";
import { inProcessClient } from "./fetch-client.ts";
import { FaultyFetch } from "./testing.ts";
import type { Client, ResourceRef } from "./types.ts";

const PODS: ResourceRef = { group: "", version: "v1", resource: "pods" };
const NODES: ResourceRef = { group: "", version: "v1", resource: "nodes", namespaced: false };

interface CoreEvent extends KubeObject {
  involvedObject: Record<string, string>;
  reason: string;
  message: string;
  type: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host?: string };
  reportingComponent: string;
  reportingInstance: string;
}

const quiet = pino({ level: "silent" });

describe("EventRecorder", () => {
  let kernel: Kernel;
  let client: Client;
  let faulty: FaultyFetch;

  async function setup(): Promise<KubeObject> {
    kernel = await createKernel({ memory: true });
    faulty = new FaultyFetch(kernel.api.app.fetch);
    client = inProcessClient(faulty.fetch);
    return client.create(PODS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace: "default" },
      spec: { containers: [{ name: "c", image: "nginx" }] },
    });
  }

  afterEach(async () => {
    await kernel?.stop();
  });

  /** What `kubectl describe pod` asks for. */
  async function describeEvents(o: KubeObject): Promise<CoreEvent[]> {
    const m = o.metadata;
    const fieldSelector = `involvedObject.name=${m.name},involvedObject.namespace=${m.namespace},involvedObject.uid=${m.uid}`;
    return (await client.list<CoreEvent>(EVENTS, { namespace: m.namespace!, fieldSelector })).items;
  }

  test("records a core/v1 Event that kubectl describe's field selector finds", async () => {
    const pod = await setup();
    const rec = new EventRecorder(client, { component: "scheduler", host: "node-1", log: quiet });
    rec.record(pod, "Normal", "Scheduled", "Successfully assigned default/web to node-1");
    await rec.flush();
    const evs = await describeEvents(pod);
    expect(evs.length).toBe(1);
    const ev = evs[0]!;
    expect(ev).toMatchObject({
      type: "Normal",
      reason: "Scheduled",
      message: "Successfully assigned default/web to node-1",
      count: 1,
      source: { component: "scheduler", host: "node-1" },
      reportingComponent: "scheduler",
      reportingInstance: "node-1",
      involvedObject: { kind: "Pod", apiVersion: "v1", name: "web", namespace: "default", uid: pod.metadata.uid! },
    });
    expect(ev.metadata.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(ev.firstTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(ev.lastTimestamp).toBe(ev.firstTimestamp);
    // Another pod's selector finds nothing.
    expect(await describeEvents({ ...pod, metadata: { ...pod.metadata, uid: "other" } })).toEqual([]);
  });

  test("identical events within the window are one Event with a count", async () => {
    const pod = await setup();
    let now = Date.parse("2030-01-01T00:00:00Z");
    const rec = new EventRecorder(client, { component: "kubelet", now: () => now, windowMs: 60_000, log: quiet });
    rec.record(pod, "Warning", "BackOff", "Back-off restarting failed container");
    await rec.flush();
    now += 5000;
    rec.record(pod, "Warning", "BackOff", "Back-off restarting failed container");
    await rec.flush();
    now += 5000;
    rec.record(pod, "Warning", "BackOff", "Back-off restarting failed container");
    rec.record(pod, "Warning", "BackOff", "a different message");
    await rec.flush();
    const evs = await describeEvents(pod);
    expect(evs.map((e) => `${e.message}:${e.count}`).sort()).toEqual(["Back-off restarting failed container:3", "a different message:1"]);
    const agg = evs.find((e) => e.count === 3)!;
    expect(agg.firstTimestamp).toBe("2030-01-01T00:00:00Z");
    expect(agg.lastTimestamp).toBe("2030-01-01T00:00:10Z");
    // Past the window: a new Event.
    now += 120_000;
    rec.record(pod, "Warning", "BackOff", "Back-off restarting failed container");
    await rec.flush();
    expect((await describeEvents(pod)).length).toBe(3);
  });

  test("a burst is folded into few writes and the final count is exact", async () => {
    const pod = await setup();
    const rec = new EventRecorder(client, { component: "kubelet", log: quiet });
    const before = faulty.requests.length;
    for (let i = 0; i < 50; i++) rec.record(pod, "Normal", "Pulling", "Pulling image nginx");
    await rec.flush();
    const writes = faulty.requests.length - before;
    expect(writes).toBeLessThanOrEqual(3);
    const evs = await describeEvents(pod);
    expect(evs.map((e) => e.count)).toEqual([50]);
  });

  test("events about cluster-scoped objects go to the default namespace", async () => {
    await setup();
    const node = await client.create(NODES, { apiVersion: "v1", kind: "Node", metadata: { name: "n1" } });
    const rec = new EventRecorder(client, { component: "node-controller", log: quiet });
    rec.record(node, "Normal", "RegisteredNode", "Node n1 event: Registered Node n1");
    rec.record({ apiVersion: "v1", kind: "Plugin", name: "scheduler", namespace: "kube-system" }, "Warning", "PluginFailed", "boom");
    await rec.flush();
    const evs = (await client.list<CoreEvent>(EVENTS, { namespace: "default", fieldSelector: "involvedObject.name=n1" })).items;
    expect(evs.length).toBe(1);
    expect(evs[0]!.involvedObject.namespace).toBeUndefined();
    expect((await client.list<CoreEvent>(EVENTS, { namespace: "kube-system", fieldSelector: "reason=PluginFailed" })).items.length).toBe(1);
  });

  test("an Event deleted meanwhile is created again on the next occurrence", async () => {
    const pod = await setup();
    const rec = new EventRecorder(client, { component: "kubelet", log: quiet });
    rec.record(pod, "Normal", "Started", "Started container c");
    await rec.flush();
    const [first] = await describeEvents(pod);
    await client.delete(EVENTS, first!.metadata.name!, { namespace: "default" });
    rec.record(pod, "Normal", "Started", "Started container c");
    await rec.flush();
    const evs = await describeEvents(pod);
    expect(evs.length).toBe(1);
    expect(evs[0]!.count).toBe(2);
  });

  test("recording never throws: failures are logged and the next occurrence starts afresh", async () => {
    const pod = await setup();
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const rec = new EventRecorder(client, { component: "kubelet", log });
    faulty.fail({ network: true });
    rec.record(pod, "Normal", "Pulled", "pulled");
    await rec.flush();
    expect(lines.some((l) => l.msg === "writing an event failed" && l.reason === "Pulled")).toBe(true);
    rec.record(pod, "Normal", "Pulled", "pulled");
    await rec.flush();
    expect((await describeEvents(pod)).map((e) => e.count)).toEqual([1]);
    // Nonexistent namespace, no name, a client that throws synchronously: still no throw.
    rec.record({ kind: "Pod", name: "x", namespace: "missing" }, "Warning", "Failed", "nope");
    rec.record({ kind: "Pod" }, "Warning", "Failed", "nameless");
    const broken = new EventRecorder(
      {
        create: () => {
          throw new ApiError({ reason: "InternalError", message: "sync throw" });
        },
      } as unknown as Client,
      { component: "x", log: quiet },
    );
    expect(() => broken.record(pod, "Normal", "R", "m")).not.toThrow();
    await broken.flush();
    await rec.flush();
    expect(lines.filter((l) => l.msg === "writing an event failed").length).toBe(2);
    expect(lines.some((l) => l.msg === "event dropped: the involved object has no name")).toBe(true);
  });
});
