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
 *
 * These figures are plain HTTP without authentication (`skiff server
 * --insecure`). With `--secure` the same measurements run again against a
 * secure server (the default: HTTPS, authentication, RBAC) as the admin
 * (client certificate, system:masters): `tls_*` metrics; then, on a fresh
 * secure server, creates and GETs as a token user (`--token-auth-file`)
 * whose only rights come from an `edit` RoleBinding in the namespace, so
 * every request is evaluated by RBAC beyond the system:masters shortcut:
 * `tls_rbac_*` metrics (issue 10: "creates/s and GET p99 within 20% of the
 * figures without them"). The load generator's TLS runs in this process, on
 * the same two cores as the server.
 *
 * `tls_rbac_creates_ratio` and `tls_rbac_get_p99_ratio` are those two
 * comparisons as ratios (RBAC user ÷ plain); with `rounds=N` after the
 * scenario name (`npm run bench -- api --secure rounds=3`) N − 1 more plain
 * and RBAC runs follow, back to back, each on fresh servers, and the ratios
 * are the medians of the N pairs: on a machine shared with other work the
 * absolute figures drift between runs more than the ratio of a close pair.
 * `*_server_cpu_us` is the server process's CPU time per request (Linux,
 * /proc), which other load on the machine disturbs far less than rates and
 * tail latencies; `tls_rbac_*_cpu_ratio` compares it the same way.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
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

/** How requests reach one server: its URL and a fetch carrying the credentials (TLS options, a bearer token). */
interface Target {
  base: string;
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** The server process's CPU time so far, in µs (Linux), for CPU per request. */
  cpuUs?(): number | undefined;
}

/** User + system CPU time of process `pid` in µs, from /proc (undefined where there is none). */
function processCpuUs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 (utime, stime) in clock ticks, counted from the state field (3).
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return undefined;
  }
}

/** `skiff server` on a free loopback port with `flags`; its URL once it serves. */
async function startSkiff(dir: string, flags: string[]): Promise<{ proc: ChildProcess; base: string }> {
  const server = await startChild(
    [join(ROOT, "core/cli/main.ts"), "server", "--data-dir", dir, "--listen", "127.0.0.1:0", ...flags],
    /"msg":"serving".*?"url":"(https?:\/\/[^"]+)"|"url":"(https?:\/\/[^"]+)".*?"msg":"serving"/,
  );
  return { proc: server.proc, base: server.match[1] ?? server.match[2]! };
}

/** A fetch with Bun's per-request TLS options and extra headers. */
function credentialed(base: string, tls: { ca: string; cert?: string; key?: string } | undefined, headers: Record<string, string> = {}, pid?: number): Target {
  return {
    base,
    cpuUs: () => processCpuUs(pid),
    fetch: (url, init = {}) =>
      fetch(url, {
        ...init,
        headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
        ...(tls ? { tls } : {}),
      } as RequestInit),
  };
}

/** The admin credentials a secure server wrote into its data dir. */
function adminTls(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => readFileSync(join(dir, "tls", n), "utf8");
  return { ca: f("ca.crt"), cert: f("admin.crt"), key: f("admin.key") };
}

const JSON_HEADERS = { "content-type": "application/json" };

