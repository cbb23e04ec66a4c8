/**
 * The endpoints-controller and endpointslice-controller plugins together on
 * an in-memory kernel (no runtime: pod IPs and readiness are written through
 * the status subresource, as a kubelet would).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../../../core/api/meta.ts";
import { ENDPOINT_SLICES, ENDPOINTS, SERVICES } from "../common/endpoints-util.ts";
import { PODS } from "../common/refs.ts";
import { startCluster, type TestCluster, until } from "../common/testing.ts";
import { createEndpointSlicePlugin } from "../endpointslice/index.ts";
import { createEndpointsPlugin } from "./index.ts";
import { createNode, createPod, createService, endpointsSummary, getEndpoints, listSlices, setPodStatus, sliceSummary } from "./testing.ts";

let c: TestCluster;
const NS = "default";
const MAX = 5;

beforeAll(async () => {
  c = await startCluster([createEndpointsPlugin() as never, createEndpointSlicePlugin() as never], {
    "endpoints-controller": { config: { endpointUpdatesBatchPeriodMs: 20 } },
    "endpointslice-controller": { config: { endpointUpdatesBatchPeriodMs: 20, maxEndpointsPerSlice: MAX } },
  });
  await createNode(c.client, "node-a", "zone-1");
  await createNode(c.client, "node-b");
});
afterAll(() => c.stop());

const web = { name: "http", port: 80, targetPort: 8080 };

test("ready and not-ready pods: addresses vs notReadyAddresses, and slice conditions", async () => {
  await createService(c.client, NS, "web", { selector: { app: "web" }, ports: [web] }, { team: "blue" });
  await createPod(c.client, NS, "web-1", { labels: { app: "web" }, ip: "10.1.0.1", ready: true, nodeName: "node-a" });
  await createPod(c.client, NS, "web-2", { labels: { app: "web" }, ip: "10.1.0.2", ready: false, nodeName: "node-b" });
  await createPod(c.client, NS, "web-3", { labels: { app: "web" }, nodeName: "node-a" }); // no IP yet: skipped
  await createPod(c.client, NS, "other", { labels: { app: "other" }, ip: "10.1.0.9", nodeName: "node-a" });

  const ep = await until("Endpoints web", async () => {
    const e = await getEndpoints(c.client, NS, "web");
    return endpointsSummary(e).length === 2 && e;
  });
  expect(ep.metadata.labels).toEqual({ team: "blue" });
  expect(ep.metadata.ownerReferences).toBeUndefined();
  expect(ep.subsets).toEqual([
    {
      addresses: [{ ip: "10.1.0.1", nodeName: "node-a", targetRef: expect.objectContaining({ kind: "Pod", namespace: NS, name: "web-1", uid: expect.any(String) }) }],
      notReadyAddresses: [{ ip: "10.1.0.2", nodeName: "node-b", targetRef: expect.objectContaining({ kind: "Pod", name: "web-2" }) }],
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    },
  ]);

  const slices = await until("slices for web", async () => {
    const s = await listSlices(c.client, NS, "web");
    return sliceSummary(s).length === 2 && s;
  });
  expect(slices).toHaveLength(1);
  const svc = await c.client.get(SERVICES, "web", { namespace: NS });
  const s = slices[0]!;
  expect(s.metadata.name).toStartWith("web-");
  expect(s.metadata.generateName).toBe("web-");
  expect(s.metadata.labels).toEqual({ team: "blue", "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" });
  expect(s.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Service", name: "web", uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true }]);
  expect(s.addressType).toBe("IPv4");
  expect(s.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
  const byIp = Object.fromEntries((s.endpoints ?? []).map((e) => [e.addresses[0], e]));
  expect(byIp["10.1.0.1"]).toEqual({
    addresses: ["10.1.0.1"],
    conditions: { ready: true, serving: true, terminating: false },
    nodeName: "node-a",
    zone: "zone-1",
    targetRef: expect.objectContaining({ kind: "Pod", namespace: NS, name: "web-1" }),
  });
  expect(byIp["10.1.0.2"]).toMatchObject({ conditions: { ready: false, serving: false, terminating: false }, nodeName: "node-b" });
  expect(byIp["10.1.0.2"]!.zone).toBeUndefined();

  // Readiness flips move the address; an IP arriving adds the pod.
  const pods = (await c.client.list(PODS, { namespace: NS, labelSelector: "app=web" })).items;
  await setPodStatus(c.client, pods.find((p) => p.metadata.name === "web-2")!, { ip: "10.1.0.2", ready: true });
  await setPodStatus(c.client, pods.find((p) => p.metadata.name === "web-3")!, { ip: "10.1.0.3", ready: false });
  await until("readiness reflected", async () => {
    const e = endpointsSummary(await getEndpoints(c.client, NS, "web"));
    return JSON.stringify(e) === JSON.stringify(["10.1.0.1:8080", "10.1.0.2:8080", "10.1.0.3:8080?"]);
  });
  await until("readiness reflected in slices", async () =>
    JSON.stringify(sliceSummary(await listSlices(c.client, NS, "web"))) ===
    JSON.stringify(["10.1.0.1|true|true|false", "10.1.0.2|true|true|false", "10.1.0.3|false|false|false"]),
  );
});

test("publishNotReadyAddresses lists not-ready pods as ready addresses", async () => {
  await createService(c.client, NS, "pub", { selector: { app: "pub" }, ports: [web], publishNotReadyAddresses: true });
  await createPod(c.client, NS, "pub-1", { labels: { app: "pub" }, ip: "10.2.0.1", ready: false, nodeName: "node-a" });
  await until("Endpoints pub", async () => JSON.stringify(endpointsSummary(await getEndpoints(c.client, NS, "pub"))) === '["10.2.0.1:8080"]');
  await until("slice pub", async () => JSON.stringify(sliceSummary(await listSlices(c.client, NS, "pub"))) === '["10.2.0.1|true|false|false"]');
});

test("terminating pods: left out of Endpoints, terminating in slices (kept by publishNotReadyAddresses)", async () => {
  await createService(c.client, NS, "term", { selector: { app: "term" }, ports: [web] });
  await createService(c.client, NS, "term-pub", { selector: { app: "term" }, ports: [web], publishNotReadyAddresses: true });
  await createPod(c.client, NS, "term-1", { labels: { app: "term" }, ip: "10.3.0.1", ready: true, nodeName: "node-a", finalizers: ["test.skiff.dev/hold"] });
  await createPod(c.client, NS, "term-2", { labels: { app: "term" }, ip: "10.3.0.2", ready: true, nodeName: "node-a" });
  await until("both listed", async () => endpointsSummary(await getEndpoints(c.client, NS, "term")).length === 2);
  await c.client.delete(PODS, "term-1", { namespace: NS, gracePeriodSeconds: 0 });
  const held = await c.client.get(PODS, "term-1", { namespace: NS });
  expect(held.metadata.deletionTimestamp).toBeDefined();

  await until("term-1 gone from Endpoints", async () => JSON.stringify(endpointsSummary(await getEndpoints(c.client, NS, "term"))) === '["10.3.0.2:8080"]');
  await until("term-1 terminating in slices", async () =>
    JSON.stringify(sliceSummary(await listSlices(c.client, NS, "term"))) === JSON.stringify(["10.3.0.1|false|true|true", "10.3.0.2|true|true|false"]),
  );
  await until("publishNotReadyAddresses keeps it", async () =>
    JSON.stringify(endpointsSummary(await getEndpoints(c.client, NS, "term-pub"))) === JSON.stringify(["10.3.0.1:8080", "10.3.0.2:8080"]),
  );
  await until("… ready in its slices", async () =>
    JSON.stringify(sliceSummary(await listSlices(c.client, NS, "term-pub"))) === JSON.stringify(["10.3.0.1|true|true|true", "10.3.0.2|true|true|false"]),
  );
  await c.client.patch(PODS, "term-1", "merge", { metadata: { finalizers: null } }, { namespace: NS });
  await until("gone pod leaves the slices", async () => JSON.stringify(sliceSummary(await listSlices(c.client, NS, "term"))) === JSON.stringify(["10.3.0.2|true|true|false"]));
});

test("named target ports resolve per pod; pods with other ports get their own subset and slice", async () => {
  await createService(c.client, NS, "named", { selector: { app: "named" }, ports: [{ name: "http", port: 80, targetPort: "http" }] });
  await createPod(c.client, NS, "named-1", { labels: { app: "named" }, ip: "10.4.0.1", nodeName: "node-a", ports: [{ name: "http", containerPort: 8080 }] });
  await createPod(c.client, NS, "named-2", { labels: { app: "named" }, ip: "10.4.0.2", nodeName: "node-a", ports: [{ name: "http", containerPort: 9090 }] });
  await createPod(c.client, NS, "named-3", { labels: { app: "named" }, ip: "10.4.0.3", nodeName: "node-a", ports: [{ name: "web", containerPort: 7070 }] });
  await createPod(c.client, NS, "named-4", { labels: { app: "named" }, ip: "10.4.0.4", nodeName: "node-a", ports: [{ name: "http", containerPort: 8080 }] });

  const ep = await until("Endpoints named", async () => {
    const e = await getEndpoints(c.client, NS, "named");
    return endpointsSummary(e).length === 3 && e;
  });
  expect(ep.subsets!.map((s) => ({ ips: s.addresses!.map((a) => a.ip), ports: s.ports }))).toEqual([
    { ips: ["10.4.0.1", "10.4.0.4"], ports: [{ name: "http", port: 8080, protocol: "TCP" }] },
    { ips: ["10.4.0.2"], ports: [{ name: "http", port: 9090, protocol: "TCP" }] },
  ]);

  const slices = await until("three slices", async () => {
    const s = await listSlices(c.client, NS, "named");
    return sliceSummary(s).length === 4 && s;
  });
  const byPorts = slices.map((s) => ({ ports: (s.ports ?? []).map((p) => p.port), ips: (s.endpoints ?? []).map((e) => e.addresses[0]).sort() }));
  expect(byPorts.sort((a, b) => (a.ports[0] ?? 0) - (b.ports[0] ?? 0))).toEqual([
    { ports: [], ips: ["10.4.0.3"] },
    { ports: [8080], ips: ["10.4.0.1", "10.4.0.4"] },
    { ports: [9090], ips: ["10.4.0.2"] },
  ]);
});

test("a port only some pods have splits the Endpoints subsets (RepackSubsets)", async () => {
  await createService(c.client, NS, "multi", {
    selector: { app: "multi" },
    ports: [
      { name: "http", port: 80, targetPort: 8080 },
      { name: "metrics", port: 9100, targetPort: "metrics" },
    ],
  });
  await createPod(c.client, NS, "multi-1", { labels: { app: "multi" }, ip: "10.5.0.1", nodeName: "node-a", ports: [{ name: "metrics", containerPort: 9101 }] });
  await createPod(c.client, NS, "multi-2", { labels: { app: "multi" }, ip: "10.5.0.2", nodeName: "node-a" });
  const ep = await until("Endpoints multi", async () => {
    const e = await getEndpoints(c.client, NS, "multi");
    return endpointsSummary(e).length === 3 && e;
  });
  expect(ep.subsets!.map((s) => ({ ips: s.addresses!.map((a) => a.ip), ports: s.ports!.map((p) => `${p.name}:${p.port}`) }))).toEqual([
    { ips: ["10.5.0.1", "10.5.0.2"], ports: ["http:8080"] },
    { ips: ["10.5.0.1"], ports: ["metrics:9101"] },
  ]);
  const slices = await until("two slices", async () => {
    const s = await listSlices(c.client, NS, "multi");
    return sliceSummary(s).length === 2 && s;
  });
  expect(slices.map((s) => (s.ports ?? []).map((p) => `${p.name}:${p.port}`).sort().join(",")).sort()).toEqual(["http:8080", "http:8080,metrics:9101"]);
});

test("headless Services: no ports, hostname from hostname+subdomain, the headless label", async () => {
  await createService(c.client, NS, "hl", { selector: { app: "hl" }, clusterIP: "None" });
  await createPod(c.client, NS, "hl-0", { labels: { app: "hl" }, ip: "10.6.0.1", nodeName: "node-a", hostname: "hl-0", subdomain: "hl" });
  await createPod(c.client, NS, "hl-1", { labels: { app: "hl" }, ip: "10.6.0.2", nodeName: "node-a", hostname: "hl-1", subdomain: "elsewhere" });
  const ep = await until("Endpoints hl", async () => {
    const e = await getEndpoints(c.client, NS, "hl");
    return endpointsSummary(e).length === 2 && e;
  });
  expect(ep.metadata.labels).toEqual({ "service.kubernetes.io/headless": "" });
  expect(ep.subsets).toHaveLength(1);
  expect(ep.subsets![0]!.ports).toBeUndefined();
  expect(ep.subsets![0]!.addresses!.map((a) => [a.ip, a.hostname])).toEqual([
    ["10.6.0.1", "hl-0"],
    ["10.6.0.2", undefined],
  ]);
  const slices = await until("slice hl", async () => {
    const s = await listSlices(c.client, NS, "hl");
    return sliceSummary(s).length === 2 && s;
  });
  expect(slices).toHaveLength(1);
  expect(slices[0]!.metadata.labels?.["service.kubernetes.io/headless"]).toBe("");
  expect(slices[0]!.ports ?? []).toEqual([]);
  expect(Object.fromEntries(slices[0]!.endpoints!.map((e) => [e.addresses[0], e.hostname]))).toEqual({ "10.6.0.1": "hl-0", "10.6.0.2": undefined });
});

test("Services without a selector are left to their owner; ExternalName gets nothing", async () => {
  await createService(c.client, NS, "manual", { ports: [{ port: 80 }] });
  await createService(c.client, NS, "ext", { type: "ExternalName", externalName: "example.com", selector: { app: "manual" } } as never);
  const manual = await c.client.create<KubeObject>(ENDPOINTS, {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "manual", namespace: NS },
    subsets: [{ addresses: [{ ip: "192.0.2.10" }], ports: [{ port: 80 }] }],
  });
  await createPod(c.client, NS, "manual-1", { labels: { app: "manual" }, ip: "10.7.0.1", nodeName: "node-a" });
  // A Service synced after these proves the controllers have been through them.
  await createService(c.client, NS, "after", { selector: { app: "manual" }, ports: [{ port: 80 }] });
  await until("after synced", async () => endpointsSummary(await getEndpoints(c.client, NS, "after")).length === 1);
  await until("after sliced", async () => sliceSummary(await listSlices(c.client, NS, "after")).length === 1);
  const still = await c.client.get(ENDPOINTS, "manual", { namespace: NS });
  expect(still.metadata.resourceVersion).toBe(manual.metadata.resourceVersion!);
  expect(await listSlices(c.client, NS, "manual")).toEqual([]);
  expect(await getEndpoints(c.client, NS, "ext")).toBeUndefined();
  expect(await listSlices(c.client, NS, "ext")).toEqual([]);
});

test("a Service with no ready pods yet has an empty Endpoints and one placeholder slice", async () => {
  await createService(c.client, NS, "empty", { selector: { app: "nobody" }, ports: [web] });
  const ep = await until("Endpoints empty", () => getEndpoints(c.client, NS, "empty"));
  expect(ep.subsets).toBeUndefined();
  const slices = await until("placeholder", async () => {
    const s = await listSlices(c.client, NS, "empty");
    return s.length > 0 && s;
  });
  expect(slices).toHaveLength(1);
  expect(slices[0]!.endpoints).toEqual([]);
  expect(slices[0]!.ports ?? []).toEqual([]);
  // The first pod turns the placeholder into the real slice (an update, same name).
  await createPod(c.client, NS, "empty-1", { labels: { app: "nobody" }, ip: "10.8.0.1", nodeName: "node-a" });
  const filled = await until("filled", async () => {
    const s = await listSlices(c.client, NS, "empty");
    return sliceSummary(s).length === 1 && s;
  });
  expect(filled.map((s) => s.metadata.name)).toEqual([slices[0]!.metadata.name]);
  expect(filled[0]!.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
});

test("a pod on a Node not known yet is retried once the Node appears", async () => {
  await createService(c.client, NS, "late", { selector: { app: "late" }, ports: [web] });
  await createPod(c.client, NS, "late-1", { labels: { app: "late" }, ip: "10.9.0.1", nodeName: "node-late" });
  await createPod(c.client, NS, "late-2", { labels: { app: "late" }, ip: "10.9.0.2", nodeName: "node-a" });
  await until("the known node's pod", async () => JSON.stringify(sliceSummary(await listSlices(c.client, NS, "late"))) === '["10.9.0.2|true|true|false"]');
  await createNode(c.client, "node-late", "zone-9");
  const slices = await until("both", async () => {
    const s = await listSlices(c.client, NS, "late");
    return sliceSummary(s).length === 2 && s;
  });
  expect(slices[0]!.endpoints!.find((e) => e.addresses[0] === "10.9.0.1")!.zone).toBe("zone-9");
});

describe("maxEndpointsPerSlice", () => {
  test(`slices hold at most ${MAX} endpoints; scale-down empties and deletes slices`, async () => {
    // Pods first, so that the first sync sees all twelve (packing depends on what arrives together).
    for (let i = 1; i <= 12; i++) await createPod(c.client, NS, `many-${i}`, { labels: { app: "many" }, ip: `10.10.0.${i}`, nodeName: "node-a" });
    await createService(c.client, NS, "many", { selector: { app: "many" }, ports: [web] });
    const slices = await until("12 endpoints", async () => {
      const s = await listSlices(c.client, NS, "many");
      return sliceSummary(s).length === 12 && s;
    });
    expect(slices.map((s) => s.endpoints!.length).sort()).toEqual([2, 5, 5]);
    expect(endpointsSummary(await until("Endpoints many", () => getEndpoints(c.client, NS, "many")))).toHaveLength(12);

    for (let i = 1; i <= 9; i++) await c.client.delete(PODS, `many-${i}`, { namespace: NS, gracePeriodSeconds: 0 });
    const left = await until("3 endpoints", async () => {
      const s = await listSlices(c.client, NS, "many");
      return sliceSummary(s).length === 3 && s;
    });
    expect(left.every((s) => s.endpoints!.length > 0 && s.endpoints!.length <= MAX)).toBe(true);
    expect(sliceSummary(left)).toEqual(["10.10.0.10|true|true|false", "10.10.0.11|true|true|false", "10.10.0.12|true|true|false"]);
  });
});

test("labels follow the Service; a managed slice or Endpoints changed by someone else is put right", async () => {
  await createService(c.client, NS, "fix", { selector: { app: "fix" }, ports: [web] }, { v: "1" });
  await createPod(c.client, NS, "fix-1", { labels: { app: "fix" }, ip: "10.11.0.1", nodeName: "node-a" });
  const [slice] = await until("slice", async () => {
    const s = await listSlices(c.client, NS, "fix");
    return sliceSummary(s).length === 1 && s;
  });
  await c.client.patch(SERVICES, "fix", "merge", { metadata: { labels: { v: "2" } } }, { namespace: NS });
  await until("labels on Endpoints", async () => (await getEndpoints(c.client, NS, "fix"))?.metadata.labels?.v === "2");
  await until("labels on slice", async () => (await listSlices(c.client, NS, "fix"))[0]?.metadata.labels?.v === "2");

  await c.client.patch(ENDPOINT_SLICES, slice!.metadata.name!, "merge", { endpoints: [{ addresses: ["192.0.2.99"] }] }, { namespace: NS });
  await c.client.patch(ENDPOINTS, "fix", "merge", { subsets: [{ addresses: [{ ip: "192.0.2.99" }] }] }, { namespace: NS });
  await until("slice restored", async () => JSON.stringify(sliceSummary(await listSlices(c.client, NS, "fix"))) === '["10.11.0.1|true|true|false"]');
  await until("Endpoints restored", async () => JSON.stringify(endpointsSummary(await getEndpoints(c.client, NS, "fix"))) === '["10.11.0.1:8080"]');

  await c.client.delete(ENDPOINTS, "fix", { namespace: NS });
  await c.client.delete(ENDPOINT_SLICES, slice!.metadata.name!, { namespace: NS });
  await until("Endpoints recreated", async () => JSON.stringify(endpointsSummary(await getEndpoints(c.client, NS, "fix"))) === '["10.11.0.1:8080"]');
  const again = await until("slice recreated", async () => {
    const s = await listSlices(c.client, NS, "fix");
    return JSON.stringify(sliceSummary(s)) === '["10.11.0.1|true|true|false"]' && s;
  });
  expect(again.map((s) => s.metadata.name)).not.toContain(slice!.metadata.name);
});

test("a deleted Service takes its Endpoints and slices with it", async () => {
  await createService(c.client, NS, "gone", { selector: { app: "gone" }, ports: [web] });
  await createPod(c.client, NS, "gone-1", { labels: { app: "gone" }, ip: "10.12.0.1", nodeName: "node-a" });
  await until("Endpoints", async () => endpointsSummary(await getEndpoints(c.client, NS, "gone")).length === 1);
  await until("slices", async () => sliceSummary(await listSlices(c.client, NS, "gone")).length === 1);
  await c.client.delete(SERVICES, "gone", { namespace: NS });
  await until("Endpoints deleted", async () => (await getEndpoints(c.client, NS, "gone")) === undefined);
  await until("slices deleted", async () => (await listSlices(c.client, NS, "gone")).length === 0);
});

test("leftover Endpoints whose Service is gone are deleted at start; live ones created before their Service are kept", async () => {
  const dir = mkdtempSync(join(tmpdir(), "skiff-endpoints-"));
  const ep = (name: string, annotations?: Record<string, string>) => ({
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name, namespace: NS, ...(annotations ? { annotations } : {}) },
    subsets: [{ addresses: [{ ip: "192.0.2.1" }] }],
  });
  try {
    const before = await startCluster([], {}, dir);
    try {
      await before.client.create(ENDPOINTS, ep("orphan"));
      await before.client.create(ENDPOINTS, ep("lock", { "control-plane.alpha.kubernetes.io/leader": "{}" }));
      await createService(before.client, NS, "kept", { ports: [{ port: 80 }] });
      await before.client.create(ENDPOINTS, ep("kept"));
    } finally {
      await before.stop();
    }
    const after = await startCluster([createEndpointsPlugin() as never], { "endpoints-controller": { config: { endpointUpdatesBatchPeriodMs: 20 } } }, dir);
    try {
      await until("orphan deleted", async () => (await getEndpoints(after.client, NS, "orphan")) === undefined);
      await after.client.create(ENDPOINTS, ep("early")); // its Service comes next
      await createService(after.client, NS, "sentinel", { selector: { app: "s" }, ports: [{ port: 80 }] });
      await until("sentinel synced", () => getEndpoints(after.client, NS, "sentinel"));
      expect(await getEndpoints(after.client, NS, "lock")).toBeDefined();
      expect(await getEndpoints(after.client, NS, "kept")).toBeDefined();
      expect(await getEndpoints(after.client, NS, "early")).toBeDefined();
    } finally {
      await after.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
