/**
 * @module Byte plumbing of the process runtime: exec with pipes or a
 * pseudo-terminal (Bun's PTY). Port-forward's TCP streams are
 * core/runtime/tcp-stream.ts.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { ExecOptions } from "../../core/runtime/adapter.ts";

async function pump(from: ReadableStream<Uint8Array> | NodeJS.ReadableStream | null, to: WritableStream<Uint8Array> | undefined): Promise<void> {
  if (!from) return;
  const writer = to?.getWriter();
  try {
    if (from instanceof ReadableStream) {
      const r = from.getReader();
      for (;;) {
        const { done, value } = await r.read();
        if (done) break;
        if (writer) await writer.write(value);
      }
    } else {
      for await (const chunk of from as AsyncIterable<Buffer>) if (writer) await writer.write(new Uint8Array(chunk));
    }
  } finally {
    writer?.releaseLock();
  }
}

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
    const outs = [pump(child.stdout, opts.stdout), pump(child.stderr, opts.stderr)];
    child.stdin.on("error", () => undefined);
    if (opts.stdin) {
      void (async () => {
        const r = opts.stdin!.getReader();
        try {
          for (;;) {
            const { done, value } = await r.read();
            if (done) break;
            if (!child.stdin.write(value)) await new Promise((res) => child.stdin.once("drain", res));
          }
        } catch {
          /* the client went away */
        } finally {
          child.stdin.end();
        }
      })();
    } else {
      child.stdin.end();
    }
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      opts.signal?.removeEventListener("abort", kill);
      void Promise.allSettled(outs).then(() => resolvePromise(code ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
  });
}

export async function execTty(argv: string[], cwd: string | undefined, opts: ExecOptions): Promise<number> {
  const bun = (globalThis as { Bun?: typeof Bun }).Bun;
  if (!bun) throw new Error("exec with a TTY needs Bun");
  const writer = opts.stdout?.getWriter();
  const proc = bun.spawn(argv, {
    cwd: cwd && existsSync(cwd) ? cwd : "/",
    terminal: {
      cols: 80,
      rows: 24,
      data: (_t: unknown, data: Uint8Array) => void writer?.write(new Uint8Array(data)).catch(() => undefined),
    },
  } as Parameters<typeof Bun.spawn>[1]);
  const term = (proc as unknown as { terminal: { write(d: Uint8Array | string): void; resize?(c: number, r: number): void; close(): void } }).terminal;
  const kill = () => proc.kill("SIGKILL");
  opts.signal?.addEventListener("abort", kill, { once: true });
  if (opts.resize) {
    void (async () => {
      for await (const s of opts.resize!) term.resize?.(s.width, s.height);
    })().catch(() => undefined);
  }
  if (opts.stdin) {
    void (async () => {
      const r = opts.stdin!.getReader();
      for (;;) {
        const { done, value } = await r.read();
        if (done) break;
        term.write(value);
      }
    })().catch(() => undefined);
  }
  const code = await proc.exited;
  opts.signal?.removeEventListener("abort", kill);
  try {
    term.close();
  } catch {
    /* closed */
  }
  writer?.releaseLock();
  return code;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
function signalNumber(s: string): number {
  return SIGNALS[s] ?? 9;
}
