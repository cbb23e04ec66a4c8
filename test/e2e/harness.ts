/**
 * Starts a real `skiff server` child process (on Bun, Node or Deno) on a free
 * loopback port with a fresh data dir, and runs kubectl against it with a fresh
 * HOME. Everything is stopped and removed by `stop()`.
 *
 * Servers are secure by default (https, authentication, RBAC): kubectl uses
 * the kernel-written admin kubeconfig, and `s.fetch` / `s.client()` carry
 * the cluster CA and the admin client certificate from it. A suite that
 * exercises plain HTTP passes `--insecure`; `SKIFF_E2E_INSECURE=1` runs every
 * suite against `--insecure` servers (and `SKIFF_E2E_SECURE=1` adds
 * `--secure` explicitly), so a suite can be checked in both modes.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { httpClient } from "../../core/client/fetch-client.ts";
import type { Client } from "../../core/client/types.ts";

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

/** The CA to trust and, for a user, a client certificate (PEM). */
export interface TlsCredentials {
  ca: string;
  cert?: string;
  key?: string;
}

export interface TestServer {
  url: string;
  dir: string;
  kubeconfig: string;
  /** https with authentication and RBAC (the default); false for `--insecure`. */
  secure: boolean;
  /** When secure: the cluster CA and the admin (system:masters) client certificate, from the kubeconfig. */
  adminTls?: Required<TlsCredentials>;
  /**
   * `fetch` against the server as the admin: `path` is "/api/…" or a full
   * URL. When secure the request trusts the cluster CA and presents the admin
   * certificate; `as` replaces the credentials (`{ ca }` alone: anonymous).
   */
  fetch(path: string, init?: RequestInit, as?: TlsCredentials): Promise<Response>;
  /** A Skiff client for the server as the admin (or as `as`). */
  client(o?: { fieldManager?: string; as?: TlsCredentials; token?: string }): Client;
  /** The token an agent joins with: the server's K10 join token when secure (`<data>/token`); when not, any token works. */
  joinToken(): string;
  runtime: Runtime;
  proc: ChildProcess;
  /** What the server has written to stderr so far (its log). */
  log(): string;
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

/**
 * `fetch` with the given TLS credentials (Bun's per-request `tls` option;
 * the test process is always Bun). Plain `fetch` without credentials.
 */
export function fetchWith(tls: TlsCredentials | undefined, input: string | Request, init: RequestInit = {}): Promise<Response> {
  if (!tls) return fetch(input, init);
  return fetch(input, { ...init, tls: { ca: tls.ca, ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}) } } as RequestInit);
}

/** The CA and client certificate of a kubeconfig written by the kernel (undefined for an http one). */
export function kubeconfigTls(file: string): Required<TlsCredentials> | undefined {
  const kc = parseYaml(readFileSync(file, "utf8")) as {
    clusters: { cluster: { server: string; "certificate-authority-data"?: string } }[];
    users: { user?: { "client-certificate-data"?: string; "client-key-data"?: string } }[];
  };
  const cluster = kc.clusters[0]!.cluster;
  const user = kc.users[0]?.user;
  if (!cluster.server.startsWith("https:")) return undefined;
  const b64 = (v?: string) => Buffer.from(v ?? "", "base64").toString("utf8");
  return { ca: b64(cluster["certificate-authority-data"]), cert: b64(user?.["client-certificate-data"]), key: b64(user?.["client-key-data"]) };
}

/** The extra `skiff server` flags the environment asks for: SKIFF_E2E_INSECURE=1 → --insecure, SKIFF_E2E_SECURE=1 → --secure (unless the suite chose). */
function modeFlags(extraArgs: string[]): string[] {
  if (extraArgs.includes("--secure") || extraArgs.includes("--insecure")) return [];
  if (process.env.SKIFF_E2E_INSECURE === "1") return ["--insecure"];
  if (process.env.SKIFF_E2E_SECURE === "1") return ["--secure"];
  return [];
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
  // kubectl uses the kernel-written kubeconfig either way.
  const proc = spawn(cmd!, [...args, "server", "--data-dir", join(dir, "data"), "--listen", "127.0.0.1:0", ...modeFlags(extraArgs), ...extraArgs], {
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
  const adminTls = kubeconfigTls(kubeconfig);
  const secure = url.startsWith("https:");
  if (secure !== (adminTls !== undefined)) throw new Error(`the kubeconfig does not match the server ${url}`);
  const toUrl = (p: string) => (/^https?:\/\//.test(p) ? p : url + p);
  return {
    url,
    dir,
    kubeconfig,
    secure,
    ...(adminTls ? { adminTls } : {}),
    fetch: (p, init, as) => fetchWith(as ?? adminTls, toUrl(p), init),
    client(o = {}) {
      const tls = o.as ?? adminTls;
      return httpClient({
        server: url,
        ...(tls ? { fetch: (req: Request) => fetchWith(tls, req) } : {}),
        ...(o.token ? { token: o.token } : {}),
        fieldManager: o.fieldManager ?? "e2e",
      });
    },
    joinToken() {
      return secure ? readFileSync(join(dir, "data", "token"), "utf8").trim() : "insecure-server-takes-any-token";
    },
    runtime,
    proc,
    log: () => stderr,
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
