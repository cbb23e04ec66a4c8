/**
 * @module Serving a fetch handler on the runtime at hand: `Bun.serve`,
 * `Deno.serve` or `@hono/node-server`. The one place that knows runtimes
 * (with `websocket.ts`, whose socket events Bun's server dispatches).
 *
 * **TLS** (`opts.tls`): TLS 1.2+, a client certificate requested but not
 * required (token clients have none), the presented chain handed to the
 * authenticators as `ConnectionInfo.peerCertificates` (which verify it
 * against the cluster CA themselves: Deno's `node:tls` does not, and Bun's
 * enforcement has had bugs), and `Listening.setTls` to swap certificates
 * without a restart.
 * - Bun: `Bun.serve` does not give the handler the peer certificate (oven-sh/bun
 *   #14097, open), and Bun's `node:https` has neither `getPeerCertificate`
 *   nor `setSecureContext`. Bun's `node:tls` server has both, so TLS ends
 *   there and each connection is piped (Bun's native socket, `Bun.connect`) to a plain `Bun.serve` on a loopback
 *   port; the inner server maps the pipe's source port (`requestIP`) back to
 *   the TLS connection's facts, and refuses connections that did not come
 *   through the TLS listener. WebSocket upgrades (exec, port-forward) keep
 *   working: the pipe carries bytes. The cost: one more loopback hop per
 *   connection and a JavaScript copy per chunk (measured in the issue 10
 *   report: see `core/server/pki/README.md`).
 * - Node and Deno: `@hono/node-server` on `node:https` (`Deno.serve` cannot
 *   request client certificates); the peer certificate comes from the
 *   request's `TLSSocket`.
 */
import type { ConnectionInfo } from "./auth/types.ts";
import { CONNECTION, setRequestConnection } from "./auth/connection.ts";
import { BUN_WEBSOCKET } from "./websocket.ts";

/** `env` is what the runtime passes beside the request (Bun: its server, for WebSocket upgrades). */
export type FetchHandler = (req: Request, env?: unknown) => Response | Promise<Response>;

export interface Listening {
  /** The bound port (useful with port 0). */
  port: number;
  hostname: string;
  stop(): Promise<void>;
  /** With TLS: swaps the certificate and key (rotation); new connections get them, open ones keep theirs. */
  setTls?(tls: ServeTls): void;
}

/** PEM certificate (chain), key, and the CA client certificates are checked against. */
export interface ServeTls {
  cert: string;
  key: string;
  ca: string;
}

export interface ServeOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  fetch: FetchHandler;
  /** Serve HTTPS (see the module doc). */
  tls?: ServeTls;
  /**
   * Bun: seconds a connection may stay silent before it is closed (slow or
   * stalled clients); requests that must outlive it call `server.timeout(req, 0)`
   * (hygiene.ts does for watches and streams). Default 0: never.
   */
  idleTimeoutSeconds?: number;
}

interface BunLike {
  serve(o: { hostname: string; port: number; fetch: FetchHandler; idleTimeout?: number; websocket?: typeof BUN_WEBSOCKET }): {
    port: number;
    hostname: string;
    stop(closeActive?: boolean): void | Promise<void>;
  };
  connect(o: { hostname: string; port: number; socket: BunSocketHandlers }): Promise<BunSocket>;
}
interface DenoLike {
  serve(
    o: { hostname: string; port: number; onListen?: (a: { port: number; hostname: string }) => void },
    h: FetchHandler,
  ): { addr: { port: number; hostname: string }; shutdown(): Promise<void> };
}

export function runtimeName(): "bun" | "deno" | "node" {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun ? "bun" : g.Deno ? "deno" : "node";
}

