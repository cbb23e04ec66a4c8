import { describe, expect, test } from "bun:test";
import type { EndpointPod, Node, Service } from "../common/endpoints-util.ts";
import { addressTypesForService, CONTROLLER_NAME, type EndpointSlice, endpointPorts, MANAGED_BY_LABEL, planSlices, podToEndpoint, SERVICE_NAME_LABEL } from "./reconciler.ts";
import { SliceTracker } from "./tracker.ts";

const svc = (spec: Service["spec"] = {}, extra: Partial<Service["metadata"]> = {}): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "s", namespace: "ns", uid: "svc-uid", ...extra },
  spec: { selector: { app: "a" }, clusterIP: "10.96.0.10", ipFamilies: ["IPv4"], ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080 }], ...spec },
});

const pod = (i: number, o: { ready?: boolean; node?: string; deleting?: boolean; ports?: { name: string; containerPort: number }[]; ip?: string } = {}): EndpointPod => ({
  metadata: { name: `p${String(i).padStart(3, "0")}`, namespace: "ns", uid: `uid-${i}`, labels: { app: "a" }, ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  spec: { nodeName: o.node ?? "n1", containers: [{ name: "c", ...(o.ports ? { ports: o.ports } : {}) }] },
  status: { phase: "Running", podIP: o.ip ?? `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`, conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }] },
});

const nodes: Record<string, Node> = { n1: { metadata: { name: "n1", labels: { "topology.kubernetes.io/zone": "z1" } } } };
const node = (n: string) => nodes[n];

let seq = 0;
/** What the server would hold after creating `s`. */
function stored(s: EndpointSlice): EndpointSlice {
  const c = structuredClone(s);
  c.metadata.name ??= `s-${++seq}`;
  c.metadata.uid ??= `slice-${seq}`;
  c.metadata.resourceVersion = String(100 + seq);
  return c;
}

function plan(service: Service, pods: EndpointPod[], existing: EndpointSlice[] = [], max = 100) {
  return planSlices({ service, pods, existing, node, maxEndpointsPerSlice: max });
}

const range = (a: number, b: number) => [...Array(b - a).keys()].map((i) => a + i);

