/**
 * @module The audit log: one audit.k8s.io/v1 `Event` per mutating request, at
 * upstream's `Metadata` level (who, what, when, from where, the response
 * code; never a body), one JSON line each.
 *
 * Policy (upstream's default policy idea, fixed): create, update, patch,
 * delete and deletecollection of any resource, non-resource requests with a
 * mutating method, and the streaming subresources exec, attach and
 * portforward whatever their method (a WebSocket upgrade is a GET). Reads
 * and watches are not logged. Requests from the kernel's own in-process
 * client are logged too, annotated `skiff.io/in-process: "true"`.
 *
 * Every response gets an `Audit-Id` header (the client's own `Audit-ID`
 * when it sent a valid one), as kube-apiserver does.
 *
 * Writing never blocks or fails a request: lines are buffered and appended
 * by one asynchronous writer; the file is rotated by size (`audit.log` →
 * `audit-<timestamp>.log`, at most `maxBackups` kept). When the disk fails
 * the lines are dropped and a warning is logged (at most once a minute);
 * when the buffer is full (the disk is slower than the requests), new lines
 * are dropped and counted, as upstream's buffered backend does.
 */
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import type { Logger } from "../log.ts";
import { requestUser } from "./auth/types.ts";
import { forwardedRequest, internalErrorResponse, sourceAddress } from "./hygiene.ts";
import { parseResourcePath } from "./request.ts";
import type { FetchHandler } from "./serve.ts";

export interface AuditOptions {
  /** The log file (`<dataDir>/audit/audit.log` in the kernel). */
  path: string;
  /** Rotate when the file would grow past this many megabytes. Default 100. */
  maxSizeMB?: number;
  /** Rotated files kept (oldest removed first). Default 10. */
  maxBackups?: number;
  /** Largest buffer of unwritten lines, in bytes, before lines are dropped. Default 16 MiB. */
  maxBufferBytes?: number;
}

