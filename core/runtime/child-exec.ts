/**
 * @module An exec session's bytes between a child process and the
 * `ExecOptions` streams, shared by runtimes that exec through a helper
 * command (the process runtime's `nsenter`, containerd's `ctr tasks exec`):
 *
 * - `attachPipes`: stdout and stderr into the writable streams (awaiting
 *   each write, so a slow client slows the child), stdin from the readable
 *   (pausing on the pipe's backpressure, ending the child's stdin at EOF).
 * - `execInTerminal`: the command under Bun's pseudo-terminal, so it sees a
 *   console; stdin is typed into it, resizes are forwarded, output is the
 *   terminal's (stdout only, as with a Kubernetes TTY).
 */
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import type { ExecOptions } from "./adapter.ts";

async function pump(from: ReadableStream<Uint8Array> | AsyncIterable<Buffer | Uint8Array> | null, to: WritableStream<Uint8Array> | undefined): Promise<void> {
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
      for await (const chunk of from) if (writer) await writer.write(new Uint8Array(chunk));
    }
  } finally {
    writer?.releaseLock();
  }
}

/** Connects a piped child to the session's streams; resolves when its output has been delivered. */
export function attachPipes(child: ChildProcessWithoutNullStreams, opts: ExecOptions): Promise<unknown> {
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
  return Promise.allSettled(outs);
}

/** Runs `argv` under a pseudo-terminal (Bun only) and resolves with its exit code; `signal` kills it. */
export async function execInTerminal(argv: string[], opts: ExecOptions & { cwd?: string }): Promise<number> {
  const bun = (globalThis as { Bun?: typeof Bun }).Bun;
  if (!bun) throw new Error("exec with a TTY needs Bun");
  const writer = opts.stdout?.getWriter();
  const proc = bun.spawn(argv, {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
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
