/**
 * The DNS plugin in a kernel, queried over UDP and TCP on loopback. Other
 * names are forwarded to a fake upstream resolver the test runs on loopback.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSocket, type Socket } from "node:dgram";
import { Socket as TcpSocket } from "node:net";
import * as dns from "dns-packet";
import { createKernel, type Kernel } from "../../core/kernel.ts";
import { logger } from "../../core/log.ts";
import { Tokens } from "../../core/plugin/tokens.ts";
import type { Plugin } from "../../core/plugin/types.ts";
import dnsPlugin, { resolvConfServers } from "./index.ts";
import { Zone } from "./records.ts";
import { DnsServer } from "./server.ts";

const SERVICES = { group: "", version: "v1", resource: "services" };
const SLICES = { group: "discovery.k8s.io", version: "v1", resource: "endpointslices" };

function query(name: string, type: dns.RecordType, id = 4242): Buffer {
  return dns.encode({ type: "query", id, flags: dns.RECURSION_DESIRED, questions: [{ type, name }] });
}

function udpAsk(port: number, name: string, type: dns.RecordType): Promise<dns.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no answer for ${name}`));
    }, 3000);
    s.on("message", (m) => {
      clearTimeout(t);
      s.close();
      resolve(dns.decode(m));
    });
    s.send(query(name, type), port, "127.0.0.1");
  });
}

function tcpAsk(port: number, name: string, type: dns.RecordType): Promise<dns.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const s = new TcpSocket();
    let buf = Buffer.alloc(0);
    s.on("error", reject);
    s.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.destroy();
        resolve(dns.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    s.connect(port, "127.0.0.1", () => {
      const q = query(name, type);
      const head = Buffer.alloc(2);
      head.writeUInt16BE(q.length);
      s.write(Buffer.concat([head, q]));
    });
  });
}

const data = (p: dns.DecodedPacket) => (p.answers ?? []).map((a) => (a as { data: unknown }).data);
const rcode = (p: dns.DecodedPacket) => (p as unknown as { rcode: string }).rcode;

/** A resolver on loopback that knows one name, standing in for the host's. */
async function fakeUpstream(): Promise<{ port: number; close(): void; asked: string[] }> {
  const s: Socket = createSocket("udp4");
  const asked: string[] = [];
  s.on("message", (m, r) => {
    const q = dns.decode(m);
    const name = q.questions![0]!.name;
    asked.push(name);
    const known = name === "example.test";
    s.send(
      dns.encode({
        type: "response",
        id: q.id ?? 0,
        flags: dns.RECURSION_AVAILABLE | (known ? 0 : 3),
        questions: q.questions ?? [],
        answers: known ? [{ type: "A", name, ttl: 60, data: "192.0.2.7" }] : [],
      }),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return { port: s.address().port, close: () => s.close(), asked };
}

async function until(f: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(20);
  }
}

describe("dns plugin", () => {
  let kernel: Kernel;
  let port: number;
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;

  beforeAll(async () => {
    upstream = await fakeUpstream();
    kernel = await createKernel({
      memory: true,
      plugins: {
        available: [dnsPlugin as Plugin<never>],
        preset: "server",
        settings: { dns: { config: { listen: ["127.0.0.1:0"], upstream: [`127.0.0.1:${upstream.port}`] } } },
      },
    });
    port = kernel.plugins.container.resolve(Tokens.ClusterDns).addresses()[0]!.port;
    const c = kernel.client;
    await c.create(SERVICES, {
      metadata: { name: "web", namespace: "default" },
      spec: { clusterIP: "10.96.0.50", ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    });
    await c.create(SERVICES, {
      metadata: { name: "db", namespace: "default" },
      spec: { clusterIP: "None", selector: { app: "db" }, ports: [{ name: "pg", port: 5432 }] },
    });
    await c.create(SERVICES, { metadata: { name: "ext", namespace: "default" }, spec: { type: "ExternalName", externalName: "example.test" } });
    await c.create(SLICES, {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "db-abc", namespace: "default", labels: { "kubernetes.io/service-name": "db" } },
      addressType: "IPv4",
      endpoints: [
        { addresses: ["10.88.0.11"], hostname: "db-0", conditions: { ready: true } },
        { addresses: ["10.88.0.12"], conditions: { ready: true } },
        { addresses: ["10.88.0.13"], conditions: { ready: false } },
      ],
      ports: [{ name: "pg", port: 5432, protocol: "TCP" }],
    });
    await until(async () => data(await udpAsk(port, "db.default.svc.cluster.local", "A")).length === 2);
  });

  afterAll(async () => {
    await kernel.stop();
    upstream.close();
  });

  test("a ClusterIP service resolves to its IP, authoritatively", async () => {
    const r = await udpAsk(port, "web.default.svc.cluster.local", "A");
    expect(r.id).toBe(4242);
    expect(r.flag_aa).toBe(true);
    expect(rcode(r)).toBe("NOERROR");
    expect(data(r)).toEqual(["10.96.0.50"]);
    expect((r.answers![0]! as { ttl?: number }).ttl).toBe(5);
    // Case-insensitive, trailing dot or not.
    expect(data(await udpAsk(port, "WEB.Default.svc.cluster.local.", "A"))).toEqual(["10.96.0.50"]);
  });

  test("an existing name without that record type is NODATA with the SOA; an unknown one NXDOMAIN", async () => {
    const aaaa = await udpAsk(port, "web.default.svc.cluster.local", "AAAA");
    expect(rcode(aaaa)).toBe("NOERROR");
    expect(aaaa.answers).toEqual([]);
    expect(aaaa.authorities![0]!.type).toBe("SOA");
    for (const name of ["nope.default.svc.cluster.local", "web.other.svc.cluster.local", "a.b.c.web.default.svc.cluster.local", "x.cluster.local"]) {
      const r = await udpAsk(port, name, "A");
      expect(rcode(r)).toBe("NXDOMAIN");
      expect(r.authorities![0]!.type).toBe("SOA");
    }
  });

  test("a headless service resolves to its ready endpoints; hostnames resolve too", async () => {
    expect(data(await udpAsk(port, "db.default.svc.cluster.local", "A")).sort()).toEqual(["10.88.0.11", "10.88.0.12"]);
    expect(data(await udpAsk(port, "db-0.db.default.svc.cluster.local", "A"))).toEqual(["10.88.0.11"]);
    expect(data(await udpAsk(port, "10-88-0-12.db.default.svc.cluster.local", "A"))).toEqual(["10.88.0.12"]);
    expect(rcode(await udpAsk(port, "10-88-0-13.db.default.svc.cluster.local", "A"))).toBe("NXDOMAIN");
  });

  test("SRV records for named ports, with addresses in the additional section", async () => {
    const web = await udpAsk(port, "_http._tcp.web.default.svc.cluster.local", "SRV");
    expect(data(web)).toEqual([{ priority: 0, weight: 100, port: 80, target: "web.default.svc.cluster.local" }]);
    expect((web.additionals ?? []).map((a) => [a.name, (a as { data: unknown }).data])).toEqual([["web.default.svc.cluster.local", "10.96.0.50"]]);
    const db = await udpAsk(port, "_pg._tcp.db.default.svc.cluster.local", "SRV");
    expect(data(db).map((d) => (d as { target: string }).target).sort()).toEqual([
      "10-88-0-12.db.default.svc.cluster.local",
      "db-0.db.default.svc.cluster.local",
    ]);
    expect(rcode(await udpAsk(port, "_nope._tcp.web.default.svc.cluster.local", "SRV"))).toBe("NXDOMAIN");
    expect(rcode(await udpAsk(port, "_http._udp.web.default.svc.cluster.local", "SRV"))).toBe("NXDOMAIN");
  });

  test("pod records and ExternalName CNAMEs", async () => {
    expect(data(await udpAsk(port, "10-88-0-5.default.pod.cluster.local", "A"))).toEqual(["10.88.0.5"]);
    const ext = await udpAsk(port, "ext.default.svc.cluster.local", "A");
    expect(ext.answers!.map((a) => [a.type, (a as { data: unknown }).data])).toEqual([["CNAME", "example.test"]]);
  });

  test("names outside the zone are forwarded to the upstream resolver", async () => {
    const r = await udpAsk(port, "example.test", "A");
    expect(data(r)).toEqual(["192.0.2.7"]);
    expect(r.id).toBe(4242);
    expect(rcode(await udpAsk(port, "unknown.test", "A"))).toBe("NXDOMAIN");
    expect(upstream.asked).toContain("example.test");
    expect(upstream.asked.some((n) => n.endsWith("cluster.local"))).toBe(false);
    // Over TCP too.
    expect(data(await tcpAsk(port, "example.test", "A"))).toEqual(["192.0.2.7"]);
  });

  test("changes to services show up; deleted services disappear", async () => {
    await kernel.client.create(SERVICES, { metadata: { name: "late", namespace: "default" }, spec: { clusterIP: "10.96.0.77", ports: [{ port: 1 }] } });
    await until(async () => data(await udpAsk(port, "late.default.svc.cluster.local", "A"))[0] === "10.96.0.77");
    await kernel.client.delete(SERVICES, "late", { namespace: "default" });
    await until(async () => rcode(await udpAsk(port, "late.default.svc.cluster.local", "A")) === "NXDOMAIN");
  });

  test("a large answer is truncated over UDP and complete over TCP", async () => {
    await kernel.client.create(SERVICES, { metadata: { name: "big", namespace: "default" }, spec: { clusterIP: "None", ports: [{ port: 80 }] } });
    await kernel.client.create(SLICES, {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "big-1", namespace: "default", labels: { "kubernetes.io/service-name": "big" } },
      addressType: "IPv4",
      endpoints: Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.88.1.${i + 1}`], conditions: { ready: true } })),
      ports: [{ port: 80, protocol: "TCP" }],
    });
    await until(async () => (await tcpAsk(port, "big.default.svc.cluster.local", "A")).answers!.length === 60);
    const udp = await udpAsk(port, "big.default.svc.cluster.local", "A");
    expect(udp.flag_tc).toBe(true);
    expect(udp.answers).toEqual([]);
  });
});

describe("dns server edges", () => {
  test("SERVFAIL when no upstream answers; garbage gets FORMERR", async () => {
    const dead = createSocket("udp4");
    await new Promise<void>((r) => dead.bind(0, "127.0.0.1", () => r()));
    const deadPort = dead.address().port; // bound but never answers
    const server = new DnsServer({
      zone: new Zone({ service: () => undefined, slices: () => [] }),
      listen: [{ host: "127.0.0.1", port: 0 }],
      upstream: [{ host: "127.0.0.1", port: deadPort }],
      forwardTimeoutMs: 100,
      log: logger("dns-test"),
    });
    await server.start();
    try {
      const r = await udpAsk(server.addresses[0]!.port, "example.test", "A");
      expect(rcode(r)).toBe("SERVFAIL");
      const garbage = await server.answer(Buffer.from([0x12, 0x34, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]), "udp");
      expect(garbage!.readUInt16BE(0)).toBe(0x1234);
      expect(garbage!.readUInt16BE(2) & 0xf).toBe(1);
      expect(await server.answer(Buffer.from([1, 2]), "udp")).toBeNull();
    } finally {
      await server.stop();
      dead.close();
    }
  });

  test("a source the ACL does not allow gets REFUSED over UDP (nothing forwarded) and a closed connection over TCP", async () => {
    let forwarded = 0;
    const upstream = createSocket("udp4");
    upstream.on("message", () => forwarded++);
    await new Promise<void>((r) => upstream.bind(0, "127.0.0.1", () => r()));
    let allowed = false;
    const server = new DnsServer({
      zone: new Zone({ service: () => undefined, slices: () => [] }),
      listen: [{ host: "127.0.0.1", port: 0 }],
      upstream: [{ host: "127.0.0.1", port: upstream.address().port }],
      forwardTimeoutMs: 100,
      allow: (address) => allowed && address === "127.0.0.1",
      log: logger("dns-test"),
    });
    await server.start();
    try {
      const port = server.addresses[0]!.port;
      const r = await udpAsk(port, "example.test", "A");
      expect(rcode(r)).toBe("REFUSED");
      expect(r.id).toBe(4242);
      expect(r.questions?.[0]?.name).toBe("example.test");
      await expect(tcpAsk(port, "kubernetes.default.svc.cluster.local", "A")).rejects.toBeDefined();
      expect(forwarded).toBe(0);
      // Allowed again: the same query is forwarded (the upstream never answers here, so SERVFAIL).
      allowed = true;
      expect(rcode(await udpAsk(port, "example.test", "A"))).toBe("SERVFAIL");
      expect(forwarded).toBe(1);
    } finally {
      await server.stop();
      upstream.close();
    }
  });

  test("resolv.conf nameservers", () => {
    expect(resolvConfServers("# c\nsearch x\nnameserver 10.0.0.2\nnameserver  fd00::1 \noptions ndots:5\n")).toEqual([
      { host: "10.0.0.2", port: 53 },
      { host: "fd00::1", port: 53 },
    ]);
  });
});