/** Creates then GETs (and, with `full`, the list and watch measurements) against one server; metric names without prefix. */
async function measure(t: Target, opts: BenchOptions, label: string, full: boolean): Promise<Record<string, number>> {
  const q = opts.quick;
  const metrics: Record<string, number> = {};
  const creates = q ? 3000 : 20_000;
  const listSize = q ? 2000 : 10_000;
  const { base } = t;

  const createBodies = Array.from({ length: creates }, (_, i) => benchPod(`p${i}`, "bench", i));
  const cpu0 = t.cpuUs?.();
  const c = await drive(creates, async (i) => {
    const r = await t.fetch(`${base}/api/v1/namespaces/bench/pods`, { method: "POST", headers: JSON_HEADERS, body: createBodies[i]! });
    if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  });
  metrics.creates_per_s = Math.round(creates / (c.elapsedMs / 1000));
  metrics.create_p99_ms = round(percentiles(c.latency, [99])[0]!);
  const cpu1 = t.cpuUs?.();
  if (cpu0 !== undefined && cpu1 !== undefined) metrics.create_server_cpu_us = Math.round((cpu1 - cpu0) / creates);
  progress(NAME, `${label}creates`, { creates, per_s: metrics.creates_per_s, p99_ms: metrics.create_p99_ms });

  const gets = q ? 5000 : 20_000;
  const g = await drive(gets, async (i) => {
    const r = await t.fetch(`${base}/api/v1/namespaces/bench/pods/p${(i * 7919) % creates}`);
    if (r.status !== 200) throw new Error(`get: ${r.status}`);
    await r.arrayBuffer();
  });
  const cpu2 = t.cpuUs?.();
  if (cpu1 !== undefined && cpu2 !== undefined) metrics.get_server_cpu_us = Math.round((cpu2 - cpu1) / gets);
  const [g50, g99] = percentiles(g.latency, [50, 99]);
  metrics.get_p50_ms = round(g50!);
  metrics.get_p99_ms = round(g99!);
  progress(NAME, `${label}gets`, { gets, p50_ms: g50!, p99_ms: g99! });
  if (!full) return metrics;

  const listBodies = Array.from({ length: listSize }, (_, i) => benchPod(`l${i}`, "list", i));
  await drive(listSize, async (i) => {
    const r = await t.fetch(`${base}/api/v1/namespaces/list/pods`, { method: "POST", headers: JSON_HEADERS, body: listBodies[i]! });
    await r.arrayBuffer();
  });
  const lists: number[] = [];
  for (let k = 0; k < 6; k++) {
    const s = performance.now();
    const body = await (await t.fetch(`${base}/api/v1/namespaces/list/pods`)).arrayBuffer();
    if (k > 0) lists.push(performance.now() - s);
    if (k === 0) metrics.list_10k_bytes = body.byteLength;
  }
  metrics.list_10k_ms = round(percentiles(lists, [50])[0]!);
  progress(NAME, `${label}list`, { items: listSize, median_ms: metrics.list_10k_ms });

  // Watch latency: create → ADDED on an open watch.
  const rv = ((await (await t.fetch(`${base}/api/v1/namespaces/bench/pods?limit=1`)).json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const watch = await t.fetch(`${base}/api/v1/namespaces/bench/pods?watch=true&resourceVersion=${rv}`);
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
        const at = m ? issued.get(m[1]!) : undefined;
        if (at !== undefined) {
          hist.add(now - at);
          seen++;
        }
      }
    }
  })();
  const watchBodies = Array.from({ length: events }, (_, i) => benchPod(`w${i}`, "bench", i));
  for (let i = 0; i < events; i++) {
    const name = `w${i}`;
    issued.set(name, performance.now());
    void t.fetch(`${base}/api/v1/namespaces/bench/pods`, { method: "POST", headers: JSON_HEADERS, body: watchBodies[i]! }).then((r) => r.arrayBuffer());
    if (i % 5 === 4) await new Promise((r) => setTimeout(r, 10));
  }
  await reading;
  await reader.cancel();
  metrics.watch_p99_ms = round(hist.percentile(99));
  metrics.watch_p50_ms = round(hist.percentile(50));
  progress(NAME, `${label}watch`, { events: seen, p50_ms: metrics.watch_p50_ms, p99_ms: metrics.watch_p99_ms });
  return metrics;
}

/** The namespaces, each with the ServiceAccount the bench pods run as (admission requires it to exist). */
async function createNamespaces(t: Target, names: string[]): Promise<void> {
  const sa = (realisticPod("x", "x", 0) as { spec?: { serviceAccountName?: string } }).spec?.serviceAccountName;
  for (const name of names) {
    const r = await t.fetch(`${t.base}/api/v1/namespaces`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ metadata: { name } }) });
    if (r.status !== 201) throw new Error(`namespace ${name}: ${r.status} ${await r.text()}`);
    if (!sa || sa === "default") continue;
    const a = await t.fetch(`${t.base}/api/v1/namespaces/${name}/serviceaccounts`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ metadata: { name: sa } }) });
    if (a.status !== 201) throw new Error(`serviceaccount ${name}/${sa}: ${a.status} ${await a.text()}`);
  }
}

