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
 *   nor `setSecureContext`. TLS ends in a native `Bun.listen` TLS listener,
 *   whose connections are piped to plain `Bun.serve` instances on loopback
 *   ports that answer only its own connections, one per peer
 *   (`serve-bun-tls.ts`).
 * - Node and Deno: `@hono/node-server` on `node:https` (`Deno.serve` cannot
 *   request client certificates); the peer certificate comes from the
 *   request's `TLSSocket`.
 */
import type { ConnectionInfo } from "./auth/types.ts";
import { CONNECTION, setRequestConnection } from "./auth/connection.ts";
import { type BunTlsRuntime, serveBunTls } from "./serve-bun-tls.ts";
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
    if (opts.tls) return serveBunTls(g.Bun as unknown as BunTlsRuntime, opts, idleTimeout);
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