/** audit.k8s.io/v1 Event at level Metadata. */
export interface AuditEvent {
  kind: "Event";
  apiVersion: "audit.k8s.io/v1";
  level: "Metadata";
  auditID: string;
  stage: "ResponseComplete" | "ResponseStarted";
  requestURI: string;
  verb: string;
  user: { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> };
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: { resource: string; namespace?: string; name?: string; apiGroup?: string; apiVersion: string; subresource?: string };
  responseStatus: { metadata: Record<string, never>; code: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

const STREAMING = new Set(["exec", "attach", "portforward"]);
const VERBS: Record<string, string> = { POST: "create", PUT: "update", PATCH: "patch", GET: "get" };
const AUDIT_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const WARN_EVERY_MS = 60_000;

/** The audit ID of a request: the client's valid `Audit-ID`, else a new UUID. */
function auditIdFor(req: Request): string {
  const given = req.headers.get("audit-id");
  return given && AUDIT_ID.test(given) ? given : crypto.randomUUID();
}

/** Where the path of a URL starts and ends (no URL parsing on the hot path). */
function pathOf(url: string): { path: string; uri: string } {
  const s = url.indexOf("/", url.indexOf("//") + 2);
  const uri = s < 0 ? "/" : url.slice(s);
  const q = uri.search(/[?#]/);
  return { path: q < 0 ? uri : uri.slice(0, q), uri };
}

/** The resource a path names, or undefined for non-resource paths. */
export function objectRefOf(path: string): AuditEvent["objectRef"] | undefined {
  const segs = path.split("/");
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[1] === "api" && segs[2] === "v1") [group, version, rest] = ["", "v1", segs.slice(3)];
  else if (segs[1] === "apis" && segs.length > 4) [group, version, rest] = [segs[2]!, segs[3]!, segs.slice(4)];
  else return undefined;
  const p = parseResourcePath(group, version, rest);
  if (!p) return undefined;
  return {
    resource: p.resource,
    ...(p.namespace !== undefined ? { namespace: p.namespace } : {}),
    ...(p.name !== undefined ? { name: p.name } : {}),
    ...(group ? { apiGroup: group } : {}),
    apiVersion: version,
    ...(p.subresource !== undefined ? { subresource: p.subresource } : {}),
  };
}

export class AuditLog {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #maxBackups: number;
  readonly #maxBuffer: number;
  #buf: string[] = [];
  #bufBytes = 0;
  #size = -1;
  #fh: FileHandle | undefined;
  #writing: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastWarn = 0;
  #closed = false;
  /** Lines dropped (buffer full or disk errors). */
  dropped = 0;

  constructor(
    opts: AuditOptions,
    private readonly log?: Logger,
  ) {
    this.path = opts.path;
    this.#maxBytes = Math.max(1024, (opts.maxSizeMB ?? 100) * 1024 * 1024);
    this.#maxBackups = Math.max(0, opts.maxBackups ?? 10);
    this.#maxBuffer = opts.maxBufferBytes ?? 16 * 1024 * 1024;
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
  }

  /**
   * Wraps an API server handler: every response gets an Audit-Id header and
   * every audited request a line. `inProcess` marks the kernel's own client.
   */
  wrap(next: FetchHandler, how: { inProcess?: boolean } = {}): FetchHandler {
    const inProcess = how.inProcess === true;
    return async (req, env) => {
      const received = Date.now();
      const id = auditIdFor(req);
      let res: Response;
      try {
        res = await next(req, env);
      } catch (e) {
        res = internalErrorResponse(e, this.log);
      }
      try {
        res.headers.set("audit-id", id);
      } catch {
        res = new Response(res.body, res); // immutable headers (a relayed fetch Response)
        res.headers.set("audit-id", id);
      }
      const m = req.method;
      if (m !== "GET" && m !== "HEAD" && m !== "OPTIONS") this.#record(req, res.status, received, id, inProcess);
      else if (m === "GET" && /\/(exec|attach|portforward)(\?|$)/.test(req.url)) this.#record(req, res.status, received, id, inProcess);
      return res;
    };
  }

  #record(req: Request, code: number, received: number, id: string, inProcess: boolean): void {
    const { path, uri } = pathOf(req.url);
    const ref = objectRefOf(path);
    const m = req.method;
    const verb = m === "DELETE" ? (ref && ref.name === undefined ? "deletecollection" : "delete") : (VERBS[m] ?? m.toLowerCase());
    const who = requestUser(req) ?? requestUser(forwardedRequest(req));
    const ip = sourceAddress(req);
    const ua = req.headers.get("user-agent");
    const ev: AuditEvent = {
      kind: "Event",
      apiVersion: "audit.k8s.io/v1",
      level: "Metadata",
      auditID: id,
      stage: ref?.subresource !== undefined && STREAMING.has(ref.subresource) && code === 101 ? "ResponseStarted" : "ResponseComplete",
      requestURI: uri,
      verb,
      user: who
        ? {
            username: who.user.name,
            ...(who.user.uid ? { uid: who.user.uid } : {}),
            groups: who.user.groups,
            ...(who.user.extra ? { extra: who.user.extra } : {}),
          }
        : { username: "system:anonymous", groups: ["system:unauthenticated"] },
      sourceIPs: ip ? [ip] : [],
      ...(ua ? { userAgent: ua } : {}),
      ...(ref ? { objectRef: ref } : {}),
      responseStatus: { metadata: {}, code },
      requestReceivedTimestamp: new Date(received).toISOString(),
      stageTimestamp: new Date().toISOString(),
      ...(inProcess || who ? { annotations: annotationsOf(inProcess, who?.authenticator) } : {}),
    };
    this.write(JSON.stringify(ev) + "\n");
  }

  /** Queues one line (with its newline). Never throws, never waits. */
  write(line: string): void {
    if (this.#closed) return;
    if (this.#bufBytes + line.length > this.#maxBuffer) {
      this.dropped++;
      this.#warn(new Error("audit buffer full (the disk is slower than the requests)"));
      return;
    }
    this.#buf.push(line);
    this.#bufBytes += line.length;
    if (this.#bufBytes >= 256 * 1024) this.#kick();
    else if (!this.#timer && !this.#writing) {
      this.#timer = setTimeout(() => this.#kick(), 20);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  #kick(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing || this.#buf.length === 0) return;
    this.#writing = this.#drain().finally(() => {
      this.#writing = undefined;
      if (this.#buf.length > 0) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    while (this.#buf.length > 0) {
      const lines = this.#buf;
      this.#buf = [];
      this.#bufBytes = 0;
      const chunk = lines.join("");
      try {
        const bytes = Buffer.byteLength(chunk);
        if (this.#size < 0) this.#size = await fileSize(this.path);
        if (this.#size > 0 && this.#size + bytes > this.#maxBytes) await this.#rotate();
        this.#fh ??= await open(this.path, "a", 0o600);
        await this.#fh.write(chunk);
        this.#size += bytes;
      } catch (e) {
        this.dropped += lines.length;
        this.#warn(e);
        await this.#fh?.close().catch(() => {});
        this.#fh = undefined;
        this.#size = -1;
      }
    }
  }

  async #rotate(): Promise<void> {
    await this.#fh?.close();
    this.#fh = undefined;
    const ext = extname(this.path);
    const base = basename(this.path, ext);
    const stamp = new Date().toISOString().replace(/:/g, "-").replace("Z", "");
    await rename(this.path, join(dirname(this.path), `${base}-${stamp}${ext}`));
    this.#size = 0;
    const backups = this.backups();
    for (const old of backups.slice(0, Math.max(0, backups.length - this.#maxBackups))) await unlink(old).catch(() => {});
  }

  /** The rotated files, oldest first. */
  backups(): string[] {
    const ext = extname(this.path);
    const base = basename(this.path, ext);
    const dir = dirname(this.path);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.startsWith(`${base}-`) && n.endsWith(ext))
      .sort()
      .map((n) => join(dir, n));
  }

  #warn(e: unknown): void {
    const now = Date.now();
    if (now - this.#lastWarn < WARN_EVERY_MS) return;
    this.#lastWarn = now;
    this.log?.warn({ err: e instanceof Error ? e.message : String(e), path: this.path, dropped: this.dropped }, "audit log write failed; lines dropped");
  }

  /** Resolves once every line queued so far is written (or dropped). */
  async flush(): Promise<void> {
    this.#kick();
    while (this.#writing) await this.#writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    await this.#fh?.close().catch(() => {});
    this.#fh = undefined;
  }
}

function annotationsOf(inProcess: boolean, authenticator: string | undefined): Record<string, string> {
  const a: Record<string, string> = {};
  if (inProcess) a["skiff.io/in-process"] = "true";
  if (authenticator) a["skiff.io/authenticator"] = authenticator;
  return a;
}

async function fileSize(path: string): Promise<number> {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
