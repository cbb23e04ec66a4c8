import { describe, expect, test } from "bun:test";
import { type EndpointSlice, type Service, servicePorts } from "./model.ts";
import { render } from "./rules.ts";

const NODE = "node-a";

function svc(name: string, spec: Service["spec"], namespace = "default"): Service {
  return { metadata: { name, namespace }, spec: { type: "ClusterIP", ...spec } };
}

function slice(service: string, endpoints: EndpointSlice["endpoints"], ports: EndpointSlice["ports"], namespace = "default", name = `${service}-abc`): EndpointSlice {
  return { metadata: { name, namespace, labels: { "kubernetes.io/service-name": service } }, addressType: "IPv4", endpoints, ports };
}

const opts = { table: "t", masqueradeMark: 0x4000 };

describe("servicePorts", () => {
  test("ready endpoints, matched by port name and protocol", () => {
    const ports = servicePorts({
      nodeName: NODE,
      services: [svc("web", { clusterIP: "10.96.0.5", ports: [{ name: "http", port: 80 }, { name: "dns", port: 53, protocol: "UDP" }] })],
      slices: [
        slice(
          "web",
          [
            { addresses: ["10.88.0.2"], nodeName: NODE },
            { addresses: ["10.88.0.3"], conditions: { ready: true }, nodeName: "node-b" },
            { addresses: ["10.88.0.4"], conditions: { ready: false }, nodeName: NODE },
          ],
          [
            { name: "http", port: 8080, protocol: "TCP" },
            { name: "dns", port: 5353, protocol: "UDP" },
          ],
        ),
      ],
    });
    expect(ports.map((p) => p.key)).toEqual(["default/web:dns/udp", "default/web:http/tcp"]);
    const http = ports[1]!;
    expect(http.clusterEndpoints).toEqual([
      { ip: "10.88.0.2", port: 8080, local: true },
      { ip: "10.88.0.3", port: 8080, local: false },
    ]);
    expect(ports[0]!.clusterEndpoints.map((e) => e.port)).toEqual([5353, 5353]);
  });

  test("endpoints of several slices are merged; other services' slices and IPv6 ignored", () => {
    const ports = servicePorts({
      nodeName: NODE,
      services: [svc("web", { clusterIP: "10.96.0.5", ports: [{ port: 80 }] })],
      slices: [
        slice("web", [{ addresses: ["10.88.0.2"] }], [{ port: 8080 }], "default", "a"),
        slice("web", [{ addresses: ["10.88.0.3"] }, { addresses: ["10.88.0.2"] }], [{ port: 8080 }], "default", "b"),
        slice("other", [{ addresses: ["10.88.0.9"] }], [{ port: 8080 }]),
        slice("web", [{ addresses: ["10.88.0.7"] }], [{ port: 8080 }], "elsewhere"),
        { ...slice("web", [{ addresses: ["fd00::1"] }], [{ port: 8080 }], "default", "c"), addressType: "IPv6" },
      ],
    });
    expect(ports[0]!.clusterEndpoints.map((e) => e.ip)).toEqual(["10.88.0.2", "10.88.0.3"]);
  });

  test("headless and ExternalName services are skipped", () => {
    const ports = servicePorts({
      nodeName: NODE,
      services: [svc("h", { clusterIP: "None", ports: [{ port: 80 }] }), svc("x", { type: "ExternalName", ports: [{ port: 80 }] })],
      slices: [],
    });
    expect(ports).toEqual([]);
  });

  test("traffic policies Local keep only this node's endpoints", () => {
    const eps = [
      { addresses: ["10.88.0.2"], nodeName: NODE },
      { addresses: ["10.88.0.3"], nodeName: "node-b" },
    ];
    const ports = servicePorts({
      nodeName: NODE,
      services: [
        svc("itp", { clusterIP: "10.96.0.6", internalTrafficPolicy: "Local", ports: [{ port: 80 }] }),
        svc("etp", { type: "NodePort", clusterIP: "10.96.0.7", externalTrafficPolicy: "Local", ports: [{ port: 80, nodePort: 30007 }] }),
      ],
      slices: [slice("itp", eps, [{ port: 80 }]), slice("etp", eps, [{ port: 80 }])],
    });
    const [etp, itp] = ports;
    expect(itp!.clusterEndpoints.map((e) => e.ip)).toEqual(["10.88.0.2"]);
    expect(etp!.clusterEndpoints.map((e) => e.ip)).toEqual(["10.88.0.2", "10.88.0.3"]);
    expect(etp!.externalEndpoints.map((e) => e.ip)).toEqual(["10.88.0.2"]);
    expect(etp!.externalLocal).toBe(true);
    expect(etp!.nodePort).toBe(30007);
  });

  test("ClientIP affinity timeout, defaulting to 3 hours; nodePort only for NodePort/LoadBalancer", () => {
    const ports = servicePorts({
      nodeName: NODE,
      services: [
        svc("a", { clusterIP: "10.96.0.8", sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } }, ports: [{ port: 80, nodePort: 30008 }] }),
        svc("b", { clusterIP: "10.96.0.9", sessionAffinity: "ClientIP", ports: [{ port: 80 }] }),
      ],
      slices: [],
    });
    expect(ports[0]!.affinitySeconds).toBe(30);
    expect(ports[0]!.nodePort).toBeUndefined();
    expect(ports[1]!.affinitySeconds).toBe(10800);
  });
});

