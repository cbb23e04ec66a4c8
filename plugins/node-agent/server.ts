/**
 * @module The agent's own HTTP endpoint (the kubelet's port 10250), which
 * the API server proxies `pods/log`, `pods/exec` and `pods/portforward` to:
 *
 * - `GET /healthz`
 * - `GET /containerLogs/{namespace}/{pod}/{container}` with `follow`,
 *   `previous`, `tailLines`, `sinceSeconds`, `sinceTime`, `timestamps`,
 *   `limitBytes` → the log as `text/plain`, streamed.
 * - `GET /exec/{namespace}/{pod}/{container}?command=…&command=…&stdin=1&stdout=1&stderr=1&tty=1`,
 *   a WebSocket with subprotocol `v5.channel.k8s.io` (or `v4.channel.k8s.io`):
 *   binary frames whose first byte is the stream (0 stdin, 1 stdout,
 *   2 stderr, 3 error, 4 resize; v5 adds 255 = close the stream named by the
 *   next byte). The last frame on 3 is a `Status`: `Success`, or `Failure`
 *   with reason `NonZeroExitCode` and the exit code as cause `ExitCode`.
 * - `GET /portForward/{namespace}/{pod}?ports=8080,9090`, a WebSocket with
 *   subprotocol `v4.channel.k8s.io` (kubelet's WebSocket port-forward): for
 *   port i, channel 2i carries data and 2i+1 errors; the first frame on each
 *   channel is the port number (2 bytes, little-endian).
 *
 * **TLS** (`tls`: the serving certificate and key, and the cluster CA): the
 * endpoint is HTTPS only, like the kubelet's port 10250, with a serving
 * certificate signed by the cluster CA (`CN=system:node:<node>`; the kernel
 * issues it to the in-process agent, `skiff agent` requests it when it
 * joins). A request must then present a client certificate chained to that
 * CA whose CN is `kube-apiserver-kubelet-client` (the API server's, see
 * `core/server/auth/node-certificates.ts`) or whose groups include
 * `system:masters` (cluster admins) — or carry the configured bearer token.
 * Why the client certificate rather than only the token: a remote agent has
 * no secret it shares with the API server, while both already trust the
 * cluster CA; the certificate names the caller, cannot be replayed by
 * whoever sees a request, and other nodes' certificates (same CA, other CN)
 * are refused. The kubelet does the same (`--client-ca-file`, with
 * kube-apiserver's `--kubelet-client-certificate`), then asks the API
 * server to authorize the user (webhook); the agent allows only those two
 * identities instead. `GET /healthz` needs no credentials.
 *
 * Without `tls` (a kernel without security: `--insecure`, or one that does
 * not listen) the endpoint is plain HTTP and needs `Authorization: Bearer
 * <token>` when a token is configured.
 *
 * Served through `core/server/serve.ts` (which hands the handler the
 * client's certificate chain); the WebSocket routes need Bun, elsewhere they
 * answer a Status saying so.
 */
import { ApiError, errors, toApiError } from "../../core/api/errors.ts";
import type { Logger } from "../../core/log.ts";
import { requestConnection } from "../../core/server/auth/connection.ts";
import { AGENT_CLIENT_USER } from "../../core/server/auth/node-certificates.ts";
import { Groups } from "../../core/server/auth/types.ts";
import { X509Authenticator } from "../../core/server/auth/x509-authenticator.ts";
import { parseCert } from "../../core/server/pki/x509.ts";
import { type Listening, runtimeName, serve, type ServeTls } from "../../core/server/serve.ts";
import { acceptWebSocket, canAccept, type ServerSocket } from "../../core/server/websocket.ts";
import type { NodeAgent } from "./agent.ts";

export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
export const PORT_FORWARD_PROTOCOLS = ["v4.channel.k8s.io", "portforward.k8s.io"];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

interface Session {
  open(ws: ServerSocket): void;
  message(data: Uint8Array): void;
  close(): void;
}

