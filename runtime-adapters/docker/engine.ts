/**
 * @module A small Docker Engine API client over its unix socket: plain
 * requests and streamed responses through `node:http` (`socketPath`), and
 * hijacked connections (exec with stdin) over a raw `node:net` socket, since
 * an HTTP client cannot hand back the connection after a `101 UPGRADED`.
 * Both work the same on Bun, Node and Deno. Also the multiplexed stream
 * decoder (`Content-Type: application/vnd.docker.multiplexed-stream`).
 */
import http from "node:http";
import net from "node:net";
import type { Readable } from "node:stream";

/** API version pinned in every path: Docker 20.10 speaks 1.41, newer engines accept it. */
export const API_VERSION = "v1.41";

/** A non-2xx answer of the Engine API, with its `message`. */
export class EngineError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** A request body streamed as is (e.g. an image archive). */
  stream?: Readable;
  signal?: AbortSignal;
}

function path(p: string, query?: RequestOptions["query"]): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return `/${API_VERSION}${p}${s ? `?${s}` : ""}`;
}

export class Engine {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  constructor(readonly socketPath: string) {}

  /** Sends a request; resolves with the response once its headers arrived (the body unread). */
  open(method: string, p: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { host: "docker", ...opts.headers };
      let payload: string | undefined;
      if (opts.body !== undefined) {
        payload = JSON.stringify(opts.body);
        headers["content-type"] = "application/json";
        headers["content-length"] = String(Buffer.byteLength(payload));
      }
      const req = http.request({ socketPath: this.socketPath, method, path: path(p, opts.query), headers, agent: this.#agent, ...(opts.signal ? { signal: opts.signal } : {}) }, resolve);
      req.on("error", reject);
      if (opts.stream) {
        opts.stream.on("error", (e) => req.destroy(e));
        opts.stream.pipe(req);
      } else {
        req.end(payload);
      }
    });
  }

  /** A request whose answer is read whole; rejects with an EngineError on a non-2xx status. */
  async request<T = any>(method: string, p: string, opts: RequestOptions = {}): Promise<{ status: number; body: T }> {
    const res = await this.open(method, p, opts);
    const text = await readAll(res);
    const status = res.statusCode ?? 0;
    let body: any = text;
    if ((res.headers["content-type"] ?? "").includes("json") && text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (status >= 300 && status !== 304) throw new EngineError(status, typeof body === "object" && body?.message ? body.message : `${method} ${p}: HTTP ${status} ${text}`.trim());
    return { status, body };
  }

  async json<T = any>(method: string, p: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.request<T>(method, p, opts)).body;
  }

  /**
   * A hijacked connection (`Upgrade: tcp`): the request is written by hand on
   * a raw socket; resolves with the socket positioned after the response
   * headers, plus any bytes that came with them.
   */
  hijack(p: string, body: unknown): Promise<{ socket: net.Socket; head: Buffer }> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ path: this.socketPath, allowHalfOpen: true });
      const payload = JSON.stringify(body);
      let buf = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onData);
        socket.off("error", reject);
        // The caller attaches its own handlers; until then an error must not go unhandled.
        socket.on("error", () => undefined);
        socket.pause();
        const head = buf.subarray(0, end).toString("latin1");
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
        const rest = buf.subarray(end + 4);
        if (status !== 101 && status !== 200) {
          socket.destroy();
          let message = rest.toString("utf8");
          try {
            message = JSON.parse(message).message ?? message;
          } catch {
            // not JSON
          }
          reject(new EngineError(status, `POST ${p}: ${message || head}`));
          return;
        }
        resolve({ socket, head: rest });
      };
      socket.on("error", reject);
      socket.on("data", onData);
      socket.on("connect", () => {
        socket.write(
          `POST ${path(p)} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(payload)}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n${payload}`,
        );
      });
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export async function readAll(res: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Calls `onObject` for each JSON object of a newline-delimited JSON stream (progress, events). */
export async function readJsonLines(res: Readable, onObject: (o: any) => void): Promise<void> {
  let buf = "";
  for await (const c of res) {
    buf += (c as Buffer).toString("utf8");
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onObject(JSON.parse(line));
    }
  }
  if (buf.trim()) onObject(JSON.parse(buf));
}

/** Stream ids of the multiplexed stream format. */
export type StreamId = 0 | 1 | 2;

/**
 * Decodes Docker's multiplexed stream: frames of an 8-byte header (stream
 * id, 3 bytes padding, big-endian length) and a payload; each payload is
 * handed over whole, in order.
 */
export class Demuxer {
  #buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: StreamId, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    while (this.#buf.length >= 8) {
      const len = this.#buf.readUInt32BE(4);
      if (this.#buf.length < 8 + len) break;
      const id = this.#buf[0]! as StreamId;
      this.onFrame(id, this.#buf.subarray(8, 8 + len));
      this.#buf = this.#buf.subarray(8 + len);
    }
  }
}

/** Docker's time strings (`2024-05-01T10:20:30.123456789Z`, `0001-01-01T00:00:00Z` for never) as unix ms, or undefined. */
export function dockerTime(s: string | undefined): number | undefined {
  if (!s || s.startsWith("0001-")) return undefined;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return undefined;
  return Date.parse(`${m[1]}.${(m[2] ?? "").slice(0, 3).padEnd(3, "0")}${m[3]}`);
}