describe("render", () => {
  const base = servicePorts({
    nodeName: NODE,
    services: [
      svc("web", { type: "NodePort", clusterIP: "10.96.0.5", ports: [{ port: 80, nodePort: 30080 }] }),
      svc("empty", { type: "NodePort", clusterIP: "10.96.0.6", ports: [{ port: 80, nodePort: 30081, protocol: "UDP" }] }),
    ],
    slices: [slice("web", [{ addresses: ["10.88.0.2"] }, { addresses: ["10.88.0.3"] }], [{ port: 8080 }])],
  });

  test("a full render replaces the table in the same transaction", () => {
    const r = render(base, opts);
    const lines = r.text.split("\n");
    expect(lines.slice(0, 3)).toEqual(["add table ip t", "delete table ip t", "add table ip t"]);
    expect(r.text).not.toContain("flush chain");
  });

  test("service map, random spread over endpoints, DNAT per endpoint, hairpin masquerade", () => {
    const r = render(base, opts);
    const svcChain = /add element ip t service-ips \{ 10\.96\.0\.5 \. tcp \. 80 : goto (svc-\S+) \}/.exec(r.text)?.[1];
    expect(svcChain).toBeDefined();
    const spread = r.text.split("\n").find((l) => l.startsWith(`add rule ip t ${svcChain} numgen random mod 2 vmap`));
    expect(spread).toBeDefined();
    const eps = [...spread!.matchAll(/goto (ep-\S+?)[,\s]/g)].map((m) => m[1]!);
    expect(eps).toHaveLength(2);
    expect(r.text).toContain(`add rule ip t ${eps[0]} ip saddr 10.88.0.2 jump mark-for-masquerade`);
    expect(r.text).toContain(`add rule ip t ${eps[0]} meta l4proto tcp dnat to 10.88.0.2:8080`);
    expect(r.text).toContain(`add rule ip t ${eps[1]} meta l4proto tcp dnat to 10.88.0.3:8080`);
    expect(r.text).toContain("add rule ip t masquerading masquerade fully-random");
    expect(r.text).toContain("meta mark set meta mark | 0x4000");
  });

  test("NodePort: Cluster policy masquerades, no endpoints rejects", () => {
    const r = render(base, opts);
    const ext = /add element ip t service-nodeports \{ tcp \. 30080 : goto (ext-\S+) \}/.exec(r.text)?.[1];
    expect(ext).toBeDefined();
    expect(r.text).toContain(`add rule ip t ${ext} jump mark-for-masquerade`);
    expect(r.text).toContain("add element ip t no-endpoint-services { 10.96.0.6 . udp . 80 : goto reject-chain }");
    expect(r.text).toContain("add element ip t no-endpoint-nodeports { udp . 30081 : goto reject-chain }");
    expect(r.text).toContain("add rule ip t reject-chain reject");
    expect(r.text).toContain("add rule ip t filter-prerouting ct state new jump endpoints-check");
    expect(r.text).toContain("add rule ip t filter-output ct state new jump endpoints-check");
  });

  test("masqueradeAll marks ClusterIP traffic too", () => {
    const chain = (t: string) => /service-ips \{ 10\.96\.0\.5 \. tcp \. 80 : goto (svc-\S+) \}/.exec(t)![1]!;
    const plain = render(base, opts).text;
    expect(plain).not.toContain(`add rule ip t ${chain(plain)} jump mark-for-masquerade`);
    const all = render(base, { ...opts, masqueradeAll: true }).text;
    expect(all.split("\n").find((l) => l.startsWith(`add rule ip t ${chain(all)} `))).toBe(`add rule ip t ${chain(all)} jump mark-for-masquerade`);
  });

  test("NodePort addresses: every local non-loopback address, or the configured ones", () => {
    expect(render(base, opts).text).toContain("add rule ip t services fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports");
    expect(render(base, { ...opts, nodePortAddresses: ["192.0.2.2"] }).text).toContain("add rule ip t services ip daddr { 192.0.2.2 } meta l4proto . th dport vmap @service-nodeports");
  });

  test("externalTrafficPolicy Local: no masquerade, only local endpoints; none local rejects", () => {
    const ports = servicePorts({
      nodeName: NODE,
      services: [
        svc("l", { type: "NodePort", clusterIP: "10.96.0.7", externalTrafficPolicy: "Local", ports: [{ port: 80, nodePort: 30007 }] }),
        svc("r", { type: "NodePort", clusterIP: "10.96.0.8", externalTrafficPolicy: "Local", ports: [{ port: 80, nodePort: 30008 }] }),
      ],
      slices: [
        slice("l", [{ addresses: ["10.88.0.2"], nodeName: NODE }, { addresses: ["10.88.0.3"], nodeName: "b" }], [{ port: 80 }]),
        slice("r", [{ addresses: ["10.88.0.4"], nodeName: "b" }], [{ port: 80 }]),
      ],
    });
    const r = render(ports, opts);
    const ext = /tcp \. 30007 : goto (ext-\S+)/.exec(r.text)![1]!;
    const rules = r.text.split("\n").filter((l) => l.startsWith(`add rule ip t ${ext} `));
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatch(/goto ep-\S+10\.88\.0\.2\/80$/);
    expect(r.text).toContain("no-endpoint-nodeports { tcp . 30008 : goto reject-chain }");
    expect(r.text).toMatch(/service-ips \{[^}]*10\.96\.0\.8 \. tcp \. 80 : goto svc-/);
  });

  test("ClientIP affinity: a timeout set per endpoint, checked before the random pick", () => {
    const ports = servicePorts({
      nodeName: NODE,
      services: [svc("a", { clusterIP: "10.96.0.8", sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } }, ports: [{ port: 80 }] })],
      slices: [slice("a", [{ addresses: ["10.88.0.2"] }, { addresses: ["10.88.0.3"] }], [{ port: 80 }])],
    });
    const r = render(ports, opts);
    const sets = r.text.split("\n").filter((l) => l.startsWith("add set "));
    expect(sets).toHaveLength(2);
    for (const s of sets) expect(s).toMatch(/\{ type ipv4_addr; flags dynamic,timeout; timeout 30s; \}$/);
    const chain = /goto (svc-\S+) \}/.exec(r.text)![1]!;
    const rules = r.text.split("\n").filter((l) => l.startsWith(`add rule ip t ${chain} `));
    expect(rules[0]).toMatch(/ip saddr @aff-\S+ goto ep-/);
    expect(rules[1]).toMatch(/ip saddr @aff-\S+ goto ep-/);
    expect(rules[2]).toContain("numgen random mod 2");
    expect(r.text).toMatch(/add rule ip t ep-\S+ update @aff-\S+ \{ ip saddr \}/);
    expect(r.state.sets.size).toBe(2);
  });

  test("an incremental render changes only what changed and keeps affinity sets", () => {
    const svcs = [
      svc("a", { clusterIP: "10.96.0.8", sessionAffinity: "ClientIP", ports: [{ port: 80 }] }),
      svc("b", { type: "NodePort", clusterIP: "10.96.0.9", ports: [{ port: 80, nodePort: 30009 }] }),
    ];
    const two = [slice("a", [{ addresses: ["10.88.0.2"] }, { addresses: ["10.88.0.3"] }], [{ port: 80 }]), slice("b", [{ addresses: ["10.88.0.4"] }], [{ port: 80 }])];
    const first = render(servicePorts({ nodeName: NODE, services: svcs, slices: two }), opts);
    // Nothing changed: nothing but the idempotent table line.
    expect(render(servicePorts({ nodeName: NODE, services: svcs, slices: two }), { ...opts, previous: first.state }).text).toBe("add table ip t\n");

    // One endpoint of a goes; b loses its only endpoint.
    const fewer = [slice("a", [{ addresses: ["10.88.0.3"] }], [{ port: 80 }]), slice("b", [], [{ port: 80 }])];
    const next = render(servicePorts({ nodeName: NODE, services: svcs, slices: fewer }), { ...opts, previous: first.state });
    const lines = next.text.split("\n").filter(Boolean);
    expect(lines).not.toContain("delete table ip t");
    expect(lines.some((l) => l.startsWith("add set"))).toBe(false);
    const deleted = lines.filter((l) => /^delete (chain|set) /.test(l));
    expect(deleted.filter((l) => l.includes("default/a/")).every((l) => l.includes("10.88.0.2/80"))).toBe(true);
    expect(deleted.filter((l) => l.startsWith("delete set"))).toHaveLength(1);
    expect(deleted.filter((l) => l.startsWith("delete chain") && l.includes("default/b/"))).toHaveLength(3); // svc, ext, ep
    // a's dispatch chain is rewritten; its remaining endpoint chain is untouched.
    const svcA = /svc-\S+default\/a\/tcp\/80/.exec(first.text)![0];
    expect(lines).toContain(`flush chain ip t ${svcA}`);
    expect(lines.some((l) => l.startsWith("flush chain") && l.includes("10.88.0.3/80"))).toBe(false);
    // b's entries move from the service maps to the reject maps.
    expect(lines.find((l) => l.startsWith("delete element ip t service-ips"))).toBe("delete element ip t service-ips { 10.96.0.9 . tcp . 80 }");
    expect(lines.find((l) => l.startsWith("delete element ip t service-nodeports"))).toBe("delete element ip t service-nodeports { tcp . 30009 }");
    expect(lines).toContain("add element ip t no-endpoint-services { 10.96.0.9 . tcp . 80 : goto reject-chain }");
    expect(lines).toContain("add element ip t no-endpoint-nodeports { tcp . 30009 : goto reject-chain }");
    // Elements leave before chains are deleted.
    const firstDeleteChain = lines.findIndex((l) => l.startsWith("delete chain"));
    expect(lines.findIndex((l) => l.startsWith("delete element"))).toBeLessThan(firstDeleteChain);
  });

  test("names are stable, unique per service port, and within nft's identifier grammar", () => {
    const a = render(base, opts).text;
    expect(render(base, opts).text).toBe(a);
    for (const m of a.matchAll(/add chain ip t (\S+)/g)) expect(m[1]).toMatch(/^[a-zA-Z][a-zA-Z0-9/._-]*$/);
  });
});
