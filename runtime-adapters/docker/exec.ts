/**
 * @module `exec` and `portForward` of the docker runtime. Exec uses the
 * Engine API's exec endpoints on a hijacked connection: stdin is written to
 * the socket and half-closed at its end; output is the multiplexed stream
 * (raw with a TTY); the exit code comes from the exec's inspect. Docker has
 * no endpoint to kill an exec, so aborting SIGKILLs the exec's host pid.
 */
import net from "node:net";
import type { ExecOptions } from "../../core/runtime/adapter.ts";
import { Demuxer, type Engine } from "./engine.ts";

async function pump(from: ReadableStream<Uint8Array>, socket: net.Socket): Promise<void> {
  const reader = from.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!socket.write(value)) await new Promise((r) => socket.once("drain", r));
    }
  } finally {
    reader.releaseLock();
    socket.end();
  }
}

export async function dockerExec(engine: Engine, containerId: string, command: string[], opts: ExecOptions): Promise<number> {
  if (command.length === 0) throw new Error("no command given");
  const tty = opts.tty ?? false;
  const { Id: execId } = await engine.json("POST", `/containers/${containerId}/exec`, {
    body: { AttachStdin: !!opts.stdin, AttachStdout: true, AttachStderr: true, Tty: tty, Cmd: command },
  });
  if (opts.signal?.aborted) return 137;
  const { socket, head } = await engine.hijack(`/exec/${execId}/start`, { Detach: false, Tty: tty });
  const writers = {
    stdout: opts.stdout?.getWriter(),
    stderr: opts.stderr?.getWriter(),
  };
  let writes: Promise<unknown> = Promise.resolve();
  const emit = (w: WritableStreamDefaultWriter<Uint8Array> | undefined, b: Buffer) => {
    if (w && b.length) {
      const copy = new Uint8Array(b);
      writes = writes.then(() => w.write(copy)).catch(() => undefined);
    }
  };
  const demux = new Demuxer((id, payload) => emit(id === 2 ? writers.stderr : writers.stdout, payload));
  const onData = (b: Buffer) => (tty ? emit(writers.stdout, b) : demux.push(b));

  let aborted = false;
  const onAbort = async () => {
    aborted = true;
    const info = await engine.json("GET", `/exec/${execId}/json`).catch(() => null);
    if (info?.Pid) {
      try {
        process.kill(info.Pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    socket.destroy();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const stopResize = (async () => {
    if (!tty || !opts.resize) return;
    for await (const s of opts.resize) {
      if (socket.destroyed) break;
      await engine.request("POST", `/exec/${execId}/resize`, { query: { h: s.height, w: s.width } }).catch(() => undefined);
    }
  })();
  void stopResize;
  try {
    const ended = new Promise<void>((resolve) => {
      socket.on("data", onData);
      socket.on("end", resolve);
      socket.on("close", () => resolve());
      socket.on("error", () => resolve());
    });
    if (head.length) onData(head);
    socket.resume();
    if (opts.stdin) void pump(opts.stdin, socket).catch(() => socket.end());
    else socket.end();
    await ended;
    await writes;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    socket.destroy();
    writers.stdout?.releaseLock();
    writers.stderr?.releaseLock();
  }
  // The output ended; the exec's exit code follows (shortly, once the process is reaped).
  for (let i = 0; i < 200; i++) {
    const info = await engine.json("GET", `/exec/${execId}/json`);
    if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return aborted && info.ExitCode === 0 ? 137 : info.ExitCode;
    await new Promise((r) => setTimeout(r, 25));
  }
  return aborted ? 137 : -1;
}

