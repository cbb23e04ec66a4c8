import { describe, expect, test } from "bun:test";
import { defaultAllowedSources, defaultRouteInterfaces, type LocalInterface, SourceAcl } from "./acl.ts";

const ROUTE = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
skiff0	0000580A	00000000	0001	0	0	0	0000FFFF	0	0	0
docker0	000011AC	00000000	0001	0	0	0	0000FFFF	0	0	0
`;
const ROUTE6 = `00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003 eth0
fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo
`;

const interfaces: LocalInterface[] = [
  { name: "lo", address: "127.0.0.1", cidr: "127.0.0.1/8", internal: true },
  { name: "eth0", address: "192.168.1.20", cidr: "192.168.1.20/24", internal: false },
  { name: "eth0", address: "fd00::20", cidr: "fd00::20/64", internal: false },
  { name: "eth0", address: "fe80::1", cidr: "fe80::1/64", internal: false },
  { name: "skiff0", address: "10.88.0.1", cidr: "10.88.0.1/16", internal: false },
  { name: "docker0", address: "172.17.0.1", cidr: "172.17.0.1/16", internal: false },
];

describe("cluster DNS source ACL", () => {
  test("default-route interfaces come from /proc/net/route and ipv6_route (not lo)", () => {
    const routes = defaultRouteInterfaces((p) => (p.endsWith("ipv6_route") ? ROUTE6 : ROUTE));
    expect([...routes].sort()).toEqual(["eth0"]);
    expect(defaultRouteInterfaces(() => { throw new Error("no /proc"); }).size).toBe(0);
  });

  test("pods on bridges, loopback and the host itself are answered; the LAN and beyond are not", () => {
    const acl = new SourceAcl(defaultAllowedSources(interfaces, new Set(["eth0"])));
    for (const ok of ["127.0.0.1", "127.0.0.53", "::1", "10.88.4.7", "172.17.0.3", "192.168.1.20", "fd00::20", "::ffff:10.88.0.9"]) expect([ok, acl.allows(ok)]).toEqual([ok, true]);
    for (const no of ["192.168.1.21", "192.168.7.1", "8.8.8.8", "fd00::21", "10.89.0.1", "not-an-ip", ""]) expect([no, acl.allows(no)]).toEqual([no, false]);
  });

  test("allowFrom adds CIDRs (0.0.0.0/0 opens IPv4); malformed ones are an error naming them", () => {
    const acl = new SourceAcl(defaultAllowedSources(interfaces, new Set(["eth0"]), ["192.168.1.0/24"]));
    expect(acl.allows("192.168.1.21")).toBe(true);
    expect(acl.allows("192.168.2.1")).toBe(false);
    expect(new SourceAcl(["0.0.0.0/0"]).allows("203.0.113.9")).toBe(true);
    for (const bad of ["10.0.0.0", "10.0.0.0/33", "fd00::/129", "a.b.c.d/8", "10.0.0.0/8/1"]) expect(() => new SourceAcl([bad])).toThrow(JSON.stringify(bad));
  });

  test("without /proc every non-loopback interface's subnet is local", () => {
    const acl = new SourceAcl(defaultAllowedSources(interfaces, new Set()));
    expect(acl.allows("192.168.1.21")).toBe(true);
  });
});
