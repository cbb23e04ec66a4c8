/**
 * @module Scenario `startup`: `skiff server` from process start to `/readyz`
 * answering 200, on Bun (the reference), Node (tsx) and Deno, each with a fresh
 * data dir; and the Bun server's RSS after 10 s idle (`--quick`: 2 s). The
 * runtimes are started directly (not through npx). On Bun that is what
 * `npm start` runs: the start-up bundle `dist/skiff.js` with its bytecode
 * (built first when stale, outside the timing; see `scripts/build.ts`).
 * `ready_ms_source` is the same start from the TypeScript sources, side by
 * side, for reference. The
 * server runs its defaults, so a fresh start includes creating the cluster
 * CA and certificates, and `/readyz` (open to anonymous clients) is polled
 * over HTTPS without verifying the new CA.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBundle, bundleFresh } from "../scripts/build.ts";
import { type BenchOptions, type BenchResult, progress, round, sleep, withTempDir } from "./lib/common.ts";

const NAME = "startup";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(ROOT, "core/cli/main.ts");
const BUNDLE = join(ROOT, "dist/skiff.js");

type Variant = "bun" | "source" | "node" | "deno";
const BIN = join(ROOT, "node_modules/.bin");

function command(runtime: Variant): string[] {
  if (runtime === "bun") return [process.execPath, BUNDLE];
  if (runtime === "source") return [process.execPath, MAIN];
  if (runtime === "node") return ["node", "--import", "tsx", MAIN];
  return [join(BIN, "deno"), "run", "--allow-all", MAIN];
}

async function readyAfter(runtime: Variant, dir: string, port: number): Promise<{ ms: number; proc: ChildProcess }> {
  const [cmd, ...args] = command(runtime);
  const t0 = performance.now();
  const proc = spawn(cmd!, [...args, "server", "--data-dir", dir, "--listen", `127.0.0.1:${port}`], {
    cwd: ROOT,
    stdio: "ignore",
    env: { ...process.env, SKIFF_LOG_LEVEL: "warn" },
  });
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${runtime} server exited ${proc.exitCode}`);
    try {
      const r = await fetch(`https://127.0.0.1:${port}/readyz`, { tls: { rejectUnauthorized: false } } as RequestInit);
      if (r.status === 200) return { ms: performance.now() - t0, proc };
    } catch {
      /* not listening yet */
    }
    await sleep(2);
  }
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await exited;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export async function main(_args: string[], opts: BenchOptions): Promise<BenchResult> {
  const metrics: Record<string, number> = {};
  const port = 17000 + Math.floor(Math.random() * 1000);
  if (!bundleFresh()) {
    const built = await buildBundle();
    progress(NAME, "built the bundle", { ms: Math.round(built.ms) });
  }
  for (const runtime of ["bun", "source", "node", "deno"] as const) {
    const runs: number[] = [];
    for (let i = 0; i < (opts.quick ? 1 : 3); i++) {
      await withTempDir(async (dir) => {
        const { ms, proc } = await readyAfter(runtime, dir, port);
        runs.push(ms);
        if (runtime === "bun" && i === 0) {
          await sleep(opts.quick ? 2000 : 10_000);
          metrics.idle_rss_mb = round(rssMb(proc.pid!), 1);
        }
        await stop(proc);
      });
    }
    runs.sort((a, b) => a - b);
    const median = round(runs[Math.floor(runs.length / 2)]!, 1);
    metrics[runtime === "bun" ? "ready_ms" : `ready_ms_${runtime}`] = median;
    progress(NAME, runtime, { runs: runs.length, median_ms: median });
  }
  return {
    metrics: { ready_ms: metrics.ready_ms!, idle_rss_mb: metrics.idle_rss_mb!, ready_ms_source: metrics.ready_ms_source!, ready_ms_node: metrics.ready_ms_node!, ready_ms_deno: metrics.ready_ms_deno! },
    targets: { ready_ms: "<= 300", idle_rss_mb: "<= 80" },
  };
}
