/**
 * Starts a real `skiff server` child process (on Bun, Node or Deno) on a free
 * loopback port with a fresh data dir, and runs kubectl against it with a fresh
 * HOME. Everything is stopped and removed by `stop()`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "..", "..");
const MAIN = join(ROOT, "core", "cli", "main.ts");
const BIN = join(ROOT, "node_modules", ".bin");

export type Runtime = "bun" | "node" | "deno";

function command(runtime: Runtime): string[] {
  switch (runtime) {
    case "bun":
      return [process.execPath, MAIN];
    case "node":
      return [process.env.SKIFF_NODE ?? "node", "--import", "tsx", MAIN];
    case "deno":
      return [join(BIN, "deno"), "run", "--allow-all", MAIN];
  }
}

export interface TestServer {
  url: string;
  dir: string;
  kubeconfig: string;
  runtime: Runtime;
  proc: ChildProcess;
  /** Runs kubectl; returns stdout, stderr and the exit code (never throws on non-zero). */
  kubectl(args: string[], opts?: { input?: string; env?: Record<string, string> }): { out: string; err: string; code: number };
  /** Runs kubectl and fails with its stderr unless it exits 0. */
  k(args: string[], opts?: { input?: string; env?: Record<string, string> }): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Reuse this directory (its `data/` is the data dir) and keep it on stop, to restart a server on the same data. */
  dir?: string;
}

/** A fresh temporary directory for `startServer({ dir })`; remove it with `rmSync`. */
export function tempDir(label = "skiff-e2e-"): string {
  return mkdtempSync(join(tmpdir(), label));
}

/** Runs the `skiff` CLI on Bun with the given arguments (never throws on a non-zero exit). */
export function skiff(args: string[], opts: { cwd?: string } = {}): { out: string; err: string; code: number } {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, SKIFF_LOG_LEVEL: "warn" },
  });
  return { out: r.stdout ?? "", err: r.stderr ?? String(r.error ?? ""), code: r.status ?? -1 };
}

export async function startServer(runtime: Runtime = "bun", extraArgs: string[] = [], startOpts: StartOptions = {}): Promise<TestServer> {
  const dir = startOpts.dir ?? mkdtempSync(join(tmpdir(), `skiff-e2e-${runtime}-`));
  const home = join(dir, "home");
  const [cmd, ...args] = command(runtime);
  // SKIFF_E2E_SECURE=1 runs any suite against `--secure` servers (kubectl uses the kernel-written kubeconfig either way).
  const secure = process.env.SKIFF_E2E_SECURE === "1" && !extraArgs.includes("--secure") ? ["--secure"] : [];
  const proc = spawn(cmd!, [...args, "server", "--data-dir", join(dir, "data"), "--listen", "127.0.0.1:0", ...secure, ...extraArgs], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, SKIFF_LOG_LEVEL: "info" },
  });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server on ${runtime} did not start: ${stderr}`)), 30_000);
    proc.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = /"msg":"serving"/.test(stderr) && /"url":"(https?:\/\/[^"]+)"/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server on ${runtime} exited with ${code}: ${stderr}`));
    });
  });
  proc.on("exit", (code, signal) => {
    if (code !== 0 && signal !== "SIGTERM" && signal !== "SIGKILL") {
      process.stderr.write(`skiff server (${runtime}) exited unexpectedly (${code ?? signal}):\n${stderr.slice(-4000)}\n`);
    }
  });
  const kubeconfig = join(dir, "data", "kubeconfig.yaml");
  if (!existsSync(kubeconfig)) throw new Error("kubeconfig.yaml was not written before ready");
  const kubectl: TestServer["kubectl"] = (a, o = {}) => {
    const r = spawnSync("kubectl", a, {
      input: o.input ?? "",
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? "", HOME: home, KUBECONFIG: kubeconfig, ...o.env },
    });
    return { out: r.stdout ?? "", err: r.stderr ?? String(r.error ?? ""), code: r.status ?? -1 };
  };
  return {
    url,
    dir,
    kubeconfig,
    runtime,
    proc,
    kubectl,
    k(a, o) {
      const r = kubectl(a, o);
      if (r.code !== 0) throw new Error(`kubectl ${a.join(" ")} exited ${r.code}: ${r.err}${r.out}`);
      return r.out;
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(t);
      }
      if (!startOpts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** kubectl must be on PATH: in CI it is part of the machine image; elsewhere tests say why they skip. */
export function haveKubectl(): boolean {
  return spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0;
}

/**
 * Polls `fn` until it returns something other than undefined or false (a
 * throw counts as not yet), or fails after `ms` naming `what` and the last error.
 */
export async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