describe("planSlices", () => {
  test("a new Service with 250 pods: three slices of at most 100, owned and labelled", () => {
    const p = plan(svc({}, { labels: { team: "x" } }), range(0, 250).map((i) => pod(i)));
    expect(p.update).toEqual([]);
    expect(p.delete).toEqual([]);
    expect(p.create.map((s) => s.endpoints!.length)).toEqual([100, 100, 50]);
    const s = p.create[0]!;
    expect(s.metadata).toEqual({
      generateName: "s-",
      namespace: "ns",
      labels: { team: "x", [SERVICE_NAME_LABEL]: "s", [MANAGED_BY_LABEL]: CONTROLLER_NAME },
      ownerReferences: [{ apiVersion: "v1", kind: "Service", name: "s", uid: "svc-uid", controller: true, blockOwnerDeletion: true }],
    });
    expect(s.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(s.endpoints![0]).toEqual({
      addresses: ["10.0.0.1"],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: "Pod", namespace: "ns", name: "p000", uid: "uid-0" },
      nodeName: "n1",
      zone: "z1",
    });
  });

  test("nothing changed: nothing to write", () => {
    const pods = range(0, 150).map((i) => pod(i));
    const existing = plan(svc(), pods).create.map(stored);
    expect(plan(svc(), pods, existing)).toEqual({ create: [], update: [], delete: [], errors: [] });
  });

  test("one pod turning unready rewrites only its slice", () => {
    const pods = range(0, 150).map((i) => pod(i));
    const existing = plan(svc(), pods).create.map(stored);
    pods[120] = pod(120, { ready: false });
    const p = plan(svc(), pods, existing);
    expect(p.create).toEqual([]);
    expect(p.delete).toEqual([]);
    expect(p.update.map((s) => s.metadata.name)).toEqual([existing[1]!.metadata.name]);
    expect(p.update[0]!.metadata.resourceVersion).toBe(existing[1]!.metadata.resourceVersion!);
    expect(p.update[0]!.endpoints!.find((e) => e.targetRef?.name === "p120")!.conditions).toEqual({ ready: false, serving: false, terminating: false });
  });

  test("new pods fill the slices being updated, fullest first, before new slices", () => {
    const existing = plan(svc(), range(0, 180).map((i) => pod(i))).create.map(stored); // 100 + 80
    // p000 leaves (first slice updated, 99), 30 new pods arrive.
    const pods = [...range(1, 180), ...range(200, 230)].map((i) => pod(i));
    const p = plan(svc(), pods, existing);
    // The updated slice is filled back to 100; the other 29 do not fit the unchanged one (80 + 29 > 100): a new slice.
    expect(p.update.map((s) => [s.metadata.name, s.endpoints!.length])).toEqual([[existing[0]!.metadata.name, 100]]);
    expect(p.create.map((s) => s.endpoints!.length)).toEqual([29]);
    expect(p.delete).toEqual([]);
  });

  test("leftovers go to the unchanged slice they fit best, else a new slice", () => {
    const existing = plan(svc(), range(0, 170).map((i) => pod(i))).create.map(stored); // 100 + 70
    const p = plan(svc(), [...range(0, 170), ...range(300, 320)].map((i) => pod(i)), existing);
    expect(p.create).toEqual([]);
    expect(p.update.map((s) => [s.metadata.name, s.endpoints!.length])).toEqual([[existing[1]!.metadata.name, 90]]);
    const p2 = plan(svc(), [...range(0, 170), ...range(300, 340)].map((i) => pod(i)), existing);
    expect(p2.update).toEqual([]);
    expect(p2.create.map((s) => s.endpoints!.length)).toEqual([40]);
  });

  test("a slice left empty is deleted; a create paired with it becomes an update", () => {
    const existing = plan(svc(), range(0, 150).map((i) => pod(i))).create.map(stored); // 100 + 50
    const gone = plan(svc(), range(0, 100).map((i) => pod(i)), existing);
    expect(gone.delete.map((s) => s.metadata.name)).toEqual([existing[1]!.metadata.name]);
    expect(gone.create).toEqual([]);
    // All 150 replaced by 150 others: the two slices are rewritten, nothing created or deleted.
    const replaced = plan(svc(), range(500, 650).map((i) => pod(i)), existing);
    expect(replaced.create).toEqual([]);
    expect(replaced.delete).toEqual([]);
    expect(replaced.update.map((s) => s.metadata.name).sort()).toEqual(existing.map((s) => s.metadata.name!).sort());
    expect(replaced.update.flatMap((s) => s.endpoints!).length).toBe(150);
  });

  test("no endpoints: one placeholder, kept as is once it exists", () => {
    const p = plan(svc(), []);
    expect(p.create).toHaveLength(1);
    expect(p.create[0]!.endpoints).toEqual([]);
    expect(p.create[0]!.ports).toEqual([]);
    expect(plan(svc(), [], [stored(p.create[0]!)])).toEqual({ create: [], update: [], delete: [], errors: [] });
    // The last pod leaving turns its slice back into the placeholder (an update, no delete).
    const one = plan(svc(), [pod(1)]).create.map(stored);
    const back = plan(svc(), [], one);
    expect(back.delete).toEqual([]);
    expect(back.update.map((s) => [s.metadata.name, s.endpoints, s.ports])).toEqual([[one[0]!.metadata.name, [], []]]);
  });

  test("slices of a deleted namesake (other uid) and of unsupported address types are deleted", () => {
    const old = stored(plan(svc(), [pod(1)]).create[0]!);
    old.metadata.ownerReferences = [{ apiVersion: "v1", kind: "Service", name: "s", uid: "old-uid", controller: true }];
    const v6 = stored({ ...plan(svc(), [pod(2)]).create[0]!, addressType: "IPv6" });
    const p = plan(svc(), [pod(1)], [old, v6]);
    expect(p.delete.map((s) => s.metadata.name).sort()).toEqual([old.metadata.name, v6.metadata.name].sort());
    expect(p.create).toHaveLength(1);
    expect(p.create[0]!.metadata.ownerReferences![0]!.uid).toBe("svc-uid");
  });

  test("named target ports: per-pod port numbers, pods without the port in a port-less slice", () => {
    const s = svc({ ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: "web" }] });
    const p = plan(s, [pod(1, { ports: [{ name: "web", containerPort: 8080 }] }), pod(2, { ports: [{ name: "web", containerPort: 9090 }] }), pod(3)]);
    expect(p.create.map((x) => [x.ports!.map((q) => q.port), x.endpoints!.map((e) => e.targetRef!.name)]).sort()).toEqual([
      [[], ["p003"]],
      [[8080], ["p001"]],
      [[9090], ["p002"]],
    ]);
  });

  test("terminating pods: terminating, serving by readiness, never ready unless published", () => {
    const p = plan(svc(), [pod(1, { deleting: true }), pod(2, { deleting: true, ready: false })]);
    expect(p.create[0]!.endpoints!.map((e) => e.conditions)).toEqual([
      { ready: false, serving: true, terminating: true },
      { ready: false, serving: false, terminating: true },
    ]);
    const pub = plan(svc({ publishNotReadyAddresses: true }), [pod(1, { deleting: true, ready: false })]);
    expect(pub.create[0]!.endpoints![0]!.conditions).toEqual({ ready: true, serving: false, terminating: true });
  });

  test("pods on an unknown Node are left out with an error (unless not-ready addresses are published)", () => {
    const p = plan(svc(), [pod(1), pod(2, { node: "ghost" })]);
    expect(p.create[0]!.endpoints!.map((e) => e.targetRef!.name)).toEqual(["p001"]);
    expect(p.errors).toEqual(["skipping Pod p002 for Service ns/s: Node ghost Not Found"]);
    const pub = plan(svc({ publishNotReadyAddresses: true }), [pod(2, { node: "ghost" })]);
    expect(pub.errors).toEqual([]);
    expect(pub.create[0]!.endpoints![0]).not.toHaveProperty("zone");
  });

  test("labels follow the Service (reserved ones kept); a label-only change is an update", () => {
    const existing = plan(svc(), [pod(1)]).create.map(stored);
    const p = plan(svc({}, { labels: { v: "2", [SERVICE_NAME_LABEL]: "evil" } }), [pod(1)], existing);
    expect(p.update.map((s) => s.metadata.labels)).toEqual([{ v: "2", [SERVICE_NAME_LABEL]: "s", [MANAGED_BY_LABEL]: CONTROLLER_NAME }]);
    const headless = plan(svc({ clusterIP: "None", ports: [] }), [pod(1)]);
    expect(headless.create[0]!.metadata.labels!["service.kubernetes.io/headless"]).toBe("");
    expect(headless.create[0]!.ports).toEqual([]);
  });

  test("a Service being deleted gets no new slices", () => {
    expect(plan(svc({}, { deletionTimestamp: "2026-01-01T00:00:00Z" }), [pod(1)]).create).toEqual([]);
  });
});

