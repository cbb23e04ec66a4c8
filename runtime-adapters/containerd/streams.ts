/**
 * @module Byte plumbing of the containerd adapter: `ctr tasks exec` as a
 * child process for exec with stdin (CRI's ExecSync has no stdin) or a TTY
 * (under Bun's pseudo-terminal, so ctr sees a console and forwards resizes),
 * and `ctr images import` fed from a counting stream. Port-forward's TCP
 * streams are core/runtime/tcp-stream.ts.
 */
import { spawn } from "node:child_process";
import { createReadStream, statSync } from "node:fs";
import type { ExecOptions, ImportProgress } from "../../core/runtime/adapter.ts";
import { attachPipes, execInTerminal } from "../../core/runtime/child-exec.ts";

export interface CtrTarget {
  /** containerd's socket. */
  socket: string;
  /** containerd namespace (CRI's is `k8s.io`). */
  namespace: string;
  /** The `ctr` binary. */
  ctr: string;
}

function runCtr(t: CtrTarget, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(t.ctr, ["-a", t.socket, "-n", t.namespace, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? 1, out, err }));
  });
}

/**
 * Runs `command` in container `id` as a new process of its task (`ctr tasks
 * exec`): the container's environment, user, cgroup and namespaces, as CRI's
 * exec. Stdin is piped and closed at its end (ctr closes the process's stdin).
 * Aborting kills the process (`ctr tasks kill --exec-id … -s KILL`); the
 * result is then 137.
 */
export async function ctrExec(t: CtrTarget, id: string, command: string[], opts: ExecOptions): Promise<number> {
  const execId = `skiff-exec-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const args = ["-a", t.socket, "-n", t.namespace, "tasks", "exec", "--exec-id", execId, ...(opts.tty ? ["--tty"] : []), id, ...command];
  let aborted = false;
  const kill = () => {
    aborted = true;
    void runCtr(t, ["tasks", "kill", "--exec-id", execId, "--signal", "SIGKILL", id]).catch(() => undefined);
  };
  if (opts.signal?.aborted) return 137;
  opts.signal?.addEventListener("abort", kill, { once: true });
  try {
    const code = opts.tty ? await ctrExecTty(t.ctr, args, opts) : await ctrExecPiped(t.ctr, args, opts);
    return aborted ? 137 : code;
  } finally {
    opts.signal?.removeEventListener("abort", kill);
  }
}

function ctrExecPiped(ctr: string, args: string[], opts: ExecOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(ctr, args, { stdio: ["pipe", "pipe", "pipe"] });
    const delivered = attachPipes(child, opts);
    child.once("error", reject);
    child.once("close", (code) => void delivered.then(() => resolve(code ?? 1)));
  });
}

function ctrExecTty(ctr: string, args: string[], opts: ExecOptions): Promise<number> {
  // Aborting is ctrExec's `tasks kill`, not a kill of the ctr client.
  const { signal: _abortedElsewhere, ...rest } = opts;
  return execInTerminal([ctr, ...args], rest);
}

/**
 * Imports an OCI-layout or docker-save archive into containerd (`ctr images
 * import -`, reading the archive from a pipe so the bytes consumed are the
 * progress) and resolves with the names it unpacked.
 */
export function ctrImport(t: CtrTarget, archivePath: string, onProgress?: (p: ImportProgress) => void): Promise<string[]> {
  const total = statSync(archivePath).size;
  return new Promise((resolve, reject) => {
    const child = spawn(t.ctr, ["-a", t.socket, "-n", t.namespace, "images", "import", "-"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let done = 0;
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdin.on("error", () => undefined);
    const input = createReadStream(archivePath);
    input.on("data", (chunk) => {
      done += chunk.length;
      // The last bytes count once ctr has finished with them (unpacked).
      if (done < total) onProgress?.({ done, total });
    });
    input.on("error", (e) => {
      child.kill("SIGKILL");
      reject(e);
    });
    input.pipe(child.stdin);
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`importing ${archivePath} failed: ${(err || out).trim().split("\n").at(-1) ?? `ctr exited ${code}`}`));
      const names = [...out.matchAll(/^unpacking (\S+) \(/gm)].map((m) => m[1]!);
      if (names.length === 0) return reject(new Error(`${archivePath} held no image with a name`));
      onProgress?.({ done: total, total });
      resolve(names);
    });
  });
}
