import { describe, expect, test } from "bun:test";
import type { EndpointPod, Service } from "../common/endpoints-util.ts";
import { podEndpointsChanged } from "../common/endpoints-util.ts";
import { desiredSubsets, type EndpointAddress, type EndpointSubset, repackSubsets, truncateSubsets } from "./endpoints-controller.ts";

const svc = (spec: Service["spec"] = {}): Service => ({
  metadata: { name: "s", namespace: "ns", uid: "svc" },
  spec: { selector: { app: "a" }, clusterIP: "10.96.0.1", ipFamilies: ["IPv4"], ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080 }], ...spec },
});

const pod = (name: string, o: { ip?: string; ips?: string[]; ready?: boolean; phase?: string; deleting?: boolean; hostname?: string; subdomain?: string } = {}): EndpointPod => ({
  metadata: { name, namespace: "ns", uid: `uid-${name}`, resourceVersion: "1", ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  spec: { nodeName: "n1", containers: [{ name: "c" }], ...(o.hostname ? { hostname: o.hostname } : {}), ...(o.subdomain ? { subdomain: o.subdomain } : {}) },
  status: {
    phase: o.phase ?? "Running",
    ...(o.ip ? { podIP: o.ip } : {}),
    ...(o.ips ? { podIPs: o.ips.map((ip) => ({ ip })) } : {}),
    conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
  },
});

const addr = (ip: string, uid = `uid-${ip}`): EndpointAddress => ({ ip, targetRef: { kind: "Pod", name: ip, uid } });
const ips = (subsets: EndpointSubset[]) =>
  subsets.map((s) => ({ r: (s.addresses ?? []).map((a) => a.ip), n: (s.notReadyAddresses ?? []).map((a) => a.ip), p: (s.ports ?? []).map((p) => p.port) }));

describe("desiredSubsets", () => {
  test("ready, not ready, no IP, terminal and terminating pods", () => {
    const pods = [
      pod("a", { ip: "10.0.0.2" }),
      pod("b", { ip: "10.0.0.1", ready: false }),
      pod("c"),
      pod("d", { ip: "10.0.0.4", phase: "Succeeded" }),
      pod("e", { ip: "10.0.0.5", deleting: true }),
    ];
    expect(ips(desiredSubsets(svc(), pods))).toEqual([{ r: ["10.0.0.2"], n: ["10.0.0.1"], p: [8080] }]);
    // Published: every non-terminal pod with an IP, terminating ones included, all ready.
    expect(ips(desiredSubsets(svc({ publishNotReadyAddresses: true }), pods))).toEqual([{ r: ["10.0.0.1", "10.0.0.2", "10.0.0.5"], n: [], p: [8080] }]);
  });

  test("the address is the pod IP of the Service's family", () => {
    const dual = pod("a", { ips: ["10.0.0.1", "fd00::1"] });
    expect(desiredSubsets(svc({ ipFamilies: ["IPv6", "IPv4"] }), [dual])[0]!.addresses![0]!.ip).toBe("fd00::1");
    expect(desiredSubsets(svc(), [dual])[0]!.addresses![0]!.ip).toBe("10.0.0.1");
    expect(desiredSubsets(svc({ ipFamilies: [], clusterIP: "fd00::a" }), [dual])[0]!.addresses![0]!.ip).toBe("fd00::1");
    expect(desiredSubsets(svc({ ipFamilies: ["IPv6"] }), [pod("v4", { ip: "10.0.0.1" })])).toEqual([]);
  });

  test("headless without ports: one portless subset; with ports but not headless: nothing", () => {
    const p = [pod("a", { ip: "10.0.0.1", hostname: "h", subdomain: "s" })];
    const hl = desiredSubsets(svc({ clusterIP: "None", ports: [] }), p);
    expect(hl).toEqual([{ addresses: [{ ip: "10.0.0.1", hostname: "h", nodeName: "n1", targetRef: { kind: "Pod", namespace: "ns", name: "a", uid: "uid-a" } }] }]);
    expect(desiredSubsets(svc({ ports: [] }), p)).toEqual([]);
  });

  test("appProtocol and unnamed ports are carried as upstream", () => {
    const s = svc({ ports: [{ port: 80, protocol: "TCP", targetPort: 8080, appProtocol: "http" }] });
    expect(desiredSubsets(s, [pod("a", { ip: "10.0.0.1" })])[0]!.ports).toEqual([{ port: 8080, protocol: "TCP", appProtocol: "http" }]);
  });
});

describe("repackSubsets", () => {
  test("addresses are grouped by the ports they all serve; not-ready for a port wins", () => {
    const a = addr("10.0.0.1");
    const b = addr("10.0.0.2");
    const http = { name: "http", port: 80, protocol: "TCP" };
    const metrics = { name: "metrics", port: 9100, protocol: "TCP" };
    const out = repackSubsets([
      { addr: b, port: http, ready: true },
      { addr: a, port: http, ready: true },
      { addr: a, port: metrics, ready: true },
      { addr: b, port: metrics, ready: false },
      { addr: b, port: metrics, ready: true },
    ]);
    expect(ips(out)).toEqual([
      { r: ["10.0.0.1", "10.0.0.2"], n: [], p: [80] },
      { r: ["10.0.0.1"], n: ["10.0.0.2"], p: [9100] },
    ]);
    // Same input in another order: same output.
    expect(
      repackSubsets([
        { addr: a, port: metrics, ready: true },
        { addr: b, port: metrics, ready: false },
        { addr: a, port: http, ready: true },
        { addr: b, port: http, ready: true },
      ]),
    ).toEqual(out);
  });

  test("ports served by the same addresses share a subset; one IP for two pods stays two addresses", () => {
    const http = { name: "http", port: 80, protocol: "TCP" };
    const https = { name: "https", port: 443, protocol: "TCP" };
    const out = repackSubsets([
      { addr: addr("10.0.0.1", "u1"), port: https, ready: true },
      { addr: addr("10.0.0.1", "u1"), port: http, ready: true },
      { addr: addr("10.0.0.1", "u2"), port: https, ready: true },
      { addr: addr("10.0.0.1", "u2"), port: http, ready: true },
    ]);
    expect(out).toHaveLength(1);
    expect(out[0]!.ports).toEqual([http, https]);
    expect(out[0]!.addresses!.map((x) => x.targetRef!.uid)).toEqual(["u1", "u2"]);
  });
});

describe("truncateSubsets", () => {
  const many = (prefix: string, n: number) => [...Array(n).keys()].map((i) => addr(`${prefix}.${i}`));
  test("under capacity: untouched", () => {
    const s: EndpointSubset[] = [{ addresses: many("10.0.0", 5) }];
    expect(truncateSubsets(s, 10)).toBe(false);
    expect(s[0]!.addresses).toHaveLength(5);
  });
  test("not-ready addresses go first, in proportion", () => {
    const s: EndpointSubset[] = [
      { addresses: many("10.0.0", 4), notReadyAddresses: many("10.0.1", 6) },
      { addresses: many("10.0.2", 2), notReadyAddresses: many("10.0.3", 2) },
    ];
    expect(truncateSubsets(s, 10)).toBe(true);
    // 6 ready stay; 4 slots for 8 not-ready: ceil(6/8*4)=3, then the 1 left.
    expect(s.map((x) => [x.addresses!.length, x.notReadyAddresses!.length])).toEqual([
      [4, 3],
      [2, 1],
    ]);
  });
  test("too many ready ones: ready truncated in proportion, not-ready dropped", () => {
    const s: EndpointSubset[] = [{ addresses: many("10.0.0", 9), notReadyAddresses: many("10.0.1", 3) }, { addresses: many("10.0.2", 3) }];
    expect(truncateSubsets(s, 8)).toBe(true);
    expect(s.map((x) => [x.addresses?.length ?? 0, x.notReadyAddresses?.length ?? 0])).toEqual([
      [6, 0],
      [2, 0],
    ]);
  });
});

describe("podEndpointsChanged", () => {
  test.each([
    ["nothing that matters (resourceVersion only)", {}, false, false],
    ["readiness", { ready: false }, true, false],
    ["IP", { ip: "10.0.0.9" }, true, false],
    ["deletion", { deleting: true }, true, false],
    ["terminal phase", { phase: "Failed" }, true, false],
    ["hostname", { hostname: "h" }, false, true],
  ] as const)("%s", (_l, change, podChanged, labelsChanged) => {
    const old = pod("a", { ip: "10.0.0.1" });
    const cur = pod("a", { ip: "10.0.0.1", ...change });
    cur.metadata.resourceVersion = "2";
    expect(podEndpointsChanged(old, cur)).toEqual({ podChanged, labelsChanged });
  });
});
