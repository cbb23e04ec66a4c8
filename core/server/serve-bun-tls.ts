/**
 * @module HTTPS on Bun with client certificates.
 *
 * `Bun.serve` cannot show the handler the peer certificate (oven-sh/bun#14097)
 * and Bun's `node:https` socket has no `getPeerCertificate` (oven-sh/bun#16834),
 * so TLS ends in a `Bun.listen` TLS listener (native, and its socket has
 * `getPeerCertificate`), whose connections are piped byte for byte to a plain
 * `Bun.serve` on a loopback port.
 * `Bun.serve` still parses HTTP, streams answers, upgrades WebSockets (exec,
 * attach, port-forward) and enforces its limits.
 *
 * **Identity.** Each inner server belongs to one peer: one (presented
 * client certificate, source address) pair. Its handler stamps every request
 * with that peer's `ConnectionInfo`, fixed when the server is made, so what a
 * request is attributed to cannot depend on anything a client sends or on
 * which connection happens to be open. Connections of the same peer share
 * the server (64 keep-alive connections of one client: one server); it
 * stops a while after its last connection closes. An inner server answers
 * only connections this listener made: the source port of every request is
 * checked against the pipes' own sockets (another local process connecting
 * to the loopback port gets 421).
 *
 * **Why loopback TCP, not a unix socket** (which needs no port check and is
 * a little cheaper): Bun ignores `server.timeout(req, 0)` on a unix-socket
 * `Bun.serve` (1.4.5), so watches and exec sessions would be cut by the idle
 * timeout meant for stalled clients. `serve-tls.test.ts` checks a quiet
 * stream outlives it.
 *
 * **Rotation** (`setTls`): a second listener with the new certificate opens
 * on the same port (SO_REUSEPORT; Linux lets only the same user share a port)
 * and the first stops accepting; open connections keep what they were
 * served. At start a plain bind checks that the port is free, so a second
 * server on the same port fails as it would without SO_REUSEPORT.
 *
 * Why this shape (measured; see `core/server/pki/README.md`): the TLS
 * termination in `node:tls` (JavaScript streams) and the loopback TCP hop
 * were each a large part of the old relay's cost; parsing HTTP in JavaScript
 * instead of relaying cost more than either.
 */
import { constants } from "node:crypto";
import { CONNECTION, setRequestConnection } from "./auth/connection.ts";
import type { ConnectionInfo } from "./auth/types.ts";
import type { FetchHandler, Listening, ServeOptions, ServeTls } from "./serve.ts";
import { BUN_WEBSOCKET } from "./websocket.ts";

/** The part of `Bun` this module uses. */
export interface BunTlsRuntime {
  serve(o: { hostname: string; port: number; fetch: FetchHandler; idleTimeout?: number; websocket?: typeof BUN_WEBSOCKET }): {
    readonly port: number;
    stop(closeActive?: boolean): void | Promise<void>;
  };
  connect(o: { hostname: string; port: number; socket: PipeHandlers<Upstream> }): Promise<Upstream>;
  listen(o: { hostname: string; port: number; reusePort: boolean; tls?: Record<string, unknown>; socket: Partial<ClientHandlers> }): {
    port: number;
    stop(closeActive?: boolean): void;
  };
}

/** What both ends of a pipe have: Bun's native sockets. */
interface PipeSocket {
  write(d: Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
}
interface Upstream extends PipeSocket {
  shutdown(): void;
  data: unknown;
  readonly localPort: number;
}
interface PipeHandlers<S> {
  data(s: S, d: Uint8Array): void;
  drain(s: S): void;
  end?(s: S): void;
  close(s: S): void;
  error(s: S, e: Error): void;
}
/** A `Bun.listen` TLS connection. */
interface ClientSocket extends PipeSocket {
  data: Pipe | undefined;
  readonly remoteAddress: string;
  timeout(seconds: number): void;
  getPeerCertificate(): { raw?: Uint8Array } | null | undefined;
}
interface ClientHandlers extends PipeHandlers<ClientSocket> {
  open(s: ClientSocket): void;
  handshake(s: ClientSocket, success: boolean, error: Error | null): void;
  end(s: ClientSocket): void;
  timeout(s: ClientSocket): void;
}

/** How long an inner server outlives its peer's last connection (clients that reconnect reuse it). */
const LINGER_MS = 30_000;
/** Idle inner servers kept at most; beyond, one stops with its last connection (peers that churn cost nothing lasting). */
const MAX_LINGERING = 32;

/** Bytes one side of a pipe has not taken yet, in order. */
class Outbox {
  readonly #queue: Uint8Array[] = [];

  get empty(): boolean {
    return this.#queue.length === 0;
  }