export async function serve(opts: ServeOptions): Promise<Listening> {
  const g = globalThis as { Bun?: BunLike; Deno?: DenoLike };
  if (g.Bun) {
    // idleTimeout 0 (the default): watches stay open for as long as their timeoutSeconds.
    const idleTimeout = Math.min(255, Math.max(0, Math.round(opts.idleTimeoutSeconds ?? 0)));
    if (opts.tls) return serveBunTls(g.Bun, opts, idleTimeout);
    const s = g.Bun.serve({ hostname: opts.hostname, port: opts.port, fetch: opts.fetch, idleTimeout, websocket: BUN_WEBSOCKET });
    return { port: s.port, hostname: s.hostname, stop: async () => void (await s.stop(true)) };
  }
  if (g.Deno && !opts.tls) {
    const s = g.Deno.serve({ hostname: opts.hostname, port: opts.port, onListen: () => {} }, opts.fetch);
    return { port: s.addr.port, hostname: s.addr.hostname, stop: () => s.shutdown() };
  }
  const { serve: nodeServe } = await import("@hono/node-server");
  const https = opts.tls ? await import("node:https") : undefined;
  const fetch: FetchHandler = opts.tls
    ? (req, env) => {
        const e = env as { incoming?: { socket?: TlsSocketLike }; [CONNECTION]?: ConnectionInfo } | undefined;
        const sock = e?.incoming?.socket;
        if (sock && e) {
          const info = connectionOf(sock);
          setRequestConnection(req, info);
          e[CONNECTION] = info; // env is per request here
        }
        return opts.fetch(req, env);
      }
    : opts.fetch;
  return new Promise((resolve) => {
    const tlsOpts = https && opts.tls ? { createServer: https.createServer, serverOptions: tlsServerOptions(opts.tls) } : {};
    const server = nodeServe({ fetch, hostname: opts.hostname, port: opts.port, ...tlsOpts }, (info) => {
      resolve({
        port: info.port,
        hostname: opts.hostname,
        stop: () =>
          new Promise<void>((r) => {
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => r());
          }),
        ...(opts.tls ? { setTls: (t: ServeTls) => (server as unknown as SecureContextHolder).setSecureContext(tlsServerOptions(t)) } : {}),
      });
    });
  });
}

interface SecureContextHolder {
  setSecureContext(o: Record<string, unknown>): void;
}

interface TlsSocketLike {
  remoteAddress?: string;
  getPeerCertificate?(detailed: true): PeerCert;
}
interface PeerCert {
  raw?: Uint8Array;
  issuerCertificate?: PeerCert;
}