describe("helpers", () => {
  test.each([
    [{ ipFamilies: ["IPv6", "IPv4"] }, ["IPv4", "IPv6"]],
    [{ ipFamilies: [], clusterIP: "fd00::1" }, ["IPv6"]],
    [{ ipFamilies: [], clusterIP: "10.0.0.1" }, ["IPv4"]],
    [{ ipFamilies: [], clusterIP: "None" }, ["IPv4", "IPv6"]],
  ] as const)("address types of %j", (spec, want) => {
    expect([...addressTypesForService(svc(spec as never))].sort()).toEqual([...want]);
  });

  test("endpoint addresses are the pod IPs of the slice's family", () => {
    const dual: EndpointPod = { ...pod(1), status: { ...pod(1).status, podIPs: [{ ip: "10.0.0.9" }, { ip: "fd00::9" }] } };
    expect(podToEndpoint(dual, undefined, svc(), "IPv6").addresses).toEqual(["fd00::9"]);
    expect(podToEndpoint(dual, undefined, svc(), "IPv4").addresses).toEqual(["10.0.0.9"]);
  });

  test("named ports match the protocol and sidecar ports", () => {
    const p: EndpointPod = {
      ...pod(1),
      spec: {
        nodeName: "n1",
        containers: [{ name: "c", ports: [{ name: "dns", containerPort: 5353, protocol: "TCP" }] }],
        initContainers: [{ name: "side", restartPolicy: "Always", ports: [{ name: "dns", containerPort: 53, protocol: "UDP" }] }],
      },
    };
    const s = svc({
      ports: [
        { name: "tcp", port: 53, protocol: "TCP", targetPort: "dns" },
        { name: "udp", port: 53, protocol: "UDP", targetPort: "dns" },
        { name: "none", port: 1, protocol: "SCTP", targetPort: "dns" },
      ],
    });
    expect(endpointPorts(s, p)).toEqual([
      { name: "tcp", port: 5353, protocol: "TCP" },
      { name: "udp", port: 53, protocol: "UDP" },
    ]);
  });
});

describe("SliceTracker", () => {
  const slice = (uid: string, rv: string): EndpointSlice => ({
    metadata: { name: uid, namespace: "ns", uid, resourceVersion: rv, labels: { [SERVICE_NAME_LABEL]: "s" } },
    addressType: "IPv4",
  });

  test("our own write's echo needs no sync; a later change by someone else does", () => {
    const t = new SliceTracker();
    t.update(slice("a", "10"));
    expect(t.shouldSync(slice("a", "10"))).toBe(false);
    expect(t.shouldSync(slice("a", "12"))).toBe(true);
    expect(t.shouldSync(slice("b", "5"))).toBe(true);
  });

  test("stale while the cache lacks a created slice, holds an older version, or still has a deleted one", () => {
    const t = new SliceTracker();
    expect(t.stale("ns/s", [])).toBe(false);
    t.update(slice("a", "10"));
    expect(t.stale("ns/s", [])).toBe(true);
    expect(t.stale("ns/s", [slice("a", "9")])).toBe(true);
    expect(t.stale("ns/s", [slice("a", "10")])).toBe(false);
    t.expectDeletion(slice("a", "10"));
    expect(t.stale("ns/s", [slice("a", "10")])).toBe(true);
    expect(t.stale("ns/s", [])).toBe(false);
  });

  test("deletions: ours are expected, others' call for a sync", () => {
    const t = new SliceTracker();
    t.update(slice("a", "10"));
    t.update(slice("b", "11"));
    t.expectDeletion(slice("a", "10"));
    expect(t.handleDeletion(slice("a", "10"))).toBe(true);
    expect(t.has(slice("a", "10"))).toBe(false);
    expect(t.handleDeletion(slice("b", "11"))).toBe(false);
    t.update(slice("c", "12"));
    t.deleteService("ns/s");
    expect(t.has(slice("c", "12"))).toBe(false);
  });
});
