/**
 * @module Scenario `proxy`: what the network proxy's data path costs. An HTTP
 * server pod (Bun.serve, keep-alive) behind a ClusterIP Service; a load
 * generator in its own process on the host keeps 64 keep-alive connections
 * busy (one request in flight on each) against the ClusterIP, and — the
 * anchor, in the same run, alternating with it — directly against the pod
 * IP. Reports requests/s and p99 latency of each.
 *
 * Targets: ClusterIP throughput ≥ 0.7× direct, p99 ≤ direct + 1 ms.
 *
 * An in-memory all-in-one kernel (process runtime with its own bridge,
 * subnet and service range; the network proxy with its own nftables table;
 * the DNS plugin off). Needs root (network namespaces, nftables): otherwise
 * it exits at once with one line saying so. Traffic goes only to the pod's
 * address and to the ClusterIP once the bench's own table holds it.
 * Everything is removed afterwards.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KubeObject } from "../core/api/meta.ts";
import { createKernel, type Kernel } from "../core/kernel.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { renderDelete } from "../plugins/network-proxy/rules.ts";
import { removeLeftovers } from "../runtime-adapters/process/testing.ts";
import { type BenchOptions, type BenchResult, progress, round, sleep } from "./lib/common.ts";

const NAME = "proxy";
const PODS = { group: "", version: "v1", resource: "pods" };
const SERVICES = { group: "", version: "v1", resource: "services" };
const NODE = "bench-proxy-node";
const CONNECTIONS = 64;

/** Root and a working nft, or the one-line reason this bench cannot run. */
export function proxyBenchMissing(): string | undefined {
  if (process.platform !== "linux") return "needs Linux (network namespaces and nftables)";
  if (process.getuid?.() !== 0) return "needs root (network namespaces and nftables); run it as root";
  if (spawnSync("nft", ["list", "tables"], { encoding: "utf8" }).status !== 0) return "needs a working nft (the nftables package)";
  return undefined;
}

/** Exits with one line on stderr when the bench cannot run here. */
export function requireRoot(scenario: string): void {
  const why = proxyBenchMissing();
  if (!why) return;
  process.stderr.write(`bench=${scenario} step=failed error=${JSON.stringify(why)}\n`);
  process.exit(1);
}

/**
 * The load generator, run as `bun -e` in its own process so the kernel's
 * event loop does not share its core: `conns` keep-alive connections, one
 * request in flight on each, a warm-up, then `durationMs` measured. Prints
 * `{count, errors, p50, p99, seconds}`.
 */
const LOADGEN = `
const net = require("node:net");
const { host, port, conns, warmupMs, durationMs } = JSON.parse(process.env.SKIFF_LOADGEN);
const REQ = Buffer.from("GET / HTTP/1.1\\r\\nHost: bench\\r\\n\\r\\n");
let lat = new Float64Array(1 << 16), n = 0, errors = 0, measuring = false, stopping = false, t0 = 0, t1 = 0;
function record(ms) {
  if (n === lat.length) { const b = new Float64Array(lat.length * 2); b.set(lat); lat = b; }
  lat[n++] = ms;
}
function one() {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setNoDelay(true);
    let buf = "", sent = 0;
    const send = () => { if (stopping) { s.destroy(); return resolve(); } sent = performance.now(); s.write(REQ); };
    s.on("connect", send);
    s.on("data", (d) => {
      buf += d.toString("latin1");
      const h = buf.indexOf("\\r\\n\\r\\n");
      if (h < 0) return;
      const m = /content-length:\\s*(\\d+)/i.exec(buf.slice(0, h));
      const end = h + 4 + (m ? Number(m[1]) : 0);
      if (buf.length < end) return;
      buf = buf.slice(end);
      if (measuring) record(performance.now() - sent);
      send();
    });
    s.on("error", () => { errors++; resolve(); });
    s.on("close", () => resolve());
  });
}
setTimeout(() => { measuring = true; t0 = performance.now(); }, warmupMs);
setTimeout(() => { measuring = false; t1 = performance.now(); stopping = true; }, warmupMs + durationMs);
await Promise.all(Array.from({ length: conns }, one));
const sorted = lat.subarray(0, n).sort();
const pct = (p) => (n ? sorted[Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1))] : NaN);
console.log(JSON.stringify({ count: n, errors, p50: pct(50), p99: pct(99), seconds: (t1 - t0) / 1000 }));
`;

interface LoadResult {
  count: number;
  errors: number;
  p50: number;
  p99: number;
  seconds: number;
}

function loadgen(host: string, port: number, warmupMs: number, durationMs: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["-e", LOADGEN], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, SKIFF_LOADGEN: JSON.stringify({ host, port, conns: CONNECTIONS, warmupMs, durationMs }) },
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()!) as LoadResult);
      } catch {
        reject(new Error(`load generator printed no result: ${out}${err}`));
      }
    });
  });
}

/** One GET on a fresh connection; the body, or an error. */
export function httpGet(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    let data = "";
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`timeout reaching ${host}:${port}`));
    }, timeoutMs);
    s.on("connect", () => s.write("GET / HTTP/1.0\r\n\r\n"));
    s.on("data", (d) => (data += d.toString()));
    s.on("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
    s.on("close", () => {
      clearTimeout(t);
      if (!data.startsWith("HTTP/1.")) return reject(new Error(`no HTTP answer from ${host}:${port}`));
      resolve(data.split("\r\n\r\n").slice(1).join("").trim());
    });
  });
}