/** The endpoint's settings (the node-agent config's `server`). */
export interface AgentServerOptions {
  address: string;
  port: number;
  token?: string;
  /** HTTPS: serving certificate and key (PEM), and the cluster CA client certificates must chain to. */
  tls?: ServeTls;
}

function statusResponse(e: ApiError): Response {
  return new Response(JSON.stringify(e.toStatus()), { status: e.code, headers: { "content-type": "application/json" } });
}

function frame(channel: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 1);
  out[0] = channel;
  out.set(data, 1);
  return out;
}

/** The Status kubectl reads an exec's outcome from. */
export function execStatus(code: number, command: string[]): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${code}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(code) }] },
  };
}

function pickProtocol(req: Request, supported: string[]): string | undefined {
  const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim());
  return supported.find((p) => offered.includes(p));
}

function bool(v: string | null): boolean {
  return v === "1" || v === "true";
}

/** Accepts the upgrade; the session sees the socket's events. */
function accept(req: Request, env: unknown, protocol: string, session: Session): Response {
  try {
    return acceptWebSocket(req, env, protocol, { open: (ws) => session.open(ws), message: (d) => session.message(d), close: () => session.close() });
  } catch (e) {
    throw errors.badRequest(`WebSocket upgrade failed: ${(e as Error).message}`);
  }
}

export class AgentServer {
  #listening?: Listening;
  readonly #x509?: X509Authenticator;

  constructor(
    private readonly agent: NodeAgent,
    private readonly opts: AgentServerOptions,
    private readonly log: Logger,
  ) {
    if (opts.tls) {
      const ca = parseCert(opts.tls.ca);
      this.#x509 = new X509Authenticator(() => ca);
    }
  }

  /** Whether the endpoint serves HTTPS. */
  get secure(): boolean {
    return this.opts.tls !== undefined;
  }

