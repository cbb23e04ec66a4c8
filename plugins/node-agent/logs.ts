/**
 * @module `kubectl logs` on the node: reads a container's CRI log file
 * (`PodLogOptions`: tailLines, sinceSeconds/sinceTime, timestamps,
 * limitBytes, follow) and rotates log files that grow too big. Like the
 * kubelet, only the current file is read (rotated files are kept on disk for
 * the operator).
 */
import { existsSync } from "node:fs";
import { type FileHandle, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { type CriLogRecord, parseCriRecord } from "../../core/runtime/cri-log.ts";

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  /** Only records at or after this time (unix ms). */
  sinceMs?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

const encoder = new TextEncoder();
const FOLLOW_POLL_MS = 200;

/** Whole log lines (partial records joined), each with the time of its first record. */
function* lines(records: Iterable<CriLogRecord>): Generator<{ time: string; ms: number; text: string }> {
  const pending = new Map<string, { time: string; ms: number; text: string }>();
  for (const r of records) {
    const p = pending.get(r.stream);
    const line = p ?? { time: r.time, ms: r.ms, text: "" };
    line.text += r.text;
    if (r.partial) pending.set(r.stream, line);
    else {
      pending.delete(r.stream);
      yield line;
    }
  }
  for (const line of pending.values()) yield line;
}

function render(line: { time: string; text: string }, timestamps: boolean): string {
  return timestamps ? `${line.time} ${line.text}\n` : `${line.text}\n`;
}

function parseAll(text: string): CriLogRecord[] {
  const out: CriLogRecord[] = [];
  for (const l of text.split("\n")) {
    if (!l) continue;
    const r = parseCriRecord(l);
    if (r) out.push(r);
  }
  return out;
}

/**
 * The log as a byte stream. With `follow`, keeps reading what is appended
 * (also across a rotation) until `running()` says the container ended and
 * nothing more came, or `signal` aborts.
 */
export function readLog(path: string, opts: LogOptions, running: () => Promise<boolean>, signal?: AbortSignal): ReadableStream<Uint8Array> {
  let budget = opts.limitBytes ?? Infinity;
  let ended = false;
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const emit = (s: string): boolean => {
        if (budget <= 0 || ended) return false;
        let bytes = encoder.encode(s);
        if (bytes.length > budget) bytes = bytes.slice(0, budget);
        budget -= bytes.length;
        controller.enqueue(bytes);
        return budget > 0;
      };
      const finish = () => {
        if (ended) return;
        ended = true;
        try {
          controller.close();
        } catch {
          /* cancelled */
        }
      };
      try {
        let fh: FileHandle | undefined;
        let offset = 0;
        let ino = -1;
        let carry = "";
        const openCurrent = async (): Promise<boolean> => {
          await fh?.close().catch(() => undefined);
          fh = undefined;
          try {
            fh = await open(path, "r");
            ino = (await fh.stat()).ino;
            offset = 0;
            carry = "";
            return true;
          } catch {
            return false;
          }
        };
        const readMore = async (): Promise<string> => {
          if (!fh) return "";
          const size = (await fh.stat()).size;
          if (size <= offset) return "";
          const buf = Buffer.alloc(size - offset);
          const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
          offset += bytesRead;
          const text = carry + buf.subarray(0, bytesRead).toString("utf8");
          const cut = text.lastIndexOf("\n");
          carry = cut < 0 ? text : text.slice(cut + 1);
          return cut < 0 ? "" : text.slice(0, cut + 1);
        };
        await openCurrent();
        // The initial part: everything there now, filtered and tailed.
        let all = [...lines(parseAll(await readMore()))];
        if (opts.sinceMs !== undefined) all = all.filter((l) => !(l.ms < opts.sinceMs!));
        if (opts.tailLines !== undefined && opts.tailLines >= 0) all = opts.tailLines === 0 ? [] : all.slice(-opts.tailLines);
        for (const l of all) if (!emit(render(l, opts.timestamps ?? false))) break;
        if (!opts.follow || budget <= 0) {
          await fh?.close().catch(() => undefined);
          return finish();
        }
        let idleAfterExit = 0;
        while (!signal?.aborted && !ended && budget > 0) {
          const text = await readMore();
          if (text) {
            idleAfterExit = 0;
            for (const l of lines(parseAll(text))) {
              if (opts.sinceMs !== undefined && l.ms < opts.sinceMs) continue;
              if (!emit(render(l, opts.timestamps ?? false))) break;
            }
            continue;
          }
          // Rotated (a new file at the path) or recreated: continue with the new one.
          const st = await stat(path).catch(() => null);
          if (st && st.ino !== ino) {
            await openCurrent();
            continue;
          }
          if (!(await running())) {
            if (++idleAfterExit >= 2) break;
          }
          await new Promise<void>((r) => {
            const t = setTimeout(r, FOLLOW_POLL_MS);
            signal?.addEventListener("abort", () => (clearTimeout(t), r()), { once: true });
          });
        }
        await fh?.close().catch(() => undefined);
        finish();
      } catch (e) {
        if (!ended) {
          ended = true;
          controller.error(e);
        }
      }
    },
    cancel() {
      ended = true;
    },
  });
}

/** Reads a whole log stream into text (tests, termination messages). */
export async function logText(path: string, opts: LogOptions = {}): Promise<string> {
  if (!existsSync(path)) return "";
  return new Response(readLog(path, opts, async () => false)).text();
}

let rotations = 0;

/**
 * Rotates `path` when it is larger than `maxBytes`: renames it to
 * `<path>.<UTC time>` and keeps at most `maxFiles - 1` rotated files.
 * Returns true when it rotated (the runtime should then reopen the log).
 */
export async function rotateLog(path: string, maxBytes: number, maxFiles: number): Promise<boolean> {
  const st = await stat(path).catch(() => null);
  if (!st || st.size <= maxBytes) return false;
  // Sortable and unique enough: UTC time to the millisecond, then a counter.
  const stamp = `${new Date().toISOString().replace(/[-:]/g, "")}-${String(rotations++ % 1000).padStart(3, "0")}`;
  await rename(path, `${path}.${stamp}`);
  const dir = dirname(path);
  const base = basename(path);
  const rotated = (await readdir(dir)).filter((f) => f.startsWith(`${base}.`)).sort();
  for (const f of rotated.slice(0, Math.max(0, rotated.length - Math.max(0, maxFiles - 1)))) await rm(join(dir, f), { force: true });
  return true;
}