  /** Writes `d` to `to` (after what is queued); false when some of it had to wait. */
  send(to: PipeSocket, d: Uint8Array): boolean {
    if (this.#queue.length > 0) {
      this.#queue.push(Uint8Array.prototype.slice.call(d));
      return false;
    }
    const n = to.write(d);
    if (n >= d.length) return true;
    // A copy: the runtime may reuse the buffer it handed to `data`.
    this.#queue.push(Uint8Array.prototype.slice.call(d, Math.max(0, n)));
    return false;
  }

  /** On `drain`: writes what waits; true once nothing does. */
  flush(to: PipeSocket): boolean {
    while (this.#queue.length > 0) {
      const d = this.#queue[0]!;
      const n = to.write(d);
      if (n < d.length) {
        this.#queue[0] = d.subarray(Math.max(0, n));
        return false;
      }
      this.#queue.shift();
    }
    return true;
  }
}

/** One peer's inner server and how many connections use it. */
interface Inner {
  port: number;
  /** Source ports of this listener's own connections to it: the only ones it answers. */
  ours: Set<number>;
  server: { stop(closeActive?: boolean): void | Promise<void> };
  refs: number;
  linger?: ReturnType<typeof setTimeout>;
}

/** One client connection piped to its peer's inner server. */
class Pipe {
  #up: Upstream | undefined;
  /** Client bytes waiting for the inner server (before it connects, or while it is slow). */
  readonly #toUp = new Outbox();
  /** Answer bytes waiting for the client. */
  readonly #toClient = new Outbox();
  #clientEnded = false;
  #upClosed = false;
  #closed = false;
  #onUpClose: (() => void) | undefined;

  constructor(
    private readonly client: ClientSocket,
    private readonly release: () => void,
  ) {}

  connected(up: Upstream): void {
    if (this.#closed) {
      up.end();
      return;
    }
    this.#up = up;
    this.upDrain();
  }

  /** Called once when the inner connection closes. */
  onUpClose(f: () => void): void {
    this.#onUpClose = f;
  }

  /** The inner server could not be reached. */
  failed(): void {
    this.client.terminate();
  }

