/**
 * Issue 9's acceptance, end to end with real kubectl against a real
 * all-in-one `skiff server`: a Deployment of 3 busybox httpd pods, each
 * answering with its pod name, behind selector-based Services (so the
 * EndpointSlice controller writes the slices and the network proxy programs
 * nftables):
 *
 * - the ClusterIP from the host and from inside a pod (`kubectl exec`), and
 *   the NodePort, reach all 3 pods;
 * - a pod failing its readiness probe gets no traffic, and gets it once the
 *   probe passes;
 * - `sessionAffinity: ClientIP` sticks, from the host and from a pod;
 * - from inside a pod, `web.default.svc.cluster.local`, `web.default` and
 *   `web` resolve through the pod's own resolv.conf and answer; a headless
 *   Service resolves to the ready pod IPs;
 * - `kubectl scale --replicas=1` stops traffic to the removed pods within
 *   1 s, although they keep serving (they ignore SIGTERM for their grace
 *   period, as a draining server would);
 * - a server restart (which restarts the proxy) leaves no stale rules (the
 *   table equals the one before, a stale chain planted meanwhile is gone)
 *   and the Services keep working.
 *
 * The body is a function of a runtime fixture (`RUNTIMES` below): it says
 * how the server runs pods and how a pod fetches a URL or resolves a name.
 * It runs on the process runtime (root, nft, busybox, curl, kubectl; pods
 * are host processes, resolv.conf bound per pod) and on containerd (a
 * private containerd with CRI and a CNI bridge, a busybox image built
 * offline), and on Docker (a private dockerd, the adapter's bridge network).
 *
 * Traffic goes only to loopback, this host's own addresses, and the bridge,
 * namespaces and service range this test creates — and to a ClusterIP only
 * once the test's own nftables table holds it (unprogrammed, it would follow
 * the default route). DNS names outside the cluster go to a fake upstream on
 * loopback. Everything is removed in afterAll, also when a test fails.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import * as dns from "dns-packet";
import { runNft } from "../../plugins/network-proxy/proxy.ts";
import { renderDelete } from "../../plugins/network-proxy/rules.ts";
import { ContainerdRuntime } from "../../runtime-adapters/containerd/index.ts";
import { containerdMissing, mkimage as ctrdMkimage, startContainerd, type TestContainerd } from "../../runtime-adapters/containerd/testing.ts";
import { DockerRuntime } from "../../runtime-adapters/docker/index.ts";
import { dockerdMissing, mkimage, startDockerd, type TestDockerd } from "../../runtime-adapters/docker/testing.ts";
import { removeLeftovers } from "../../runtime-adapters/process/testing.ts";
import { haveKubectl, startServer, tempDir, type TestServer, until } from "./harness.ts";
import { describeWith } from "./require.ts";

setDefaultTimeout(60_000);

/** What differs between runtimes; everything else in the acceptance is the same. */
interface AcceptanceRuntime {
  name: string;
  /** Why it cannot run here, or undefined. */
  missing(): string | undefined;
  /** The image pods run (busybox with `sh` and `httpd`). */
  image: string;
  /** Prepares the runtime; returns the skiff.yaml entries that select and configure it. */
  setUp(ctx: { dir: string; tag: string; octet: number }): Promise<{ runtime: string; plugins: Record<string, unknown> }>;
  /** A shell command, run in a pod, printing the body of `url` (non-zero exit on failure). */
  fetch(url: string): string;
  /** A shell command, run in a pod, printing the IPv4 addresses `name` resolves to through the pod's resolver (and no other address). */
  lookup(name: string): string;
  /**
   * The nameserver the pod's resolv.conf names when it is not the cluster
   * DNS itself but a local forwarder to it (Docker's embedded DNS on
   * user-defined networks, 127.0.0.11).
   */
  forwarder?: string;
  /** Removes what the runtime left (after the server stopped; also on failure). */
  cleanUp(ctx: { dir: string }): Promise<void>;
}

