/**
 * @module WebSockets for the streaming subresources (exec, port-forward):
 * accepting a client's upgrade on the runtime that serves the API, and
 * dialing the node agent.
 *
 * Accepting works on Bun, through the server's `upgrade()` (the server is
 * the second argument of `fetch`, which Hono passes on as `c.env`), with the
 * socket events dispatched by `BUN_WEBSOCKET`, which `serve.ts` gives to
 * `Bun.serve`. Elsewhere `canAccept` is false and the handlers answer a
 * Status saying so: the node agent's own endpoint needs Bun as well, and
 * neither `ws` (under `@hono/node-server`) nor browser-style WebSocket APIs
 * accept kubectl's `SPDY/3.1+portforward.k8s.io` subprotocol (a "/" is not
 * a token character), so Node and Deno would need their own upgrade code.
 *
 * Dialing uses the global `WebSocket` (Bun, Deno, Node 22); a bearer token
 * goes in the non-standard `headers` init that Bun and undici accept, TLS
 * options (CA, client certificate, `checkServerIdentity`) in Bun's `tls` init.
 */

/** The server end of an accepted WebSocket. */
export interface ServerSocket {
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** What happens on an accepted socket; `open` comes first, `close` once, last. */
export interface SocketHandlers {
  open(ws: ServerSocket): void;
  message(data: Uint8Array): void;
  close(code: number, reason: string): void;
}

interface BunSocket {
  data: { skiffSocket?: SocketHandlers } | undefined;
  send(data: Uint8Array | string, compress?: boolean): number;
  close(code?: number, reason?: string): void;
}

interface BunUpgrader {
  upgrade(req: Request, opts: { data: unknown; headers?: HeadersInit }): boolean;
}

function bunSocket(ws: BunSocket): ServerSocket {
  return {
    send: (d) => void ws.send(d),
    close: (code, reason) => ws.close(code, reason),
  };
}

/** The `websocket` option of `Bun.serve`: routes each socket's events to the handlers its upgrade attached. */
export const BUN_WEBSOCKET = {
  // Bun pings idle sockets and counts pongs as activity; a quiet exec shell stays open.
  idleTimeout: 120,
  // A client that reads slower than the pod writes: close at Bun's buffer limit (16 MiB) rather than drop data.
  closeOnBackpressureLimit: true,
  open(ws: BunSocket) {
    ws.data?.skiffSocket?.open(bunSocket(ws));
  },
  message(ws: BunSocket, m: string | Uint8Array) {
    // A copy: handlers may keep the bytes (a partial SPDY frame) past this call.
    ws.data?.skiffSocket?.message(typeof m === "string" ? new TextEncoder().encode(m) : new Uint8Array(m));
  },
  close(ws: BunSocket, code: number, reason: string) {
    ws.data?.skiffSocket?.close(code, reason);
  },
};

function bunOf(env: unknown): BunUpgrader | undefined {
  const e = env as Partial<BunUpgrader> | undefined;
  return e && typeof e.upgrade === "function" ? (e as BunUpgrader) : undefined;
}

/** Whether this request can be upgraded here (`env` is what the runtime passed to `fetch` after the request). */
export function canAccept(env: unknown): boolean {
  return bunOf(env) !== undefined;
}

export function isWebSocketRequest(req: Request): boolean {
  return (req.headers.get("upgrade") ?? "").toLowerCase().split(",").some((s) => s.trim() === "websocket");
}

/** The subprotocols the client offers, in its order. */
export function offeredProtocols(req: Request): string[] {
  return (req.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Accepts the upgrade with `protocol`. Returns the Response to hand back to
 * the runtime; throws when the runtime refused the upgrade.
 */
export function acceptWebSocket(req: Request, env: unknown, protocol: string, handlers: SocketHandlers): Response {
  const bun = bunOf(env);
  if (!bun) throw new Error("this runtime cannot accept WebSocket upgrades");
  if (!bun.upgrade(req, { data: { skiffSocket: handlers }, headers: { "Sec-WebSocket-Protocol": protocol } })) {
    throw new Error("WebSocket upgrade failed");
  }
  // Bun ignores the response of an upgraded request.
  return new Response(null, { status: 101 });
}

/** The client end of a dialed WebSocket. Events that come before `listen` are kept and delivered by it. */
export interface ClientSocket {
  readonly protocol: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  listen(h: { message(data: Uint8Array): void; close(code: number, reason: string): void }): void;
}

/**
 * Opens a WebSocket and resolves once it is open (rejects on failure or
 * after `timeoutMs`, default 10 s).
 */
export function dialWebSocket(url: string, opts: { protocol: string; headers?: Record<string, string>; timeoutMs?: number; tls?: object }): Promise<ClientSocket> {
  return new Promise((resolve, reject) => {
    const Ctor = WebSocket as unknown as new (url: string, init: unknown) => WebSocket;
    let ws: WebSocket;
    try {
      const extra = (opts.headers && Object.keys(opts.headers).length > 0) || opts.tls;
      ws = extra ? new Ctor(url, { protocols: [opts.protocol], ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.tls ? { tls: opts.tls } : {}) }) : new WebSocket(url, [opts.protocol]);
    } catch (e) {
      reject(e);
      return;
    }
    ws.binaryType = "arraybuffer";
    let handlers: Parameters<ClientSocket["listen"]>[0] | undefined;
    const early: Uint8Array[] = [];
    let closed: { code: number; reason: string } | undefined;
    let opened = false;
    const timer = setTimeout(() => {
      if (opened) return;
      ws.close();
      reject(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`));
    }, opts.timeoutMs ?? 10_000);
    ws.onopen = () => {
      opened = true;
      clearTimeout(timer);
      resolve({
        protocol: ws.protocol,
        send: (d) => ws.send(d as Uint8Array<ArrayBuffer>),
        close: (code, reason) => {
          if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
        },
        listen(h) {
          handlers = h;
          for (const m of early.splice(0)) h.message(m);
          if (closed) h.close(closed.code, closed.reason);
        },
      });
    };
    ws.onmessage = (e) => {
      const d = typeof e.data === "string" ? new TextEncoder().encode(e.data) : new Uint8Array(e.data as ArrayBuffer);
      if (handlers) handlers.message(d);
      else early.push(d);
    };
    ws.onerror = () => {
      if (!opened) {
        clearTimeout(timer);
        reject(new Error("the connection failed or the upgrade was refused"));
      }
    };
    ws.onclose = (e) => {
      if (!opened) {
        clearTimeout(timer);
        reject(new Error(`closed before opening (${e.code}${e.reason ? ` ${e.reason}` : ""})`));
        return;
      }
      if (handlers) handlers.close(e.code, e.reason);
      else closed = { code: e.code, reason: e.reason };
    };
  });
}