/** Whether the table holds `address` as a service IP (only then does traffic to it stay on this host). */
export function programmed(table: string, address: string): boolean {
  const r = spawnSync("nft", ["list", "table", "ip", table], { encoding: "utf8" });
  return r.status === 0 && r.stdout.includes(`${address} . tcp`);
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve()
      .then(fn)
      .catch(() => undefined);
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** An all-in-one kernel on the process runtime and network proxy, with names of its own; `cleanup` removes everything. */
export async function proxyKernel(label: string, extra: { syncDebounceMs?: number } = {}): Promise<{ kernel: Kernel; names: Parameters<typeof removeLeftovers>[0]; table: string; cleanup(): Promise<void> }> {
  const tag = Math.random().toString(16).slice(2, 6);
  const octet = Number.parseInt(tag, 16) % 250;
  const dir = mkdtempSync(join(tmpdir(), `skiff-bench-${label}-`));
  const names = {
    bridge: `skp${tag}`,
    subnet: `10.222.${octet}.0/24`,
    netnsPrefix: `skp-${tag}-`,
    vethPrefix: `p${tag}`,
    cgroupParent: `skiff-bench-${label}-${tag}`,
    stateDir: join(dir, "runtime"),
  };
  const table = `skiff-bench-${tag}`;
  const kernel = await createKernel({
    memory: true,
    services: { cidr: `10.223.${octet}.0/24` },
    plugins: {
      available: builtinPlugins(),
      preset: "all-in-one",
      runtime: "process",
      nodeName: NODE,
      settings: {
        "runtime-process": { config: names },
        "node-agent": { config: { rootDir: join(dir, "agent"), stopPodsOnExit: "always", server: { port: 0 } } },
        "network-proxy": { config: { table, ...(extra.syncDebounceMs !== undefined ? { syncDebounceMs: extra.syncDebounceMs } : {}) } },
        dns: { enabled: false },
      },
    },
  });
  return {
    kernel,
    names,
    table,
    async cleanup() {
      try {
        await kernel.stop();
      } finally {
        await removeLeftovers(names);
        spawnSync("nft", ["-f", "-"], { input: renderDelete(table), encoding: "utf8" });
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

const SERVER = 'Bun.serve({ hostname: "0.0.0.0", port: 8080, fetch() { return new Response("ok"); } }); console.log("listening");';

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  requireRoot(NAME);
  const rounds = opts.quick ? 1 : 3;
  const durationMs = opts.quick ? 2000 : 5000;
  const warmupMs = opts.quick ? 500 : 1000;
  const env = await proxyKernel("proxy");
  try {
    const client = env.kernel.client;
    await client.create(PODS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "http-server", namespace: "default", labels: { app: "bench-proxy" } },
      spec: {
        nodeName: NODE,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "c", image: "local/bun", command: [process.execPath, "-e", SERVER], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }],
      },
    } as KubeObject);
    const svc = (await client.create(SERVICES, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "http-server", namespace: "default" },
      spec: { selector: { app: "bench-proxy" }, ports: [{ port: 80, targetPort: 8080 }] },
    } as KubeObject)) as KubeObject & { spec: { clusterIP: string } };
    const vip = svc.spec.clusterIP;
    const podIP = await waitFor(
      "the server pod Ready",
      async () => {
        const p = (await client.get(PODS, "http-server", { namespace: "default" })) as KubeObject & { status?: { podIP?: string; conditions?: { type: string; status: string }[] } };
        return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? p.status.podIP : undefined;
      },
      60_000,
      100,
    );
    await waitFor("the ClusterIP in the proxy's table", () => programmed(env.table, vip), 30_000);
    await waitFor("an answer through the ClusterIP", async () => (await httpGet(vip, 80)) === "ok", 30_000);
    progress(NAME, "ready", { pod_ip: podIP, cluster_ip: vip, connections: CONNECTIONS, rounds, secs: durationMs / 1000 });
    const direct: LoadResult[] = [];
    const viaVip: LoadResult[] = [];
    // Alternating, so a change in the machine's load hits both alike.
    for (let i = 0; i < rounds; i++) {
      for (const [target, host, port, into] of [
        ["direct", podIP, 8080, direct],
        ["clusterip", vip, 80, viaVip],
      ] as const) {
        const r = await loadgen(host, port, warmupMs, durationMs);
        if (r.errors > 0) throw new Error(`${r.errors} connection errors against ${target} ${host}:${port}`);
        into.push(r);
        progress(NAME, "round", { target, round: i + 1, rps: round(r.count / r.seconds, 0), p50_ms: round(r.p50, 3), p99_ms: round(r.p99, 3) });
      }
    }
    const rps = (rs: LoadResult[]) => rs.reduce((a, r) => a + r.count, 0) / rs.reduce((a, r) => a + r.seconds, 0);
    const p99 = (rs: LoadResult[]) => rs.reduce((a, r) => a + r.p99, 0) / rs.length;
    const m = {
      clusterip_rps: round(rps(viaVip), 0),
      direct_rps: round(rps(direct), 0),
      clusterip_p99_ms: round(p99(viaVip), 3),
      direct_p99_ms: round(p99(direct), 3),
    };
    progress(NAME, "measured", { ...m, ratio: round(m.clusterip_rps / m.direct_rps, 3), p99_delta_ms: round(m.clusterip_p99_ms - m.direct_p99_ms, 3) });
    return {
      metrics: {
        ...m,
        rps_ratio: round(m.clusterip_rps / m.direct_rps, 3),
        p99_delta_ms: round(m.clusterip_p99_ms - m.direct_p99_ms, 3),
        clusterip_rps_rounds: viaVip.map((r) => round(r.count / r.seconds, 0)),
        direct_rps_rounds: direct.map((r) => round(r.count / r.seconds, 0)),
        connections: CONNECTIONS,
      },
      targets: { clusterip_rps: ">= 0.7 x direct_rps", clusterip_p99_ms: "<= direct_p99_ms + 1" },
    };
  } finally {
    await env.cleanup();
  }
}
