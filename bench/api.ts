/**
 * @module Scenario `api`: the API server over HTTP on loopback, driven by 64
 * concurrent clients (fetch with keep-alive) from this process, the server in
 * a child process (`skiff server`, file-backed store, default durability).
 *
 * - creates_per_s, create_p99_ms: pod creates (POST, ~1 KB pods).
 * - get_p50_ms, get_p99_ms: GETs of random existing pods.
 * - list_10k_ms: median of 5 LISTs of one namespace holding 10,000 pods (body read in full).
 * - watch_p99_ms: one watch open; 1,000 pod creates at ~500/s; time from issuing the
 *   create to the ADDED event arriving on the watch.
 * - ceiling_rps: requests/s of a bare Hono route on the same runtime and serve path
 *   (bench/lib/bare-hono.ts), same 64 clients, measured in the same run.
 *
 * Request bodies are serialized before the clock starts, so the load
 * generator's own JSON work is neither in the latencies nor competing for the
 * two cores this runs on; each request still sends its own distinct pod.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchOptions, type BenchResult, Histogram, percentiles, progress, realisticPod, round, withTempDir } from "./lib/common.ts";

const NAME = "api";

/** A realistic pod without ownerReferences (an owner that does not exist would have it garbage-collected). */
function benchPod(name: string, ns: string, i: number): string {
  const p = realisticPod(name, ns, i);
  delete (p.metadata as { ownerReferences?: unknown }).ownerReferences;
  return JSON.stringify(p);
}
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLIENTS = 64;

async function startChild(args: string[], ready: RegExp): Promise<{ proc: ChildProcess; match: RegExpExecArray }> {
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SKIFF_LOG_LEVEL: "info" } });
  let out = "";
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const on = (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve(m);
    };
    proc.stdout!.on("data", on);
    proc.stderr!.on("data", on);
    proc.on("exit", (c) => reject(new Error(`child exited ${c}: ${out}`)));
  });
  return { proc, match };
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await exited;
}

