/**
 * Services end to end: a real `skiff server` (all-in-one, process runtime,
 * its own bridge, subnet, service range and nftables table), pods that are
 * host processes in network namespaces, and the network proxy and DNS
 * plugins. Needs root (namespaces, nftables), kubectl and busybox (nslookup).
 *
 * The Services have no selector: the test writes their EndpointSlices itself
 * (as a user-managed Service would), so it does not depend on the
 * EndpointSlice controller.
 *
 * Covered: ClusterIP from the host and from a pod's namespace, hairpin (a
 * pod reaching itself through its Service), spread over two endpoints,
 * ClientIP affinity, UDP, a Service without endpoints refused at once,
 * NodePort on the node's addresses, internalTrafficPolicy and
 * externalTrafficPolicy Local, endpoint changes followed, a table deleted by
 * hand rebuilt, the table removed at stop and rebuilt (replacing a stale one)
 * at restart, and DNS: service
 * names resolve from a pod's namespace through the kube-dns ClusterIP and
 * other names are forwarded to a fake upstream on loopback. Plus a 1,000
 * service ruleset applied to its own table, timed.
 *
 * Traffic only goes to loopback, this host's own addresses, and the
 * bridge/namespaces/service range this test creates. Everything is removed
 * in afterAll, also when a test fails.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import * as dns from "dns-packet";
import { servicePorts } from "../../plugins/network-proxy/model.ts";
import { render, renderDelete } from "../../plugins/network-proxy/rules.ts";
import { runNft } from "../../plugins/network-proxy/proxy.ts";
import { removeLeftovers, testRuntimeNames } from "../../runtime-adapters/process/testing.ts";
import { haveKubectl, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(60_000);

const root = process.getuid?.() === 0;
const haveBusybox = spawnSync("busybox", ["nslookup"], { encoding: "utf8" }).error === undefined;
const haveNft = spawnSync("nft", ["--version"], { encoding: "utf8" }).status === 0;
const { tag, octet, names } = testRuntimeNames("sks", 216);
const NODE = `svc-${tag}`;
const TABLE = `skiff-e2e-${tag}`;
const SERVICE_CIDR = `10.217.${octet}.0/24`;
const DNS_IP = `10.217.${octet}.10`;
const GATEWAY = `10.216.${octet}.1`;
const NODE_PORT = 30000 + (Number.parseInt(tag, 16) % 2700);

const SERVICES = "/api/v1/namespaces/default/services";
const SLICES = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";

function json(s: string): any {
  return JSON.parse(s);
}

/** One HTTP/1.0 request on a fresh connection (so every request is a new flow); the body, or the error code. */
function httpGet(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let data = "";
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timeout reaching ${host}:${port}`));
    }, timeoutMs);
    sock.on("connect", () => sock.write("GET / HTTP/1.0\r\nConnection: close\r\n\r\n"));
    sock.on("data", (d) => (data += d.toString()));
    sock.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(t);
      resolve(data.split("\r\n\r\n").slice(1).join(""));
    });
  });
}

/** One UDP datagram and its answer. */
function udpAsk(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createSocket("udp4");
    const t = setTimeout(() => {
      s.close();
      reject(new Error(`no UDP answer from ${host}:${port}`));
    }, timeoutMs);
    s.on("message", (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString());
    });
    s.on("error", (e) => {
      clearTimeout(t);
      s.close();
      reject(e);
    });
    s.send("who", port, host);
  });
}

/** Runs a small Bun script inside a network namespace (as a pod would); it prints JSON. */
function inNetns(netns: string, script: string): any {
  const r = spawnSync("ip", ["netns", "exec", netns, process.execPath, "-e", script], { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`in ${netns}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** A script making `n` HTTP requests on fresh connections; prints the answers (or error codes). */
function httpScript(host: string, port: number, n: number): string {
  return `
    const net = require("node:net");
    const one = () => new Promise((res) => {
      const s = net.connect({ host: ${JSON.stringify(host)}, port: ${port} });
      let d = "";
      const t = setTimeout(() => { s.destroy(); res("timeout"); }, 3000);
      s.on("connect", () => s.write("GET / HTTP/1.0\\r\\nConnection: close\\r\\n\\r\\n"));
      s.on("data", (x) => (d += x));
      s.on("error", (e) => { clearTimeout(t); res(e.code || String(e)); });
      s.on("close", () => { clearTimeout(t); res(d.split("\\r\\n\\r\\n").slice(1).join("")); });
    });
    const out = [];
    for (let i = 0; i < ${n}; i++) out.push(await one());
    console.log(JSON.stringify(out));`;
}

async function fakeUpstream(): Promise<{ port: number; close(): void; asked: string[] }> {
  const s: Socket = createSocket("udp4");
  const asked: string[] = [];
  s.on("message", (m, r) => {
    const q = dns.decode(m);
    const name = q.questions![0]!.name;
    asked.push(name);
    const known = name === "outside.example";
    s.send(
      dns.encode({
        type: "response",
        id: q.id ?? 0,
        flags: dns.RECURSION_AVAILABLE | (known ? 0 : 3),
        questions: q.questions ?? [],
        answers: known ? [{ type: "A", name, ttl: 60, data: "198.51.100.7" }] : [],
      }),
      r.port,
      r.address,
    );
  });
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return { port: s.address().port, close: () => s.close(), asked };
}

/** The `elements = { … }` text of map `name` in `nft list table` output ("" when it has none). */
function mapElements(table: string, name: string): string {
  const m = new RegExp(`map ${name} \\{[^{}]*?elements = \\{([^}]*)\\}`).exec(table);
  return m?.[1] ?? "";
}

function nftTable(table: string): string | undefined {
  const r = spawnSync("nft", ["list", "table", "ip", table], { encoding: "utf8" });
  return r.status === 0 ? r.stdout : undefined;
}

const POD_SCRIPT = [
  "const n = process.env.POD_NAME;",
  'Bun.serve({ hostname: "0.0.0.0", port: 8080, fetch() { return new Response(n); } });',
  'await Bun.udpSocket({ hostname: "0.0.0.0", port: 9090, socket: { data(s, _b, port, addr) { s.send(n, port, addr); } } });',
  'console.log("ready");',
].join(" ");

describeWith("services e2e (network proxy, DNS; process runtime)", haveKubectl() && root && haveBusybox && haveNft, "kubectl, root, nft and busybox", () => {
  let s: TestServer;
  let dir: string;
  let upstream: Awaited<ReturnType<typeof fakeUpstream>>;
  const ip: Record<string, string> = {};
  const netns: Record<string, string> = {};
  let nodeIP = "";

  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const r = await s.fetch(path, { method, headers: { "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return JSON.parse(text);
  };

  async function service(name: string, spec: Record<string, unknown>): Promise<any> {
    return api("POST", SERVICES, { apiVersion: "v1", kind: "Service", metadata: { name }, spec: { type: "ClusterIP", ...spec } });
  }

  async function slice(service: string, endpoints: { pod: string; node?: string; ready?: boolean }[], ports: { name?: string; port: number; protocol?: string }[], method = "POST"): Promise<void> {
    const body = {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: `${service}-manual`, labels: { "kubernetes.io/service-name": service } },
      addressType: "IPv4",
      endpoints: endpoints.map((e) => ({ addresses: [ip[e.pod]!], conditions: { ready: e.ready ?? true }, nodeName: e.node ?? NODE })),
      ports: ports.map((p) => ({ name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP" })),
    };
    if (method === "PUT") {
      const old = await api("GET", `${SLICES}/${service}-manual`);
      await api("PUT", `${SLICES}/${service}-manual`, { ...body, metadata: { ...body.metadata, resourceVersion: old.metadata.resourceVersion } });
    } else await api("POST", SLICES, body);
  }

  /** The namespace holding this pod IP. */
  function netnsOf(podIP: string): string {
    for (const n of readdirSync("/run/netns").filter((x) => x.startsWith(names.netnsPrefix))) {
      const r = spawnSync("ip", ["-n", n, "-4", "-o", "addr", "show"], { encoding: "utf8" });
      if (r.stdout.includes(` ${podIP}/`)) return n;
    }
    throw new Error(`no namespace holds ${podIP}`);
  }

  function writeConfig(): void {
    writeFileSync(
      join(dir, "data", "skiff.yaml"),
      JSON.stringify({
        nodeName: NODE,
        runtime: "process",
        plugins: {
          "runtime-process": { config: names },
          "node-agent": { config: { server: { port: 0 }, stopPodsOnExit: "never" } },
          "network-proxy": { config: { table: TABLE, syncDebounceMs: 20, resyncSeconds: 1 } },
          dns: { config: { upstream: [`127.0.0.1:${upstream.port}`] } },
        },
      }),
    );
  }

  beforeAll(async () => {
    upstream = await fakeUpstream();
    dir = tempDir("skiff-e2e-svc-");
    mkdirSync(join(dir, "data"), { recursive: true });
    writeConfig();
    s = await startServer("bun", ["--service-cidr", SERVICE_CIDR], { dir });
    for (const name of ["web-a", "web-b"]) {
      s.k(["apply", "-f", "-"], {
        input: JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name, labels: { app: "web" } },
          spec: {
            nodeName: NODE,
            containers: [
              {
                name: "c",
                image: "local/bun:1",
                command: [process.execPath, "-e", POD_SCRIPT],
                env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
                readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        }),
      });
    }
    for (const name of ["web-a", "web-b"]) {
      const p = await until(`${name} Ready`, () => {
        const pod = json(s.k(["get", "pod", name, "-o", "json"]));
        return pod.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ? pod : undefined;
      }, 45_000);
      ip[name] = p.status.podIP;
      netns[name] = netnsOf(p.status.podIP);
      nodeIP = p.status.hostIP;
    }
    // Hairpin (a pod reaching itself through a Service) needs the pod's
    // bridge port in hairpin mode, because br_netfilter bridges the DNATed
    // packet back out of the port it came in on: the process runtime sets it.
    const ports = spawnSync("ip", ["-d", "-o", "link", "show", "master", names.bridge], { encoding: "utf8" }).stdout;
    expect(ports.match(/hairpin on/g)?.length).toBe(Object.keys(ip).length);
  }, 90_000);

  afterAll(async () => {
    try {
      await s?.stop();
    } finally {
      upstream?.close();
      await removeLeftovers({ stateDir: join(dir, "data", "runtime", "process"), ...names });
      await runNft("nft", ["-f", "-"], renderDelete(TABLE)).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  let webIP = "";
  test("ClusterIP from the host and from another pod, spread over two endpoints", async () => {
    const svc = await service("web", { ports: [{ name: "http", port: 80, targetPort: 8080 }] });
    webIP = svc.spec.clusterIP;
    expect(webIP.startsWith(`10.217.${octet}.`)).toBe(true);
    await slice("web", [{ pod: "web-a" }, { pod: "web-b" }], [{ name: "http", port: 8080 }]);
    await until("web reachable at its ClusterIP", async () => (await httpGet(webIP, 80).catch(() => "")).startsWith("web-"), 10_000, 50);
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(await httpGet(webIP, 80));
    expect([...seen].sort()).toEqual(["web-a", "web-b"]);
    const fromPod = inNetns(netns["web-b"]!, httpScript(webIP, 80, 30)) as string[];
    expect(new Set(fromPod)).toEqual(new Set(["web-a", "web-b"]));
  });

  test("hairpin: a pod reaches itself through its Service", async () => {
    const svc = await service("solo", { ports: [{ port: 80, targetPort: 8080 }] });
    await slice("solo", [{ pod: "web-a" }], [{ port: 8080 }]);
    await until("solo reachable", async () => (await httpGet(svc.spec.clusterIP, 80).catch(() => "")) === "web-a", 10_000, 50);
    expect(inNetns(netns["web-a"]!, httpScript(svc.spec.clusterIP, 80, 3))).toEqual(["web-a", "web-a", "web-a"]);
  });

  test("ClientIP affinity pins a client to one endpoint", async () => {
    const svc = await service("sticky", { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80, targetPort: 8080 }] });
    await slice("sticky", [{ pod: "web-a" }, { pod: "web-b" }], [{ port: 8080 }]);
    await until("sticky reachable", async () => (await httpGet(svc.spec.clusterIP, 80).catch(() => "")).startsWith("web-"), 10_000, 50);
    const fromHost = new Set<string>();
    for (let i = 0; i < 20; i++) fromHost.add(await httpGet(svc.spec.clusterIP, 80));
    expect(fromHost.size).toBe(1);
    const fromPod = inNetns(netns["web-b"]!, httpScript(svc.spec.clusterIP, 80, 20)) as string[];
    expect(new Set(fromPod).size).toBe(1);
    expect(nftTable(TABLE)).toMatch(/set aff-\S+sticky[\s\S]*?timeout 1m/);
  });

  test("UDP to a ClusterIP, from the host and from a pod", async () => {
    const svc = await service("echo-udp", { ports: [{ name: "u", port: 53, targetPort: 9090, protocol: "UDP" }] });
    await slice("echo-udp", [{ pod: "web-b" }], [{ name: "u", port: 9090, protocol: "UDP" }]);
    await until("UDP answer", async () => (await udpAsk(svc.spec.clusterIP, 53, 500).catch(() => "")) === "web-b", 10_000, 50);
    const fromPod = inNetns(
      netns["web-a"]!,
      `const d = require("node:dgram"); const s = d.createSocket("udp4"); s.on("message", (m) => { console.log(JSON.stringify(String(m))); process.exit(0); }); s.send("who", 53, ${JSON.stringify(svc.spec.clusterIP)}); setTimeout(() => { console.log(JSON.stringify("timeout")); process.exit(0); }, 3000);`,
    );
    expect(fromPod).toBe("web-b");
  });

  test("a Service without endpoints is refused at once, not left hanging", async () => {
    const svc = await service("empty", { type: "NodePort", ports: [{ port: 80, targetPort: 8080 }] });
    const ip0 = svc.spec.clusterIP as string;
    // In the reject map, and no longer in the service map: a ClusterIP freed by an earlier test may be handed out again
    // before the proxy has dropped its old entry, and traffic must not be sent until the reject is in place.
    await until(
      "the empty service in the reject map",
      () => mapElements(nftTable(TABLE) ?? "", "no-endpoint-services").includes(`${ip0} . tcp . 80`) && !mapElements(nftTable(TABLE) ?? "", "service-ips").includes(`${ip0} `),
      10_000,
      50,
    );
    const t0 = Date.now();
    const err = await httpGet(ip0, 80).then(
      () => "connected",
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(err).toBe("ECONNREFUSED");
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(inNetns(netns["web-a"]!, httpScript(ip0, 80, 1))).toEqual(["ECONNREFUSED"]);
    const np = await httpGet(GATEWAY, svc.spec.ports[0].nodePort).then(
      () => "connected",
      (e: NodeJS.ErrnoException) => e.code,
    );
    expect(np).toBe("ECONNREFUSED");
    // Endpoints appear: the same address now answers.
    await slice("empty", [{ pod: "web-a" }], [{ port: 8080 }]);
    await until("empty now reachable", async () => (await httpGet(ip0, 80).catch(() => "")) === "web-a", 10_000, 50);
  });

  test("NodePort on the node's addresses, from the host and from a pod", async () => {
    await service("np", { type: "NodePort", ports: [{ port: 80, targetPort: 8080, nodePort: NODE_PORT }] });
    await slice("np", [{ pod: "web-a" }, { pod: "web-b" }], [{ port: 8080 }]);
    await until("NodePort reachable on the bridge address", async () => (await httpGet(GATEWAY, NODE_PORT).catch(() => "")).startsWith("web-"), 10_000, 50);
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add(await httpGet(GATEWAY, NODE_PORT));
    expect([...seen].sort()).toEqual(["web-a", "web-b"]);
    expect(nodeIP).toBeTruthy();
    expect(await httpGet(nodeIP, NODE_PORT)).toMatch(/^web-[ab]$/);
    const fromPod = inNetns(netns["web-b"]!, httpScript(GATEWAY, NODE_PORT, 10)) as string[];
    expect(fromPod.every((x) => x === "web-a" || x === "web-b")).toBe(true);
  });

  test("internalTrafficPolicy and externalTrafficPolicy Local use only this node's endpoints", async () => {
    const itp = await service("itp", { internalTrafficPolicy: "Local", ports: [{ port: 80, targetPort: 8080 }] });
    await slice("itp", [{ pod: "web-a" }, { pod: "web-b", node: "another-node" }], [{ port: 8080 }]);
    await until("itp reachable", async () => (await httpGet(itp.spec.clusterIP, 80).catch(() => "")) === "web-a", 10_000, 50);
    for (let i = 0; i < 20; i++) expect(await httpGet(itp.spec.clusterIP, 80)).toBe("web-a");
    const etpPort = NODE_PORT + 1;
    const etp = await service("etp", { type: "NodePort", externalTrafficPolicy: "Local", ports: [{ port: 80, targetPort: 8080, nodePort: etpPort }] });
    await slice("etp", [{ pod: "web-a", node: "another-node" }, { pod: "web-b" }], [{ port: 8080 }]);
    await until("etp reachable", async () => (await httpGet(GATEWAY, etpPort).catch(() => "")) === "web-b", 10_000, 50);
    for (let i = 0; i < 20; i++) expect(await httpGet(GATEWAY, etpPort)).toBe("web-b");
    // The ClusterIP of the same Service still uses every endpoint.
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add(await httpGet(etp.spec.clusterIP, 80));
    expect([...seen].sort()).toEqual(["web-a", "web-b"]);
  });

  test("endpoint changes are followed: not-ready endpoints leave the rotation", async () => {
    await slice("web", [{ pod: "web-a", ready: false }, { pod: "web-b" }], [{ name: "http", port: 8080 }], "PUT");
    await until("only web-b answers", async () => {
      const got = new Set<string>();
      for (let i = 0; i < 10; i++) got.add(await httpGet(webIP, 80).catch(() => "err"));
      return got.size === 1 && got.has("web-b");
    }, 10_000, 50);
  });

  test("DNS: service names resolve from a pod's namespace through the kube-dns ClusterIP; other names are forwarded", async () => {
    const kubeDns = json(s.k(["-n", "kube-system", "get", "service", "kube-dns", "-o", "json"]));
    expect(kubeDns.spec.clusterIP).toBe(DNS_IP);
    // Asynchronous: the fake upstream answers from this process.
    const lookup = async (name: string) => {
      const p = Bun.spawn(["ip", "netns", "exec", netns["web-a"]!, "busybox", "nslookup", name, DNS_IP], { stdout: "pipe", stderr: "pipe" });
      const stdout = await new Response(p.stdout).text();
      return { status: await p.exited, stdout };
    };
    const r = await until("web.default.svc.cluster.local resolves from a pod", async () => {
      const x = await lookup("web.default.svc.cluster.local");
      return x.status === 0 && x.stdout.includes(webIP) ? x : undefined;
    }, 15_000, 200);
    expect(r.stdout).toContain(`Address: ${webIP}`);
    const out = await lookup("outside.example");
    expect(out.stdout).toContain("198.51.100.7");
    expect(upstream.asked).toContain("outside.example");
    // From the host too (the same DNAT in output).
    const host = spawnSync("busybox", ["nslookup", "kube-dns.kube-system.svc.cluster.local", DNS_IP], { encoding: "utf8", timeout: 15_000 });
    expect(host.stdout).toContain(`Address: ${DNS_IP}`);
  });

  test("a table removed behind the proxy's back (a firewall reload) is rebuilt", async () => {
    spawnSync("nft", ["delete", "table", "ip", TABLE]);
    expect(nftTable(TABLE)).toBeUndefined();
    await until("the table rebuilt", () => nftTable(TABLE)?.includes(webIP), 10_000, 100);
    expect(await httpGet(webIP, 80)).toBe("web-b");
  });

  test("stop removes the table; a restart replaces a stale one and programs everything again", async () => {
    expect(nftTable(TABLE)).toBeDefined();
    await s.stop();
    expect(nftTable(TABLE)).toBeUndefined();
    spawnSync("nft", ["-f", "-"], { input: `add table ip ${TABLE}\nadd chain ip ${TABLE} stale-leftover\n`, encoding: "utf8" });
    expect(nftTable(TABLE)).toContain("stale-leftover");
    writeConfig();
    s = await startServer("bun", ["--service-cidr", SERVICE_CIDR], { dir });
    await until("web reachable again after the restart", async () => (await httpGet(webIP, 80).catch(() => "")) === "web-b", 30_000, 100);
    expect(nftTable(TABLE)).not.toContain("stale-leftover");
    expect(await httpGet(GATEWAY, NODE_PORT)).toMatch(/^web-[ab]$/);
  }, 90_000);
});

describeWith("network proxy rulesets in the kernel", root && haveNft, "root and nft", () => {
  const table = `skiff-e2e-scale-${tag}`;
  const tableInc = `skiff-e2e-inc-${tag}`;
  const tableFull = `skiff-e2e-full-${tag}`;
  afterAll(async () => {
    for (const t of [table, tableInc, tableFull]) await runNft("nft", ["-f", "-"], renderDelete(t)).catch(() => undefined);
  });

  /** A table's chains (with their rules), map elements and set names, independent of creation order. */
  function normalized(t: string): string {
    const r = spawnSync("nft", ["-j", "list", "table", "ip", t], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
    const out: Record<string, unknown> = {};
    for (const o of (JSON.parse(r.stdout).nftables as Record<string, any>[])) {
      if (o.chain) out[`chain ${o.chain.name}`] ??= [];
      if (o.rule) ((out[`chain ${o.rule.chain}`] ??= []) as string[]).push(JSON.stringify(o.rule.expr));
      if (o.map) out[`map ${o.map.name}`] = (o.map.elem ?? []).map((e: unknown) => JSON.stringify(e)).sort();
      if (o.set) out[`set ${o.set.name}`] = o.set.timeout;
    }
    return JSON.stringify(Object.keys(out).sort().map((k) => [k, out[k]]));
  }

  test("random changes applied incrementally end in the same ruleset as a full render", async () => {
    let seed = 7;
    const rnd = (n: number) => {
      // mulberry32
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) % n;
    };
    let prev: ReturnType<typeof render> | undefined;
    for (let step = 0; step < 25; step++) {
      const services = [];
      const slices = [];
      for (let i = 0; i < 12; i++) {
        if (rnd(5) === 0) continue;
        const name = `s${i}`;
        const type = rnd(3) === 0 ? "NodePort" : "ClusterIP";
        services.push({
          metadata: { name, namespace: "inc" },
          spec: {
            type,
            clusterIP: `10.218.200.${i}`,
            ports: [{ port: 80, ...(type === "NodePort" ? { nodePort: 40100 + i } : {}) }, ...(rnd(2) ? [{ port: 53, protocol: "UDP", name: "u" }] : [])].map((p, k) => (k === 0 && p.port === 80 ? { ...p, name: "h" } : p)),
            ...(rnd(3) === 0 ? { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 10 + rnd(3) } } } : {}),
            ...(rnd(4) === 0 ? { externalTrafficPolicy: "Local" } : {}),
            ...(rnd(4) === 0 ? { internalTrafficPolicy: "Local" } : {}),
          },
        });
        const n = rnd(4);
        slices.push({
          metadata: { name: `${name}-x`, namespace: "inc", labels: { "kubernetes.io/service-name": name } },
          addressType: "IPv4",
          endpoints: Array.from({ length: n }, (_, k) => ({ addresses: [`10.219.200.${(i * 4 + k + rnd(2)) % 250}`], nodeName: rnd(2) ? "n" : "m", conditions: { ready: rnd(5) !== 0 } })),
          ports: [{ name: "h", port: 8080 }, { name: "u", port: 5353, protocol: "UDP" }],
        });
      }
      const ports = servicePorts({ services, slices, nodeName: "n" });
      const o = { masqueradeMark: 0x4000, nodePortAddresses: ["127.0.0.2"] };
      const inc = render(ports, { ...o, table: tableInc, ...(prev ? { previous: prev.state } : {}) });
      await runNft("nft", ["-f", "-"], inc.text);
      prev = inc;
      await runNft("nft", ["-f", "-"], render(ports, { ...o, table: tableFull }).text);
      expect(normalized(tableInc).replaceAll(tableInc, "T")).toBe(normalized(tableFull).replaceAll(tableFull, "T"));
    }
    const last = normalized(tableFull);
    expect(last).toContain('"chain svc-');
    expect(last).toContain('"map service-ips"');
  });

  test("1,000 services with 2 endpoints each: applied in one transaction; an incremental sync after one change", async () => {
    const services = [];
    const slices = [];
    for (let i = 0; i < 1000; i++) {
      const name = `s${i}`;
      services.push({ metadata: { name, namespace: "scale" }, spec: { type: i % 10 === 0 ? "NodePort" : "ClusterIP", clusterIP: `10.218.${i >> 8}.${i & 255}`, ports: [{ port: 80, ...(i % 10 === 0 ? { nodePort: 40000 + i } : {}) }], ...(i % 7 === 0 ? { sessionAffinity: "ClientIP" } : {}) } });
      slices.push({ metadata: { name: `${name}-x`, namespace: "scale", labels: { "kubernetes.io/service-name": name } }, addressType: "IPv4", endpoints: [{ addresses: [`10.219.${i >> 7}.${(i & 127) * 2}`] }, { addresses: [`10.219.${i >> 7}.${(i & 127) * 2 + 1}`] }], ports: [{ port: 8080 }] });
    }
    // Nothing matches these addresses (no route, no traffic): only the programming is measured.
    const t0 = performance.now();
    const ports = servicePorts({ services, slices, nodeName: "n" });
    const full = render(ports, { table, masqueradeMark: 0x4000, nodePortAddresses: ["127.0.0.2"] });
    const tRender = performance.now() - t0;
    await runNft("nft", ["-f", "-"], full.text);
    const tFull = performance.now() - t0;
    slices[0]!.endpoints.pop();
    const t1 = performance.now();
    const inc = render(servicePorts({ services, slices, nodeName: "n" }), { table, masqueradeMark: 0x4000, nodePortAddresses: ["127.0.0.2"], previous: full.state });
    await runNft("nft", ["-f", "-"], inc.text);
    const tInc = performance.now() - t1;
    const listed = nftTable(table)!;
    expect((listed.match(/^\tchain ep-/gm) ?? []).length).toBe(1999);
    expect(listed).toContain("10.218.0.0 . tcp . 80");
    process.stderr.write(`network proxy, 1000 services/2000 endpoints: render ${tRender.toFixed(0)} ms, full apply ${tFull.toFixed(0)} ms (${(full.text.length / 1024).toFixed(0)} KiB), incremental ${tInc.toFixed(0)} ms\n`);
    expect(tFull).toBeLessThan(20_000);
  });
});