  clientData(d: Uint8Array): void {
    if (this.#upClosed) return; // the inner server is done: the rest of an upload is dropped
    if (!this.#up) {
      this.#toUp.send(NOT_YET, d);
      this.client.pause();
      return;
    }
    if (!this.#toUp.send(this.#up, d)) this.client.pause();
  }

  clientDrain(): void {
    if (!this.#toClient.flush(this.client)) return;
    if (this.#upClosed) this.client.end();
    else this.#up?.resume();
  }

  /** The client closed its side: no more requests; the inner server still answers those it has. */
  clientEnd(): void {
    this.#clientEnded = true;
    if (this.#up && this.#toUp.empty && !this.#upClosed) this.#up.shutdown();
  }

  clientClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#up && !this.#upClosed) this.#up.end();
    else if (!this.#up) this.release();
  }

  upData(d: Uint8Array): void {
    if (!this.#toClient.send(this.client, d)) this.#up?.pause();
  }

  upDrain(): void {
    const up = this.#up!;
    if (!this.#toUp.flush(up)) return;
    if (this.#clientEnded) up.shutdown();
    else this.client.resume();
  }

  upClose(): void {
    if (this.#upClosed) return;
    this.#upClosed = true;
    this.#onUpClose?.();
    this.release();
    // Deliver the rest of the answer, then close; the client is not waited on for more than 5 s.
    if (this.#toClient.empty) this.client.end();
    const t = setTimeout(() => this.#closed || this.client.terminate(), 5_000);
    (t as { unref?: () => void }).unref?.();
  }
}

/** A socket that takes nothing: `Outbox.send` to it only queues. */
const NOT_YET: PipeSocket = { write: () => 0, end() {}, terminate() {}, pause() {}, resume() {} };

/** The listener's TLS settings: TLS 1.2+, a client certificate requested (the x509 authenticator verifies it, not the TLS stack). */
function listenTls(t: ServeTls): Record<string, unknown> {
  return {
    cert: t.cert,
    key: t.key,
    ca: t.ca,
    requestCert: true,
    rejectUnauthorized: false,
    secureOptions: constants.SSL_OP_NO_SSLv3 | constants.SSL_OP_NO_TLSv1 | constants.SSL_OP_NO_TLSv1_1,
  };
}

/** Serves `opts.fetch` over HTTPS on Bun (see the module doc). */
export async function serveBunTls(bun: BunTlsRuntime, opts: ServeOptions, idleTimeout: number): Promise<Listening> {
  const inners = new Map<string, Inner>();
  const clients = new Set<ClientSocket>();
  let lingering = 0;
  let stopped = false;

  const innerFor = (key: string, info: ConnectionInfo): Inner => {
    const known = inners.get(key);
    if (known) {
      if (known.linger) {
        clearTimeout(known.linger);
        lingering--;
      }
      known.linger = undefined;
      known.refs++;
      return known;
    }
    const ours = new Set<number>();
    const server = bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout,
      websocket: BUN_WEBSOCKET,
      fetch: (req, srv) => {
        const from = (srv as { requestIP(r: Request): { port: number } | null }).requestIP(req);
        if (!from || !ours.has(from.port)) {
          const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "connect through the TLS listener", reason: "BadRequest", code: 421 };
          return new Response(JSON.stringify(status), { status: 421, headers: { "content-type": "application/json", connection: "close" } });
        }
        setRequestConnection(req, info);
        // A per-request env: the server's methods, plus the connection facts (for wrappers that hand on a new Request).
        const s = srv as unknown as Record<string, (...a: unknown[]) => unknown>;
        const env = {
          upgrade: (...a: unknown[]) => s.upgrade!.apply(srv, a),
          timeout: (...a: unknown[]) => s.timeout!.apply(srv, a),
          requestIP: () => (info.remoteAddress ? { address: info.remoteAddress, port: 0, family: info.remoteAddress.includes(":") ? "IPv6" : "IPv4" } : null),
          [CONNECTION]: info,
        };
        return opts.fetch(req, env);
      },
    });
    const inner: Inner = { port: server.port, ours, server, refs: 1 };
    inners.set(key, inner);
    return inner;
  };

  const releaseOf = (key: string, inner: Inner) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--inner.refs > 0 || stopped) return;
      const retire = () => {
        if (inner.refs > 0 || inners.get(key) !== inner) return;
        if (inner.linger) lingering--;
        inner.linger = undefined;
        inners.delete(key);
        void inner.server.stop(true);
      };
      if (lingering >= MAX_LINGERING) return retire();
      lingering++;
      inner.linger = setTimeout(retire, LINGER_MS);
      (inner.linger as { unref?: () => void }).unref?.();
    };
  };

  const upstream: PipeHandlers<Upstream> = {
    data: (s, d) => (s.data as Pipe).upData(d),
    drain: (s) => (s.data as Pipe).upDrain(),
    close: (s) => (s.data as Pipe | undefined)?.upClose(),
    error: () => {},
  };

  const handlers: ClientHandlers = {
    // A stalled handshake is bounded as an idle connection is.
    open: (s) => void (idleTimeout > 0 && s.timeout(idleTimeout)),
    handshake: (s) => {
      if (idleTimeout > 0) s.timeout(0); // from here the inner server's idle timeout applies
      clients.add(s);
      // The presented leaf, whatever the TLS stack thought of it: the x509 authenticator verifies it.
      const raw = s.getPeerCertificate()?.raw;
      const leaf = raw && raw.length > 0 ? new Uint8Array(raw) : undefined;
      const info: ConnectionInfo = { ...(leaf ? { peerCertificates: [leaf] } : {}), ...(s.remoteAddress ? { remoteAddress: s.remoteAddress } : {}) };
      const key = `${s.remoteAddress ?? ""} ${leaf ? Buffer.from(leaf).toString("base64") : ""}`;
      const inner = innerFor(key, info);
      const pipe = new Pipe(s, releaseOf(key, inner));
      s.data = pipe;
      bun.connect({ hostname: "127.0.0.1", port: inner.port, socket: upstream }).then(
        (up) => {
          up.data = pipe;
          // Before any byte is sent: the inner server answers this port from now on, until the socket closes.
          const local = up.localPort;
          inner.ours.add(local);
          pipe.onUpClose(() => inner.ours.delete(local));
          pipe.connected(up);
        },
        () => pipe.failed(),
      );
    },
    data: (s, d) => s.data?.clientData(d),
    drain: (s) => s.data?.clientDrain(),
    end: (s) => (s.data ? s.data.clientEnd() : s.end()),
    close: (s) => {
      clients.delete(s);
      s.data?.clientClose();
    },
    error: () => {},
    timeout: (s) => s.terminate(),
  };

  const listen = (tls: ServeTls, port: number) => bun.listen({ hostname: opts.hostname, port, reusePort: true, tls: listenTls(tls), socket: handlers });
  // The port must be free, not shared: a bind without SO_REUSEPORT fails (EADDRINUSE) if anything listens
  // there, as a second server on the same port should. It also picks the port when asked for 0.
  const probe = bun.listen({ hostname: opts.hostname, port: opts.port, reusePort: false, socket: { data() {}, close() {}, error() {} } });
  const port = probe.port;
  probe.stop(true);
  let listener = listen(opts.tls!, port);
  return {
    port,
    hostname: opts.hostname,
    setTls: (t) => {
      const next = listen(t, port);
      listener.stop(false);
      listener = next;
    },
    stop: async () => {
      stopped = true;
      listener.stop(false);
      for (const s of clients) s.terminate();
      for (const inner of inners.values()) {
        if (inner.linger) clearTimeout(inner.linger);
        await inner.server.stop(true);
      }
      inners.clear();
    },
  };
}