  /** Starts listening; resolves with the port. */
  async start(): Promise<number> {
    if (runtimeName() !== "bun") this.log.warn("exec and port-forward on the agent endpoint need Bun; here they answer an error");
    const listen = (port: number) =>
      serve({
        hostname: this.opts.address,
        port,
        // Followed logs and exec sessions may be quiet for long.
        idleTimeoutSeconds: 0,
        fetch: (req, env) => this.#fetch(req, env),
        ...(this.opts.tls ? { tls: this.opts.tls } : {}),
      });
    try {
      this.#listening = await listen(this.opts.port);
    } catch (e) {
      if (this.opts.port === 0) throw e;
      this.log.warn({ port: this.opts.port, err: (e as Error).message }, "agent endpoint port unavailable; using a free one");
      this.#listening = await listen(0);
    }
    this.log.info({ address: this.opts.address, port: this.#listening.port, tls: this.secure }, "agent endpoint listening");
    return this.#listening.port;
  }

  async stop(): Promise<void> {
    await this.#listening?.stop();
    this.#listening = undefined;
  }

  /** Request handling without a socket (tests): everything but the WebSocket routes. */
  handle(req: Request): Promise<Response> {
    return this.#fetch(req, undefined);
  }

  /** Whether the request may use the endpoint (see the module doc). */
  async #authorized(req: Request, env: unknown): Promise<boolean> {
    if (this.opts.token && req.headers.get("authorization") === `Bearer ${this.opts.token}`) return true;
    if (!this.#x509) return !this.opts.token;
    let who: Awaited<ReturnType<X509Authenticator["authenticate"]>>;
    try {
      who = await this.#x509.authenticate(req, requestConnection(req, env));
    } catch {
      return false; // a certificate from another CA, expired, or not for client auth
    }
    return who !== null && (who.user.name === AGENT_CLIENT_USER || who.user.groups.includes(Groups.masters));
  }

  async #fetch(req: Request, env: unknown): Promise<Response> {
    try {
      const url = new URL(req.url);
      if (url.pathname === "/healthz") return new Response("ok");
      if (!(await this.#authorized(req, env))) return statusResponse(new ApiError({ reason: "Unauthorized", message: "Unauthorized" }));
      const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
      const q = url.searchParams;
      if (req.method !== "GET" && req.method !== "POST") throw errors.methodNotAllowed("only GET and POST");
      if (parts[0] === "containerLogs" && parts.length === 4) return await this.#logs(parts[1]!, parts[2]!, parts[3]!, q, req.signal);
      if (parts[0] === "exec" && (parts.length === 4 || parts.length === 5)) return this.#exec(req, env, parts, q);
      if (parts[0] === "portForward" && (parts.length === 3 || parts.length === 4)) return this.#portForward(req, env, parts, q);
      throw errors.notFoundPath();
    } catch (e) {
      return statusResponse(toApiError(e));
    }
  }

  async #logs(ns: string, pod: string, container: string, q: URLSearchParams, signal: AbortSignal): Promise<Response> {
    const num = (k: string) => {
      const v = q.get(k);
      if (v === null || v === "") return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw errors.badRequest(`${k} must be a non-negative integer`);
      return n;
    };
    const sinceSeconds = num("sinceSeconds");
    const sinceTime = q.get("sinceTime");
    const tailLines = num("tailLines");
    const limitBytes = num("limitBytes");
    const sinceMs = sinceSeconds !== undefined ? Date.now() - sinceSeconds * 1000 : sinceTime ? Date.parse(sinceTime) : undefined;
    const body = await this.agent.logs(
      ns,
      pod,
      container,
      {
        follow: bool(q.get("follow")),
        previous: bool(q.get("previous")),
        timestamps: bool(q.get("timestamps")),
        ...(tailLines !== undefined ? { tailLines } : {}),
        ...(limitBytes !== undefined ? { limitBytes } : {}),
        ...(sinceMs !== undefined && !Number.isNaN(sinceMs) ? { sinceMs } : {}),
      },
      signal,
    );
    return new Response(body, { headers: { "content-type": "text/plain", "transfer-encoding": "chunked" } });
  }

  #exec(req: Request, env: unknown, parts: string[], q: URLSearchParams): Response {
    const [, ns, pod, container] = parts as [string, string, string, string];
    const command = q.getAll("command");
    if (command.length === 0) throw errors.badRequest("you must specify at least 1 command");
    const protocol = pickProtocol(req, EXEC_PROTOCOLS);
    if (!canAccept(env) || !protocol) throw errors.badRequest(`exec needs a WebSocket upgrade with one of the subprotocols ${EXEC_PROTOCOLS.join(", ")}`);
    const tty = bool(q.get("tty"));
    const wantStdin = bool(q.get("stdin"));
    const wantStdout = bool(q.get("stdout")) || !q.has("stdout");
    const wantStderr = bool(q.get("stderr")) && !tty;
    const abort = new AbortController();
    let stdinCtl: ReadableStreamDefaultController<Uint8Array> | undefined;
    const resizes: { width: number; height: number }[] = [];
    let resizeWake: (() => void) | undefined;
    let closed = false;
    const session: Session = {
      open: (ws) => {
        const out = (channel: number) =>
          new WritableStream<Uint8Array>({
            write: (chunk) => {
              if (!closed) ws.send(frame(channel, chunk));
            },
          });
        const stdin = wantStdin ? new ReadableStream<Uint8Array>({ start: (c) => void (stdinCtl = c) }) : undefined;
        const resize = tty
          ? (async function* () {
              while (!abort.signal.aborted) {
                const next = resizes.shift();
                if (next) yield next;
                else await new Promise<void>((r) => (resizeWake = r));
              }
            })()
          : undefined;
        void this.agent
          .exec(ns, pod, container, command, {
            ...(stdin ? { stdin } : {}),
            ...(wantStdout ? { stdout: out(STDOUT) } : {}),
            ...(wantStderr ? { stderr: out(STDERR) } : {}),
            tty,
            ...(resize ? { resize } : {}),
            signal: abort.signal,
          })
          .then(
            (code) => JSON.stringify(execStatus(code, command)),
            (e) => JSON.stringify(toApiError(e).toStatus()),
          )
          .then((status) => {
            if (closed) return;
            ws.send(frame(ERROR, new TextEncoder().encode(status)));
            closed = true;
            ws.close(1000);
          });
      },
      message: (data) => {
        const channel = data[0];
        const rest = data.subarray(1);
        if (channel === STDIN) {
          if (rest.length > 0) stdinCtl?.enqueue(rest.slice());
        } else if (channel === RESIZE) {
          try {
            const r = JSON.parse(new TextDecoder().decode(rest)) as { Width?: number; Height?: number };
            resizes.push({ width: r.Width ?? 80, height: r.Height ?? 24 });
            resizeWake?.();
          } catch {
            /* a bad resize message is ignored */
          }
        } else if (channel === CLOSE && rest[0] === STDIN) {
          try {
            stdinCtl?.close();
          } catch {
            /* closed already */
          }
        }
      },
      close: () => {
        closed = true;
        abort.abort();
        resizeWake?.();
        try {
          stdinCtl?.close();
        } catch {
          /* closed already */
        }
      },
    };
    return accept(req, env, protocol, session);
  }

  #portForward(req: Request, env: unknown, parts: string[], q: URLSearchParams): Response {
    const [, ns, pod] = parts as [string, string, string];
    const ports = (q.get("ports") ?? q.getAll("port").join(","))
      .split(",")
      .filter(Boolean)
      .map((p) => Number(p));
    if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p <= 0 || p > 65535)) throw errors.badRequest("ports must be a comma-separated list of port numbers");
    const protocol = pickProtocol(req, PORT_FORWARD_PROTOCOLS);
    if (!canAccept(env) || !protocol) throw errors.badRequest(`port-forward needs a WebSocket upgrade with one of the subprotocols ${PORT_FORWARD_PROTOCOLS.join(", ")}`);
    const writers = new Map<number, WritableStreamDefaultWriter<Uint8Array>>();
    const pending = new Map<number, Uint8Array[]>();
    let closed = false;
    let ended = 0;
    const readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
    const session: Session = {
      open: (ws) => {
        ports.forEach((port, i) => {
          const prefix = new Uint8Array([port & 255, port >> 8]);
          ws.send(frame(2 * i, prefix));
          ws.send(frame(2 * i + 1, prefix));
          void this.agent.portForward(ns, pod, port).then(
            async (conn) => {
              const w = conn.writable.getWriter();
              writers.set(2 * i, w);
              for (const chunk of pending.get(2 * i) ?? []) await w.write(chunk);
              pending.delete(2 * i);
              const r = conn.readable.getReader();
              readers.push(r);
              for (;;) {
                const { done, value } = await r.read().catch(() => ({ done: true as const, value: undefined }));
                if (done || closed) break;
                ws.send(frame(2 * i, value));
              }
              // One WebSocket carries one connection per port: when every pod side has ended, so has it.
              if (++ended === ports.length && !closed) {
                closed = true;
                ws.close(1000);
              }
            },
            (e) => {
              if (!closed) ws.send(frame(2 * i + 1, new TextEncoder().encode(`error forwarding port ${port} to pod ${pod}: ${(e as Error).message}`)));
            },
          );
        });
      },
      message: (data) => {
        const channel = data[0]!;
        const rest = data.subarray(1).slice();
        if (channel % 2 !== 0 || rest.length === 0) return;
        const w = writers.get(channel);
        if (w) void w.write(rest).catch(() => undefined);
        else pending.set(channel, [...(pending.get(channel) ?? []), rest]);
      },
      close: () => {
        closed = true;
        for (const w of writers.values()) void w.close().catch(() => undefined);
        for (const r of readers) void r.cancel().catch(() => undefined);
      },
    };
    return accept(req, env, protocol, session);
  }
}