/** Runs `total` requests from CLIENTS concurrent loops; returns latencies (ms) and elapsed ms. */
async function drive(total: number, one: (i: number) => Promise<void>): Promise<{ latency: Float64Array; elapsedMs: number }> {
  const latency = new Float64Array(total);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < total; i = next++) {
        const s = performance.now();
        await one(i);
        latency[i] = performance.now() - s;
      }
    }),
  );
  return { latency, elapsedMs: performance.now() - t0 };
}

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  const q = opts.quick;
  const metrics: Record<string, number> = {};
  const creates = q ? 3000 : 20_000;
  const listSize = q ? 2000 : 10_000;

  const ceiling = await startChild([join(ROOT, "bench/lib/bare-hono.ts")], /listening (\d+)/);
  try {
    const url = `http://127.0.0.1:${ceiling.match[1]}/ping`;
    const n = q ? 10_000 : 60_000;
    const r = await drive(n, async () => void (await (await fetch(url)).arrayBuffer()));
    metrics.ceiling_rps = Math.round(n / (r.elapsedMs / 1000));
    progress(NAME, "ceiling", { requests: n, rps: metrics.ceiling_rps });
  } finally {
    await stop(ceiling.proc);
  }

  await withTempDir(async (dir) => {
    const server = await startChild(
      [join(ROOT, "core/cli/main.ts"), "server", "--data-dir", dir, "--listen", "127.0.0.1:0"],
      /"msg":"serving".*?"url":"(http:\/\/[^"]+)"|"url":"(http:\/\/[^"]+)".*?"msg":"serving"/,
    );
    const base = server.match[1] ?? server.match[2]!;
    try {
      const json = { "content-type": "application/json" };
      const ns = async (name: string) => fetch(`${base}/api/v1/namespaces`, { method: "POST", headers: json, body: JSON.stringify({ metadata: { name } }) });
      await ns("bench");
      await ns("list");

      const createBodies = Array.from({ length: creates }, (_, i) => benchPod(`p${i}`, "bench", i));
      const c = await drive(creates, async (i) => {
        const r = await fetch(`${base}/api/v1/namespaces/bench/pods`, { method: "POST", headers: json, body: createBodies[i]! });
        if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      });
      metrics.creates_per_s = Math.round(creates / (c.elapsedMs / 1000));
      metrics.create_p99_ms = round(percentiles(c.latency, [99])[0]!);
      progress(NAME, "creates", { creates, per_s: metrics.creates_per_s, p99_ms: metrics.create_p99_ms });

      const gets = q ? 5000 : 20_000;
      const g = await drive(gets, async (i) => {
        const r = await fetch(`${base}/api/v1/namespaces/bench/pods/p${(i * 7919) % creates}`);
        if (r.status !== 200) throw new Error(`get: ${r.status}`);
        await r.arrayBuffer();
      });
      const [g50, g99] = percentiles(g.latency, [50, 99]);
      metrics.get_p50_ms = round(g50!);
      metrics.get_p99_ms = round(g99!);
      progress(NAME, "gets", { gets, p50_ms: g50!, p99_ms: g99! });

      const listBodies = Array.from({ length: listSize }, (_, i) => benchPod(`l${i}`, "list", i));
      await drive(listSize, async (i) => {
        const r = await fetch(`${base}/api/v1/namespaces/list/pods`, { method: "POST", headers: json, body: listBodies[i]! });
        await r.arrayBuffer();
      });
      const lists: number[] = [];
      for (let k = 0; k < 6; k++) {
        const s = performance.now();
        const body = await (await fetch(`${base}/api/v1/namespaces/list/pods`)).arrayBuffer();
        if (k > 0) lists.push(performance.now() - s);
        if (k === 0) metrics.list_10k_bytes = body.byteLength;
      }
      metrics.list_10k_ms = round(percentiles(lists, [50])[0]!);
      progress(NAME, "list", { items: listSize, median_ms: metrics.list_10k_ms });

      // Watch latency: create → ADDED on an open watch.
      const rv = ((await (await fetch(`${base}/api/v1/namespaces/bench/pods?limit=1`)).json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
      const watch = await fetch(`${base}/api/v1/namespaces/bench/pods?watch=true&resourceVersion=${rv}`);
      const reader = watch.body!.getReader();
      const issued = new Map<string, number>();
      const hist = new Histogram(0.01, 5000);
      const events = q ? 300 : 1000;
      let seen = 0;
      const reading = (async () => {
        let buf = "";
        const dec = new TextDecoder();
        while (seen < events) {
          const { value, done } = await reader.read();
          if (done) break;
          const now = performance.now();
          buf += dec.decode(value, { stream: true });
          let i: number;
          while ((i = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (!line.trim()) continue;
            const m = /"name":"(w\d+)"/.exec(line);
            const t = m ? issued.get(m[1]!) : undefined;
            if (t !== undefined) {
              hist.add(now - t);
              seen++;
            }
          }
        }
      })();
      const watchBodies = Array.from({ length: events }, (_, i) => benchPod(`w${i}`, "bench", i));
      for (let i = 0; i < events; i++) {
        const name = `w${i}`;
        issued.set(name, performance.now());
        void fetch(`${base}/api/v1/namespaces/bench/pods`, { method: "POST", headers: json, body: watchBodies[i]! }).then((r) => r.arrayBuffer());
        if (i % 5 === 4) await new Promise((r) => setTimeout(r, 10));
      }
      await reading;
      await reader.cancel();
      metrics.watch_p99_ms = round(hist.percentile(99));
      metrics.watch_p50_ms = round(hist.percentile(50));
      progress(NAME, "watch", { events: seen, p50_ms: metrics.watch_p50_ms, p99_ms: metrics.watch_p99_ms });
    } finally {
      await stop(server.proc);
    }
  });

  const ordered: Record<string, number> = {};
  for (const k of ["creates_per_s", "create_p99_ms", "get_p50_ms", "get_p99_ms", "list_10k_ms", "watch_p99_ms", "ceiling_rps"]) ordered[k] = metrics[k]!;
  return {
    metrics: { ...ordered, ...metrics },
    targets: { creates_per_s: ">= 5000", create_p99_ms: "<= 20", list_10k_ms: "<= 200" },
  };
}