/** The plain server (`--insecure`): creates and GETs (and, with `full`, list and watch); metric names without prefix. */
async function plainRun(opts: BenchOptions, label: string, full: boolean): Promise<Record<string, number>> {
  return withTempDir(async (dir) => {
    const server = await startSkiff(dir, ["--insecure"]);
    try {
      const t = credentialed(server.base, undefined, {}, server.proc.pid);
      await createNamespaces(t, full ? ["bench", "list"] : ["bench"]);
      return await measure(t, opts, label, full);
    } finally {
      await stop(server.proc);
    }
  });
}

/**
 * A secure server, creates and GETs as a token user whose only rights come
 * from an `edit` RoleBinding in the namespace (RBAC evaluates every request).
 */
async function rbacRun(opts: BenchOptions, label: string): Promise<Record<string, number>> {
  return withTempDir(async (dir) => {
    const token = `bench-${crypto.randomUUID()}`;
    writeFileSync(join(dir, "tokens.csv"), `${token},bench-user,2001\n`, { mode: 0o600 });
    const server = await startSkiff(dir, ["--token-auth-file", join(dir, "tokens.csv")]);
    try {
      const tls = adminTls(dir);
      const admin = credentialed(server.base, tls);
      await createNamespaces(admin, ["bench"]);
      const binding = {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "bench-user-edit", namespace: "bench" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "bench-user" }],
      };
      const rb = await admin.fetch(`${server.base}/apis/rbac.authorization.k8s.io/v1/namespaces/bench/rolebindings`, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(binding) });
      if (rb.status !== 201) throw new Error(`rolebinding: ${rb.status} ${await rb.text()}`);
      const user = credentialed(server.base, { ca: tls.ca }, { authorization: `Bearer ${token}` }, server.proc.pid);
      // Not system:masters: nothing outside the namespace, until the binding is seen nothing inside it either.
      const outside = await user.fetch(`${server.base}/api/v1/namespaces/default/pods`);
      if (outside.status !== 403) throw new Error(`the token user should be forbidden outside its namespace, got ${outside.status}`);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const r = await user.fetch(`${server.base}/api/v1/namespaces/bench/pods?limit=1`);
        await r.arrayBuffer();
        if (r.status === 200) break;
        if (Date.now() > deadline) throw new Error(`the edit RoleBinding did not take effect: ${r.status}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      return await measure(user, opts, label, false);
    } finally {
      await stop(server.proc);
    }
  });
}

function ratio(a: number | undefined, b: number | undefined): number {
  return a !== undefined && b ? a / b : Number.NaN;
}

export async function main(args: string[], opts: BenchOptions): Promise<BenchResult> {
  const secure = opts.secure === true || args.includes("--secure");
  // `rounds=N` (after the scenario name): N plain/RBAC pairs in all, for the ratios' medians.
  const rounds = Math.max(1, Number(/^rounds=(\d+)$/.exec(args.find((a) => a.startsWith("rounds=")) ?? "")?.[1] ?? 1));
  const metrics: Record<string, number> = {};

  const ceiling = await startChild([join(ROOT, "bench/lib/bare-hono.ts")], /listening (\d+)/);
  try {
    const url = `http://127.0.0.1:${ceiling.match[1]}/ping`;
    const n = opts.quick ? 10_000 : 60_000;
    const r = await drive(n, async () => void (await (await fetch(url)).arrayBuffer()));
    metrics.ceiling_rps = Math.round(n / (r.elapsedMs / 1000));
    progress(NAME, "ceiling", { requests: n, rps: metrics.ceiling_rps });
  } finally {
    await stop(ceiling.proc);
  }

  // Plain HTTP, no authentication: the figures the secure runs are compared with.
  Object.assign(metrics, await plainRun(opts, "", true));

  if (secure) {
    // HTTPS, authentication and RBAC (the default server) as the admin: client certificate, system:masters.
    await withTempDir(async (dir) => {
      const server = await startSkiff(dir, []);
      try {
        if (!server.base.startsWith("https:")) throw new Error(`expected an https server, got ${server.base}`);
        const t = credentialed(server.base, adminTls(dir), {}, server.proc.pid);
        await createNamespaces(t, ["bench", "list"]);
        for (const [k, v] of Object.entries(await measure(t, opts, "tls-admin-", true))) metrics[`tls_${k}`] = v;
      } finally {
        await stop(server.proc);
      }
    });
    // The same, as a token user whose rights come from an `edit` RoleBinding: RBAC evaluates every request.
    for (const [k, v] of Object.entries(await rbacRun(opts, "tls-rbac-"))) metrics[`tls_rbac_${k}`] = v;

    // Further rounds, plain then RBAC back to back (the machine's other load drifts): the ratios' medians.
    const ratios = {
      creates: [ratio(metrics.tls_rbac_creates_per_s, metrics.creates_per_s)],
      getP99: [ratio(metrics.tls_rbac_get_p99_ms, metrics.get_p99_ms)],
      createCpu: [ratio(metrics.tls_rbac_create_server_cpu_us, metrics.create_server_cpu_us)],
      getCpu: [ratio(metrics.tls_rbac_get_server_cpu_us, metrics.get_server_cpu_us)],
    };
    for (let r = 2; r <= rounds; r++) {
      const plain = await plainRun(opts, `round${r}-`, false);
      const rbac = await rbacRun(opts, `round${r}-tls-rbac-`);
      ratios.creates.push(ratio(rbac.creates_per_s, plain.creates_per_s));
      ratios.getP99.push(ratio(rbac.get_p99_ms, plain.get_p99_ms));
      ratios.createCpu.push(ratio(rbac.create_server_cpu_us, plain.create_server_cpu_us));
      ratios.getCpu.push(ratio(rbac.get_server_cpu_us, plain.get_server_cpu_us));
      progress(NAME, `round${r}`, { creates_ratio: ratios.creates.at(-1)!, get_p99_ratio: ratios.getP99.at(-1)! });
    }
    metrics.rounds = rounds;
    metrics.tls_rbac_creates_ratio = round(percentiles(ratios.creates, [50])[0]!);
    metrics.tls_rbac_get_p99_ratio = round(percentiles(ratios.getP99, [50])[0]!);
    metrics.tls_rbac_create_cpu_ratio = round(percentiles(ratios.createCpu, [50])[0]!);
    metrics.tls_rbac_get_cpu_ratio = round(percentiles(ratios.getCpu, [50])[0]!);
  }

  const ordered: Record<string, number> = {};
  const first = ["creates_per_s", "create_p99_ms", "get_p50_ms", "get_p99_ms", "list_10k_ms", "watch_p99_ms", "ceiling_rps"];
  for (const k of first) ordered[k] = metrics[k]!;
  if (secure) for (const k of ["tls_rbac_creates_per_s", "tls_rbac_get_p99_ms", "tls_rbac_creates_ratio", "tls_rbac_get_p99_ratio", "rounds", "tls_creates_per_s", "tls_get_p99_ms"]) ordered[k] = metrics[k]!;
  return {
    metrics: { ...ordered, ...metrics },
    targets: {
      creates_per_s: ">= 5000",
      create_p99_ms: "<= 20",
      list_10k_ms: "<= 200",
      ...(secure
        ? { tls_rbac_creates_per_s: ">= 0.8 × creates_per_s", tls_rbac_get_p99_ms: "<= 1.2 × get_p99_ms", tls_rbac_creates_ratio: ">= 0.8", tls_rbac_get_p99_ratio: "<= 1.2" }
        : {}),
    },
  };
}