const root = process.getuid?.() === 0;
const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" }).error === undefined;

const processRuntime = (): AcceptanceRuntime => {
  let names: { bridge: string; subnet: string; netnsPrefix: string; vethPrefix: string; cgroupParent: string } | undefined;
  return {
    name: "process",
    missing: () =>
      !root ? "root" : !has("nft", ["--version"]) ? "nft" : !has("busybox", ["true"]) ? "busybox" : !has("curl", ["--version"]) ? "curl" : !haveKubectl() ? "kubectl" : undefined,
    image: "local/busybox:1",
    async setUp({ tag, octet }) {
      names = { bridge: `ska${tag}`, subnet: `10.220.${octet}.0/24`, netnsPrefix: `ska-${tag}-`, vethPrefix: `a${tag}`, cgroupParent: `skiff-e2e-acc-${tag}` };
      return { runtime: "process", plugins: { "runtime-process": { config: names } } };
    },
    // The host's curl and getent (glibc: /etc/nsswitch.conf, then the pod's /etc/hosts and resolv.conf).
    fetch: (url) => `curl -sf -m 2 ${url}`,
    lookup: (name) => `getent ahostsv4 ${name}`,
    async cleanUp({ dir }) {
      if (names) await removeLeftovers({ stateDir: join(dir, "data", "runtime", "process"), ...names });
    },
  };
};

/** busybox nslookup tries every search domain and fails if any fails: its answers are the `Address: ` lines (the server's has a tab). */
const BUSYBOX_LOOKUP = (name: string) => `nslookup ${name} 2>/dev/null | sed -n 's/^Address: //p'; true`;

/**
 * containerd through a private containerd with CRI and a CNI bridge
 * (runtime-adapters/containerd/testing.ts), a busybox image built offline by
 * scripts/mkimage.sh and imported through the adapter.
 */
const containerdRuntime = (): AcceptanceRuntime => {
  let c: TestContainerd | undefined;
  let rt: ContainerdRuntime | undefined;
  return {
    name: "containerd",
    missing: () => containerdMissing() ?? (!has("nft", ["--version"]) ? "nft" : !haveKubectl() ? "kubectl" : undefined),
    image: "skiff.local/acceptance:1",
    async setUp({ dir }) {
      c = startContainerd("skiff-acc-ctrd-");
      rt = new ContainerdRuntime({ socket: c.socket });
      ctrdMkimage(join(dir, "busybox.tar"), "skiff.local/acceptance:1", ["/bin/sh"]);
      await rt.importImage(join(dir, "busybox.tar"));
      return { runtime: "containerd", plugins: { "runtime-containerd": { config: { socket: c.socket, cgroupParent: c.cgroupParent } } } };
    },
    fetch: (url) => `timeout 3 wget -qO- ${url}`,
    lookup: BUSYBOX_LOOKUP,
    async cleanUp() {
      await rt?.close();
      await c?.stop();
    },
  };
};

/**
 * Docker through a private dockerd (runtime-adapters/docker/testing.ts), a
 * busybox image built offline by scripts/mkimage.sh. busybox 1.35's wget
 * crashes with `-T`, so `timeout` bounds it instead.
 */
const dockerRuntime = (): AcceptanceRuntime => {
  let d: TestDockerd | undefined;
  let rt: DockerRuntime | undefined;
  return {
    name: "docker",
    missing: () => dockerdMissing() ?? (!has("nft", ["--version"]) ? "nft" : !haveKubectl() ? "kubectl" : undefined),
    image: "skiff.local/acceptance:1",
    async setUp({ dir }) {
      d = startDockerd("ska-");
      const pause = mkimage(join(dir, "pause.tar"), "skiff.local/pause:1", ["/bin/sleep", "2147483647"]);
      rt = new DockerRuntime({ socketPath: d.socket, instance: d.instance });
      await rt.importImage(mkimage(join(dir, "busybox.tar"), "skiff.local/acceptance:1"));
      return {
        runtime: "docker",
        plugins: {
          "runtime-docker": {
            config: { socket: d.socket, instance: d.instance, network: d.network, bridge: d.bridge, subnet: d.subnet, pauseImage: "skiff.local/pause:1", pauseImageArchive: pause },
          },
        },
      };
    },
    fetch: (url) => `timeout 3 wget -qO- ${url}`,
    lookup: BUSYBOX_LOOKUP,
    forwarder: "127.0.0.11",
    async cleanUp() {
      await rt?.close();
      d?.stop();
    },
  };
};

