/**
 * @module Byte plumbing of the process runtime: exec with pipes or a
 * pseudo-terminal (Bun's PTY). Port-forward's TCP streams are
 * core/runtime/tcp-stream.ts.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { ExecOptions } from "../../core/runtime/adapter.ts";
import { attachPipes, execInTerminal } from "../../core/runtime/child-exec.ts";

export function execPiped(argv: string[], cwd: string | undefined, opts: ExecOptions): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: cwd && existsSync(cwd) ? cwd : "/", stdio: ["pipe", "pipe", "pipe"], detached: true });
    const kill = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    if (opts.signal?.aborted) kill();
    opts.signal?.addEventListener("abort", kill, { once: true });
    const delivered = attachPipes(child, opts);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      opts.signal?.removeEventListener("abort", kill);
      void delivered.then(() => resolvePromise(code ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
  });
}

export function execTty(argv: string[], cwd: string | undefined, opts: ExecOptions): Promise<number> {
  return execInTerminal(argv, { ...opts, cwd: cwd && existsSync(cwd) ? cwd : "/" });
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
function signalNumber(s: string): number {
  return SIGNALS[s] ?? 9;
}