function tlsServerOptions(t: ServeTls) {
  return { cert: t.cert, key: t.key, ca: t.ca, requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.2" as const };
}

const connectionInfos = new WeakMap<TlsSocketLike, ConnectionInfo>();

/** The presented chain (leaf first, DER) and the peer's address; the same object for every request of a connection. */
function connectionOf(sock: TlsSocketLike): ConnectionInfo {
  const known = connectionInfos.get(sock);
  if (known) return known;
  const info = readConnection(sock);
  connectionInfos.set(sock, info);
  return info;
}

function readConnection(sock: TlsSocketLike): ConnectionInfo {
  const chain: Uint8Array[] = [];
  let c = sock.getPeerCertificate?.(true);
  while (c?.raw && c.raw.length > 0 && chain.length < 10) {
    chain.push(new Uint8Array(c.raw));
    if (!c.issuerCertificate || c.issuerCertificate === c) break;
    c = c.issuerCertificate;
  }
  return { ...(chain.length > 0 ? { peerCertificates: chain } : {}), ...(sock.remoteAddress ? { remoteAddress: sock.remoteAddress } : {}) };
}

/** The part of Bun's native TCP socket the relay uses. */
interface BunSocket {
  readonly localPort: number;
  write(d: Uint8Array): number;
  shutdown(): void;
  end(): void;
  pause(): void;
  resume(): void;
}
interface BunSocketHandlers {
  data(s: BunSocket, d: Uint8Array): void;
  drain(s: BunSocket): void;
  close(s: BunSocket): void;
  error(s: BunSocket, e: Error): void;
}

/** Bun: TLS ends in a `node:tls` server; each connection is piped to a plain `Bun.serve` on loopback (see the module doc). */
async function serveBunTls(bun: BunLike, opts: ServeOptions, idleTimeout: number): Promise<Listening> {
  const tls = await import("node:tls");
  const conns = new Map<number, ConnectionInfo>();
  const open = new Set<{ destroy(): void }>();
  const inner = bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout,
    websocket: BUN_WEBSOCKET,
    fetch: (req, server) => {
      const peer = (server as { requestIP(r: Request): { port: number } | null }).requestIP(req);
      const info = peer ? conns.get(peer.port) : undefined;
      if (!info) {
        const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "connect through the TLS listener", reason: "BadRequest", code: 421 };
        return new Response(JSON.stringify(status), { status: 421, headers: { "content-type": "application/json", connection: "close" } });
      }
      setRequestConnection(req, info);
      // A per-request env: the server's methods, plus the connection facts (for wrappers that hand on a new Request).
      const s = server as unknown as Record<string, (...a: unknown[]) => unknown>;
      const env = {
        upgrade: (...a: unknown[]) => s.upgrade!.apply(server, a),
        timeout: (...a: unknown[]) => s.timeout!.apply(server, a),
        requestIP: (...a: unknown[]) => s.requestIP!.apply(server, a),
        [CONNECTION]: info,
      };
      return opts.fetch(req, env);
    },
  });
  const front = tls.createServer(tlsServerOptions(opts.tls!), (sock) => {
    sock.pause();
    // Request/response traffic: no Nagle delay on the client leg (the loopback leg is Bun's socket, without Nagle).
    sock.setNoDelay(true);
    const info = connectionOf(sock as TlsSocketLike);
    open.add(sock);
    let up: BunSocket | undefined;
    let port: number | undefined;
    // Client bytes the inner socket has not taken yet (the client is paused meanwhile).
    let pending: Uint8Array | undefined;
    let upClosed = false;
    const forget = () => {
      if (port !== undefined && conns.get(port) === info) conns.delete(port);
    };
    const done = () => {
      forget();
      open.delete(sock);
      sock.destroy();
      if (!upClosed) up?.end();
    };
    const toUp = (d: Uint8Array) => {
      if (upClosed || !up) return; // the inner server is gone: the rest of an upload is dropped
      const n = up.write(d);
      if (n < d.length) {
        pending = d.subarray(Math.max(0, n));
        sock.pause();
      }
    };
    sock.on("data", (d: Uint8Array) => toUp(d));
    sock.on("drain", () => up?.resume());
    // The client closed its side: no more requests; the inner server still answers the ones it has.
    sock.on("end", () => {
      if (!upClosed) up?.shutdown();
    });
    sock.on("close", done);
    sock.on("error", done);
    // Bun's native socket (not node:net): cheaper per chunk, and when the inner server answers early and closes
    // (413 before reading a body) the answer is delivered before the close, where node:net's write error
    // (EPIPE) destroyed the socket with the answer unread.
    bun
      .connect({
        hostname: "127.0.0.1",
        port: inner.port,
        socket: {
          data: (_s, d) => {
            if (!sock.write(d)) up?.pause();
          },
          drain: (s) => {
            if (pending) {
              const p = pending;
              pending = undefined;
              const n = s.write(p);
              if (n < p.length) {
                pending = p.subarray(Math.max(0, n));
                return;
              }
            }
            sock.resume();
          },
          close: () => {
            upClosed = true;
            forget();
            // Flush the answer and close; swallow whatever the client still sends; destroy after 5 s regardless.
            sock.resume();
            sock.end();
            const t = setTimeout(done, 5_000);
            (t as { unref?: () => void }).unref?.();
          },
          error: () => {},
        },
      })
      .then(
        (s) => {
          up = s;
          port = s.localPort;
          conns.set(port, info);
          if (sock.destroyed) return void s.end();
          sock.resume();
        },
        () => done(),
      );
  });
  // Failed handshakes (old TLS versions, bad certificates) are the client's problem.
  front.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(opts.port, opts.hostname, () => resolve());
  });
  const addr = front.address() as { port: number; address: string };
  return {
    port: addr.port,
    hostname: opts.hostname,
    setTls: (t) => front.setSecureContext(tlsServerOptions(t)),
    stop: async () => {
      const closed = new Promise<void>((r) => front.close(() => r()));
      for (const c of open) c.destroy();
      await closed;
      await inner.stop(true);
    },
  };
}