/** The matrix: every runtime with pod networking. */
const RUNTIMES: AcceptanceRuntime[] = [processRuntime(), containerdRuntime(), dockerRuntime()];

const json = (s: string): any => JSON.parse(s);

/** One HTTP/1.0 GET on a fresh connection (a new flow, so a new endpoint pick); the trimmed body. */
function httpGet(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let data = "";
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timeout reaching ${host}:${port}`));
    }, timeoutMs);
    sock.on("connect", () => sock.write("GET / HTTP/1.0\r\n\r\n"));
    sock.on("data", (d) => (data += d.toString()));
    sock.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(t);
      if (!data.startsWith("HTTP/1.")) return reject(new Error(`no HTTP answer from ${host}:${port}`));
      resolve(data.split("\r\n\r\n").slice(1).join("").trim());
    });
  });
}

async function answers(host: string, port: number, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await httpGet(host, port));
  return out;
}

/** A DNS server on loopback answering NXDOMAIN to everything: the cluster DNS's upstream, so no name leaves the host. */
async function nxUpstream(): Promise<{ port: number; close(): void }> {
  const s: Socket = createSocket("udp4");
  s.on("message", (m, r) => {
    const q = dns.decode(m);
    s.send(dns.encode({ type: "response", id: q.id ?? 0, flags: dns.RECURSION_AVAILABLE | 3, questions: q.questions ?? [], answers: [] }), r.port, r.address);
  });
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  return { port: s.address().port, close: () => s.close() };
}

function nftTable(table: string): string | undefined {
  const r = spawnSync("nft", ["list", "table", "ip", table], { encoding: "utf8" });
  return r.status === 0 ? r.stdout : undefined;
}

/** A table's chains with their rules, map elements and set names/timeouts (not their dynamic elements), independent of order. */
function normalizedTable(table: string): string {
  const r = spawnSync("nft", ["-j", "list", "table", "ip", table], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const out: Record<string, unknown> = {};
  for (const o of JSON.parse(r.stdout).nftables as Record<string, any>[]) {
    if (o.chain) out[`chain ${o.chain.name}`] ??= [];
    if (o.rule) ((out[`chain ${o.rule.chain}`] ??= []) as string[]).push(JSON.stringify(o.rule.expr));
    if (o.map) out[`map ${o.map.name}`] = (o.map.elem ?? []).map((e: unknown) => JSON.stringify(e)).sort();
    if (o.set) out[`set ${o.set.name}`] = o.set.timeout ?? null;
  }
  return JSON.stringify(Object.keys(out).sort().map((k) => [k, out[k]]), null, 1);
}

function acceptance(fx: AcceptanceRuntime): void {
  const missing = fx.missing();
  describeWith(`Services acceptance on the ${fx.name} runtime (issue 9)`, missing === undefined, missing ?? "", () => {
    const tag = Math.random().toString(16).slice(2, 6);
    const octet = Number.parseInt(tag, 16) % 250;
    const NODE = `acc-${tag}`;
    const TABLE = `skiff-acc-${tag}`;
    const SERVICE_CIDR = `10.221.${octet}.0/24`;
    const DNS_IP = `10.221.${octet}.10`;
    const NODE_PORT = 30000 + (Number.parseInt(tag, 16) % 2700);
    // The emptyDir each server serves from; the process runtime creates a missing mount point on the host.
    const WWW = `/tmp/skiff-acc-${tag}/www`;
    let s: TestServer;
    let dir: string;
    let upstream: Awaited<ReturnType<typeof nxUpstream>>;
    let runtimeConfig: Awaited<ReturnType<AcceptanceRuntime["setUp"]>>;
    const ip: Record<string, string> = {};
    let nodeIP = "";
    let pods: string[] = [];

    /** The server: a shell that writes its pod name (and, unless NOT_READY is set, the readiness file), then busybox httpd ignoring SIGTERM. */
    const SERVE = `trap '' TERM; echo "$HOSTNAME" >${WWW}/index.html; [ -n "$NOT_READY" ] || echo ok >${WWW}/ready; exec busybox httpd -f -p 8080 -h ${WWW}`;

    function podSpec(extra: { env?: { name: string; value: string }[]; grace?: number } = {}) {
      return {
        terminationGracePeriodSeconds: extra.grace ?? 10,
        containers: [
          {
            name: "httpd",
            image: fx.image,
            command: ["sh", "-c", SERVE],
            env: extra.env ?? [],
            ports: [{ name: "http", containerPort: 8080 }],
            volumeMounts: [{ name: "www", mountPath: WWW }],
            readinessProbe: { httpGet: { path: "/ready", port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
        volumes: [{ name: "www", emptyDir: {} }],
      };
    }

    const manifests = [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web" },
        spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: podSpec() } },
      },
      { apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] } },
      { apiVersion: "v1", kind: "Service", metadata: { name: "web-np" }, spec: { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080, nodePort: NODE_PORT }] } },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web-sticky" },
        spec: { selector: { app: "web" }, sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 300 } }, ports: [{ port: 80, targetPort: 8080 }] },
      },
      { apiVersion: "v1", kind: "Service", metadata: { name: "web-headless" }, spec: { clusterIP: "None", selector: { app: "web" }, ports: [{ port: 8080 }] } },
    ];

    function writeConfig(): void {
      writeFileSync(
        join(dir, "data", "skiff.yaml"),
        JSON.stringify({
          nodeName: NODE,
          runtime: runtimeConfig.runtime,
          plugins: {
            ...runtimeConfig.plugins,
            "node-agent": { config: { server: { port: 0 }, stopPodsOnExit: "never" } },
            "network-proxy": { config: { table: TABLE } },
            dns: { config: { upstream: [`127.0.0.1:${upstream.port}`] } },
          },
        }),
      );
    }

    const clusterIP = (svc: string): string => s.k(["get", "service", svc, "-o", "jsonpath={.spec.clusterIP}"]).trim();

    /** Waits until the proxy's table holds `address` (only then is traffic to it kept on this host). */
    const programmed = (address: string) => until(`${address} in nftables table ${TABLE}`, () => nftTable(TABLE)?.includes(`${address} . tcp`) ?? false, 20_000, 50);

    function readyPods(): { name: string; ip: string; deleting: boolean; ready: boolean }[] {
      return json(s.k(["get", "pods", "-l", "app=web", "-o", "json"])).items.map((p: any) => ({
        name: p.metadata.name,
        ip: p.status?.podIP ?? "",
        deleting: p.metadata.deletionTimestamp !== undefined,
        ready: p.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ?? false,
      }));
    }

    /** The Service's ready endpoint addresses, as the EndpointSlice controller wrote them. */
    function readyEndpoints(svc: string): string[] {
      const slices = json(s.k(["get", "endpointslices", "-l", `kubernetes.io/service-name=${svc}`, "-o", "json"])).items;
      return slices
        .flatMap((sl: any) => sl.endpoints ?? [])
        .filter((e: any) => e.conditions?.ready !== false)
        .flatMap((e: any) => e.addresses)
        .sort();
    }

    /** Runs a shell script in a pod through `kubectl exec`; its stdout (fails on a non-zero exit). */
    const inPod = (pod: string, script: string): string => s.k(["exec", pod, "--", "sh", "-c", script]);

    /** `n` fetches of `url` from inside a pod, one body per line (`ERR` for a failure). */
    const fetchesInPod = (pod: string, url: string, n: number): string[] =>
      inPod(pod, `i=0; while [ $i -lt ${n} ]; do ${fx.fetch(url)} || echo ERR; i=$((i+1)); done`)
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);

    beforeAll(async () => {
      upstream = await nxUpstream();
      dir = tempDir("skiff-e2e-acc-");
      mkdirSync(join(dir, "data"), { recursive: true });
      runtimeConfig = await fx.setUp({ dir, tag, octet });
      writeConfig();
      s = await startServer("bun", ["--service-cidr", SERVICE_CIDR], { dir });
      for (const m of manifests) s.k(["apply", "-f", "-"], { input: JSON.stringify(m) });
      const ready = await until(
        "3 web pods Ready",
        () => {
          const p = readyPods().filter((x) => x.ready);
          return p.length === 3 ? p : undefined;
        },
        60_000,
        250,
      );
      pods = ready.map((p) => p.name).sort();
      for (const p of ready) ip[p.name] = p.ip;
      nodeIP = json(s.k(["get", "pod", pods[0]!, "-o", "json"])).status.hostIP;
      await until("the EndpointSlice of web lists the 3 pods", () => JSON.stringify(readyEndpoints("web")) === JSON.stringify(Object.values(ip).sort()), 20_000, 100);
    }, 120_000);

    afterAll(async () => {
      try {
        await s?.stop();
      } finally {
        upstream?.close();
        await fx.cleanUp({ dir }).catch(() => undefined);
        await runNft("nft", ["-f", "-"], renderDelete(TABLE)).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
        rmSync(`/tmp/skiff-acc-${tag}`, { recursive: true, force: true });
      }
    });

    test("the ClusterIP from the host reaches all 3 pods", async () => {
      const vip = clusterIP("web");
      expect(vip.startsWith(`10.221.${octet}.`)).toBe(true);
      await programmed(vip);
      await until("web answering at its ClusterIP", async () => pods.includes(await httpGet(vip, 80)), 10_000, 100);
      const seen = new Set(await answers(vip, 80, 60));
      expect([...seen].sort()).toEqual(pods);
    });

    test("the ClusterIP from inside a pod (kubectl exec) reaches all 3 pods, the pod itself included", async () => {
      const vip = clusterIP("web");
      await programmed(vip);
      const got = fetchesInPod(pods[0]!, `http://${vip}/`, 45);
      expect(got.length).toBe(45);
      expect([...new Set(got)].sort()).toEqual(pods);
    });

    test("the NodePort reaches all 3 pods, on the node's address and the bridge's", async () => {
      await until("the NodePort programmed", () => nftTable(TABLE)?.includes(`tcp . ${NODE_PORT}`) ?? false, 10_000, 50);
      expect(nodeIP).toBeTruthy();
      const seen = new Set(await answers(nodeIP, NODE_PORT, 60));
      expect([...seen].sort()).toEqual(pods);
      const gateway = spawnSync("ip", ["-4", "-o", "route", "get", ip[pods[0]!]!], { encoding: "utf8" }).stdout.match(/src (\S+)/)?.[1];
      expect(gateway).toBeTruthy();
      expect(pods).toContain(await httpGet(gateway!, NODE_PORT));
    });

    test("a pod failing its readiness probe gets no traffic; once it passes, it does", async () => {
      const vip = clusterIP("web");
      await programmed(vip);
      s.k(["apply", "-f", "-"], {
        input: JSON.stringify({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "unready", labels: { app: "web" } },
          spec: podSpec({ env: [{ name: "NOT_READY", value: "1" }], grace: 1 }),
        }),
      });
      let deleted = false;
      try {
        const pod = await until("the unready pod running with an IP", () => {
          const p = json(s.k(["get", "pod", "unready", "-o", "json"]));
          return p.status?.phase === "Running" && p.status.podIP ? p : undefined;
        }, 30_000, 200);
        const unreadyIP = pod.status.podIP as string;
        // It serves (once its shell has started httpd), but its probe (GET /ready) fails: it is in the slice, not ready.
        await until("the unready pod serving on its IP", async () => (await httpGet(unreadyIP, 8080)) === "unready", 10_000, 100);
        await until("the unready endpoint in the slice as not ready", () => {
          const sl = json(s.k(["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "json"])).items;
          return sl.some((x: any) => (x.endpoints ?? []).some((e: any) => e.addresses.includes(unreadyIP) && e.conditions?.ready === false));
        }, 15_000, 200);
        const fromHost = await answers(vip, 80, 60);
        expect(fromHost).not.toContain("unready");
        expect(new Set(fromHost).size).toBe(3);
        expect(fetchesInPod(pods[1]!, `http://${vip}/`, 20)).not.toContain("unready");
        // The probe passes: it joins the rotation.
        inPod("unready", `echo ok >${WWW}/ready`);
        await until("the now-ready pod receiving traffic", async () => (await answers(vip, 80, 20)).includes("unready"), 15_000, 100);
        s.k(["delete", "pod", "unready", "--wait=false"]);
        deleted = true;
      } finally {
        // Not left behind for the cases after this one (it carries app=web).
        if (!deleted) s.kubectl(["delete", "pod", "unready", "--wait=false"]);
      }
      await until("the deleted pod out of the rotation", async () => !(await answers(vip, 80, 30)).includes("unready"), 10_000, 100);
    });

    test("sessionAffinity ClientIP sticks, from the host and from a pod", async () => {
      const vip = clusterIP("web-sticky");
      await programmed(vip);
      await until("web-sticky answering", async () => pods.includes(await httpGet(vip, 80)), 10_000, 100);
      const fromHost = await answers(vip, 80, 30);
      expect(new Set(fromHost).size).toBe(1);
      const fromPod = fetchesInPod(pods[2]!, `http://${vip}/`, 20);
      expect(fromPod.length).toBe(20);
      expect(new Set(fromPod).size).toBe(1);
      // Without affinity the same pod's requests spread (so the stickiness above is the Service's doing).
      const plain = clusterIP("web");
      await programmed(plain);
      expect(new Set(fetchesInPod(pods[2]!, `http://${plain}/`, 30)).size).toBeGreaterThan(1);
    });

    test("from inside a pod, web.default.svc.cluster.local, web.default and web resolve through its resolv.conf and answer", async () => {
      await programmed(DNS_IP);
      const vip = clusterIP("web");
      const resolv = inPod(pods[0]!, "cat /etc/resolv.conf");
      expect(resolv).toContain(`nameserver ${fx.forwarder ?? DNS_IP}`);
      expect(resolv).toMatch(/^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/m);
      // Looked up: the full name, and the bare one through the search path. (busybox
      // nslookup applies the search path only to names without a dot, unlike glibc's
      // ndots:5, so `web.default` is checked through wget, which resolves like glibc.)
      for (const name of ["web.default.svc.cluster.local", "web"]) {
        const addrs = inPod(pods[1]!, fx.lookup(name)).match(/\b\d+\.\d+\.\d+\.\d+\b/g) ?? [];
        expect({ name, addrs: [...new Set(addrs)] }).toEqual({ name, addrs: [vip] });
      }
      for (const name of ["web.default.svc.cluster.local", "web.default", "web"]) {
        const t0 = Date.now();
        const body = inPod(pods[1]!, fx.fetch(`http://${name}/`)).trim();
        expect({ name, body: pods.includes(body) ? "a web pod" : body }).toEqual({ name, body: "a web pod" });
        // No resolver timeouts on the way (the search path is walked through NXDOMAIN answers).
        expect(Date.now() - t0).toBeLessThan(2000);
      }
    });

    test("a headless Service resolves to the ready pod IPs", async () => {
      await programmed(DNS_IP);
      expect(clusterIP("web-headless")).toBe("None");
      const addrs = inPod(pods[2]!, fx.lookup("web-headless")).match(/\b\d+\.\d+\.\d+\.\d+\b/g) ?? [];
      expect([...new Set(addrs)].sort()).toEqual(Object.values(ip).sort());
    });

    test("kubectl scale --replicas=1 stops traffic to the removed pods within 1 s, although they still serve", async () => {
      const vip = clusterIP("web");
      await programmed(vip);
      const seen: { at: number; body: string }[] = [];
      const t0 = performance.now();
      const scale = Bun.spawn(["kubectl", "scale", "deployment", "web", "--replicas=1"], {
        env: { PATH: process.env.PATH ?? "", HOME: join(dir, "home"), KUBECONFIG: s.kubeconfig },
        stdout: "pipe",
        stderr: "pipe",
      });
      // Fresh connections, one after another, for 3 s from the scale.
      while (performance.now() - t0 < 3000) {
        const body = await httpGet(vip, 80, 1000).catch((e: Error) => `error: ${e.message}`);
        seen.push({ at: performance.now() - t0, body });
      }
      expect(await scale.exited).toBe(0);
      const now = readyPods();
      const survivors = now.filter((p) => pods.includes(p.name) && !p.deleting).map((p) => p.name);
      expect(survivors.length).toBe(1);
      const removed = pods.filter((p) => !survivors.includes(p));
      expect(removed.length).toBe(2);
      const lastRemoved = Math.max(0, ...seen.filter((x) => removed.includes(x.body)).map((x) => x.at));
      const late = seen.filter((x) => x.at > 1000);
      process.stderr.write(`acceptance (${fx.name}): last answer from a removed pod ${lastRemoved.toFixed(0)} ms after kubectl scale; ${seen.length} requests\n`);
      expect(lastRemoved).toBeLessThan(1000);
      expect(late.length).toBeGreaterThan(20);
      expect(new Set(late.map((x) => x.body))).toEqual(new Set(survivors));
      // The removed pods still answer directly (grace period, SIGTERM ignored): only the proxy kept traffic off them.
      for (const p of removed) expect(await httpGet(ip[p]!, 8080)).toBe(p);
      pods = survivors;
    }, 30_000);

    test("a server restart (the proxy too) leaves no stale rules and the Services keep working", async () => {
      const vip = clusterIP("web");
      await until("the removed pods gone from the slice", () => JSON.stringify(readyEndpoints("web")) === JSON.stringify([ip[pods[0]!]]), 20_000, 100);
      // Settled: a proxy sync after the last slice change.
      await new Promise((r) => setTimeout(r, 500));
      const before = normalizedTable(TABLE);
      expect(before).toContain(ip[pods[0]!]!);
      await s.stop();
      expect(nftTable(TABLE)).toBeUndefined();
      // A stale table as a crashed run could leave (the restart must replace it, not add to it).
      spawnSync("nft", ["-f", "-"], { input: `add table ip ${TABLE}\nadd chain ip ${TABLE} stale-leftover\n`, encoding: "utf8" });
      writeConfig();
      s = await startServer("bun", ["--service-cidr", SERVICE_CIDR], { dir });
      await until("the table rebuilt with web", () => (nftTable(TABLE)?.includes(`${vip} . tcp`) ?? false) && !nftTable(TABLE)!.includes("stale-leftover"), 30_000, 100);
      await until("web answering again", async () => (await httpGet(vip, 80).catch(() => "")) === pods[0], 20_000, 100);
      await until("the same ruleset as before the restart", () => normalizedTable(TABLE) === before, 10_000, 200).catch(() => {
        expect(normalizedTable(TABLE)).toBe(before);
      });
      expect(new Set(await answers(vip, 80, 10))).toEqual(new Set(pods));
      expect(await httpGet(nodeIP, NODE_PORT)).toBe(pods[0]!);
      await programmed(DNS_IP);
      expect(inPod(pods[0]!, fx.fetch("http://web/")).trim()).toBe(pods[0]!);
    }, 120_000);
  });
}

for (const fx of RUNTIMES) acceptance(fx);
