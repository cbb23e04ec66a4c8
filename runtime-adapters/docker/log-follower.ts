/**
 * @module Copies a container's output from Docker's own log (the
 * `/containers/{id}/logs` stream, with Docker's timestamps) into the CRI
 * log file at `ContainerConfig.logPath`, which the node agent reads.
 *
 * Resuming without duplicates: before it asks Docker for anything, a
 * follower reads the last records of the file (or of its newest rotated
 * sibling) and asks with `since=<last time>`; Docker's `since` is
 * inclusive, so records stamped exactly that time are skipped as many times
 * as the file already holds them. Docker stamps each line with nanoseconds
 * (fixed 9 digits), which are kept as the record's time.
 *
 * The file is opened for every append, so renaming it (the agent's log
 * rotation) needs no reopen: the next append creates a fresh file.
 */
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { appendFile, open, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { formatCriRecords, parseCriRecord, type LogStream } from "../../core/runtime/cri-log.ts";
import { Demuxer, type Engine } from "./engine.ts";

export interface FollowOptions {
  engine: Engine;
  containerId: string;
  logPath: string;
  /** The container has a TTY: the stream is raw (stdout only), not multiplexed. */
  tty: boolean;
  /** Keep following until the container stops (false: copy what is there and end). */
  follow: boolean;
  onError?: (e: unknown) => void;
}

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
const TAIL_BYTES = 64 * 1024;

/** The last record time in the file and how many records at its end carry it. */
async function lastWritten(logPath: string): Promise<{ time: string; count: number } | null> {
  let path = logPath;
  if (!(await stat(logPath).catch(() => null))?.size) {
    // Rotated away (renamed to `<name>.<stamp>`): the newest sibling has the last records.
    const dir = dirname(logPath);
    const base = `${basename(logPath)}.`;
    const rotated = existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(base)).sort() : [];
    if (rotated.length === 0) return null;
    path = join(dir, rotated.at(-1)!);
  }
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, TAIL_BYTES);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const lines = buf.toString("utf8").split("\n").filter(Boolean);
    let time: string | undefined;
    let count = 0;
    for (let i = lines.length - 1; i >= 0; i--) {
      const r = parseCriRecord(lines[i]!);
      if (!r || !TIME.test(r.time)) continue;
      if (time === undefined) time = r.time;
      if (r.time !== time) break;
      count++;
    }
    return time ? { time, count } : null;
  } finally {
    await fh.close();
  }
}

/** Docker's `since` for an RFC 3339 nano time: `<unix seconds>.<nanos>`. */
function sinceParam(time: string): string {
  const secs = Math.floor(Date.parse(`${time.slice(0, 19)}Z`) / 1000);
  return `${secs}.${time.slice(20, 29)}`;
}

export class LogFollower {
  readonly done: Promise<void>;
  readonly #abort = new AbortController();
  #writes: Promise<void> = Promise.resolve();

  constructor(private readonly o: FollowOptions) {
    this.done = this.#run().catch((e) => {
      if (!this.#abort.signal.aborted) o.onError?.(e);
    });
  }

  stop(): void {
    this.#abort.abort();
  }

  async #run(): Promise<void> {
    const { engine, containerId, logPath, tty, follow } = this.o;
    const last = await lastWritten(logPath);
    let skipTime = last?.time;
    let skipCount = last?.count ?? 0;
    const res = await engine.open("GET", `/containers/${containerId}/logs`, {
      query: { follow: follow ? 1 : 0, stdout: 1, stderr: 1, timestamps: 1, ...(last ? { since: sinceParam(last.time) } : {}) },
      signal: this.#abort.signal,
    });
    if ((res.statusCode ?? 0) >= 300) {
      res.resume();
      throw new Error(`logs of ${containerId}: HTTP ${res.statusCode}`);
    }
    mkdirSync(dirname(logPath), { recursive: true });
    let out = "";
    const record = (stream: LogStream, line: string) => {
      const sp = line.indexOf(" ");
      const time = sp > 0 ? line.slice(0, sp) : "";
      if (!TIME.test(time)) return;
      if (skipTime !== undefined) {
        if (time < skipTime) return;
        if (time === skipTime && skipCount > 0) {
          skipCount--;
          return;
        }
      }
      const text = line.slice(sp + 1);
      // formatCriRecords stamps with ms; put Docker's nanosecond time in its place.
      const ms = Date.parse(`${time.slice(0, 23)}Z`);
      const placeholder = formatCriRecords(ms, stream, "x").indexOf(" ");
      out += formatCriRecords(ms, stream, text)
        .split("\n")
        .filter(Boolean)
        .map((l) => `${time}${l.slice(placeholder)}\n`)
        .join("");
    };
    let raw = "";
    const demux = new Demuxer((id, payload) => record(id === 2 ? "stderr" : "stdout", payload.toString("utf8")));
    const flush = () => {
      if (!out) return;
      const data = out;
      out = "";
      this.#writes = this.#writes.then(() => appendFile(logPath, data)).catch((e) => this.o.onError?.(e));
    };
    try {
      for await (const chunk of res) {
        if (tty) {
          raw += (chunk as Buffer).toString("utf8");
          let nl: number;
          while ((nl = raw.indexOf("\n")) >= 0) {
            record("stdout", `${raw.slice(0, nl).replace(/\r$/, "")}\n`);
            raw = raw.slice(nl + 1);
          }
        } else {
          demux.push(chunk as Buffer);
        }
        flush();
      }
      if (raw) record("stdout", raw);
    } finally {
      flush();
      await this.#writes;
    }
  }
}
