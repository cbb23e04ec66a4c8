import { describe, expect, test } from "bun:test";
import { ApiError } from "../api/errors.ts";
import type { KubeObject } from "../api/meta.ts";
import { ServiceAllocator } from "./service-allocator.ts";

function svc(name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: structuredClone(spec) };
}

function thrown(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    return e as ApiError;
  }
  throw new Error("did not throw");
}

const ipOf = (o: KubeObject) => (o.spec as { clusterIP: string }).clusterIP;
const portsOf = (o: KubeObject) => (o.spec as { ports: { nodePort: number }[] }).ports.map((p) => p.nodePort);

describe("ServiceAllocator: cluster IPs", () => {
  test("dynamic IPs are unique, in range, from the upper band, never network/broadcast/kubernetes", () => {
    const a = new ServiceAllocator({ serviceCidr: "10.96.0.0/24" });
    expect(a.kubernetesServiceIP).toBe("10.96.0.1");
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const s = svc(`s${i}`, { type: "ClusterIP", ports: [{ port: 80 }] });
      a.allocate(s).commit();
      const ip = ipOf(s);
      expect(seen.has(ip)).toBe(false);
      seen.add(ip);
      const last = Number(ip.split(".")[3]);
      expect(last >= 16 && last <= 254).toBe(true);
      expect((s.spec as { clusterIPs: string[] }).clusterIPs).toEqual([ip]);
    }
    expect(a.allocatedIPs).toBe(200);
  });

  test("when the upper band is full the lower band is used; a full range is a 500", () => {
    // 32 addresses: network, broadcast and the kubernetes Service's (.1) are not handed out dynamically.
    const a = new ServiceAllocator({ serviceCidr: "10.0.0.0/27" });
    for (let i = 0; i < 29; i++) a.allocate(svc(`s${i}`, {})).commit();
    expect(a.allocatedIPs).toBe(29);
    const e = thrown(() => a.allocate(svc("full", {})));
    expect(e.code).toBe(500);
    expect(e.message).toBe("Internal error occurred: failed to allocate a serviceIP: range is full");
  });

  test("a requested IP is honoured once; taken or out of range is 422 with upstream's message", () => {
    const a = new ServiceAllocator();
    const dns = svc("kube-dns", { clusterIP: "10.96.0.10" });
    a.allocate(dns).commit();
    expect(ipOf(dns)).toBe("10.96.0.10");
    const again = thrown(() => a.allocate(svc("other", { clusterIP: "10.96.0.10" })));
    expect(again.code).toBe(422);
    expect(again.message).toBe(
      'Service "other" is invalid: spec.clusterIPs[0]: Invalid value: "10.96.0.10": failed to allocate IP 10.96.0.10: provided IP is already allocated',
    );
    const out = thrown(() => a.allocate(svc("far", { clusterIP: "192.168.1.1" })));
    expect(out.message).toBe(
      'Service "far" is invalid: spec.clusterIPs[0]: Invalid value: "192.168.1.1": failed to allocate IP 192.168.1.1: the provided IP (192.168.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );
  });

  test("headless and ExternalName services get no IP", () => {
    const a = new ServiceAllocator();
    const h = svc("h", { clusterIP: "None" });
    a.allocate(h).commit();
    expect(ipOf(h)).toBe("None");
    const x = svc("x", { type: "ExternalName", externalName: "example.test" });
    a.allocate(x).commit();
    expect(ipOf(x)).toBeUndefined();
    expect(a.allocatedIPs).toBe(0);
  });

  test("rollback returns what a failed create took; release frees a deleted service's IP", () => {
    const a = new ServiceAllocator({ serviceCidr: "10.0.0.0/28", random: () => 0 });
    const s = svc("s", {});
    const r = a.allocate(s);
    expect(a.allocatedIPs).toBe(1);
    r.rollback();
    expect(a.allocatedIPs).toBe(0);
    const t = svc("t", {});
    a.allocate(t).commit();
    a.release(t);
    expect(a.allocatedIPs).toBe(0);
    // The freed IP can be requested again.
    a.allocate(svc("u", { clusterIP: ipOf(t) })).commit();
  });

  test("dry runs check but hold nothing", () => {
    const a = new ServiceAllocator();
    const s = svc("s", { type: "NodePort", ports: [{ port: 80 }] });
    a.allocate(s, undefined, true);
    expect(a.allocatedIPs).toBe(0);
    expect(a.allocatedNodePorts).toBe(0);
    expect(ipOf(s)).toMatch(/^10\./);
  });

  test("rebuild marks what stored services hold (restart)", () => {
    const a = new ServiceAllocator();
    a.rebuild([svc("a", { clusterIP: "10.96.0.10", clusterIPs: ["10.96.0.10"], type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] })]);
    expect(thrown(() => a.allocate(svc("b", { clusterIP: "10.96.0.10" }))).code).toBe(422);
    expect(thrown(() => a.allocate(svc("c", { type: "NodePort", ports: [{ port: 1, nodePort: 30080 }] }))).code).toBe(422);
  });
});

describe("ServiceAllocator: node ports", () => {
  test("NodePort and LoadBalancer services get a port per service port; ClusterIP ones none", () => {
    const a = new ServiceAllocator();
    const np = svc("np", { type: "NodePort", ports: [{ port: 80 }, { port: 443 }] });
    a.allocate(np).commit();
    const [p1, p2] = portsOf(np);
    expect(p1).toBeGreaterThanOrEqual(30000);
    expect(p2).toBeLessThanOrEqual(32767);
    expect(p1).not.toBe(p2);
    const ci = svc("ci", { type: "ClusterIP", ports: [{ port: 80 }] });
    a.allocate(ci).commit();
    expect((ci.spec as { ports: { nodePort?: number }[] }).ports[0]!.nodePort).toBeUndefined();
  });

  test("a taken or out-of-range requested port is 422", () => {
    const a = new ServiceAllocator();
    a.allocate(svc("a", { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] })).commit();
    expect(thrown(() => a.allocate(svc("b", { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] }))).message).toBe(
      'Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
    );
    expect(thrown(() => a.allocate(svc("c", { type: "NodePort", ports: [{ port: 80, nodePort: 8080 }] }))).message).toBe(
      'Service "c" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
    // A failed allocation holds nothing it had taken for other ports.
    expect(a.allocatedNodePorts).toBe(1);
  });

  test("updates: changing type to ClusterIP releases node ports on commit; to NodePort allocates", () => {
    const a = new ServiceAllocator();
    const v1 = svc("s", { type: "NodePort", ports: [{ port: 80 }] });
    a.allocate(v1).commit();
    const port = portsOf(v1)[0]!;
    const v2 = svc("s", { type: "ClusterIP", clusterIP: ipOf(v1), ports: [{ port: 80 }] });
    const r = a.allocate(v2, v1);
    expect(a.allocatedNodePorts).toBe(1); // released only once the update is stored
    r.commit();
    expect(a.allocatedNodePorts).toBe(0);
    const v3 = svc("s", { type: "NodePort", clusterIP: ipOf(v1), ports: [{ port: 80, nodePort: port }] });
    a.allocate(v3, v2).commit();
    expect(a.allocatedNodePorts).toBe(1);
    expect(a.allocatedIPs).toBe(1);
  });
});
