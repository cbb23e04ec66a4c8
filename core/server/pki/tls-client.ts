/**
 * @module The client side of the cluster's TLS: a fetch that trusts only the
 * cluster CA and presents a client certificate (agents, `skiff token`), and
 * the one unauthenticated read a joining agent makes before it trusts
 * anything — the server's CA — over a throwaway connection that is never
 * pooled, so no later request (carrying a secret) can ride on a connection
 * whose certificate was not verified.
 *
 * Bun's fetch takes `tls: { ca, cert, key }`; elsewhere requests go through
 * `node:https` (Node's global fetch has no per-request TLS options).
 */
import { request as httpsRequest } from "node:https";
import { connect as tlsConnect } from "node:tls";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";

export type FetchFn = (req: Request) => Promise<Response>;

export interface ClientTls {
  /** PEM of the CA the server's certificate must chain to. */
  ca: string;
  cert?: string;
  key?: string;
}

/** A fetch for `https://` URLs that verifies the server against `tls.ca` and presents `tls.cert`. */
export function tlsFetch(tls: ClientTls): FetchFn {
  const bun = (globalThis as { Bun?: unknown }).Bun;
  if (bun) {
    const opts = { tls: { ca: tls.ca, ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}), rejectUnauthorized: true } };
    return (req) => fetch(req, opts as RequestInit);
  }
  return (req) => nodeFetch(req, tls);
}

async function nodeFetch(req: Request, tls: ClientTls): Promise<Response> {
  const url = new URL(req.url);
  const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
  const headers: Record<string, string> = {};
  req.headers.forEach((v, k) => (headers[k] = v));
  if (body) headers["content-length"] = String(body.byteLength);
  return new Promise<Response>((resolve, reject) => {
    const r = httpsRequest(
      {
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port || 443,
        path: url.pathname + url.search,
        method: req.method,
        headers,
        ca: tls.ca,
        ...(tls.cert ? { cert: tls.cert, key: tls.key } : {}),
        rejectUnauthorized: true,
        minVersion: "TLSv1.2",
      },
      (res: IncomingMessage) => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
        const status = res.statusCode ?? 500;
        const nullBody = status === 204 || status === 304;
        resolve(new Response(nullBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>), { status, headers: h }));
      },
    );
    r.on("error", reject);
    req.signal?.addEventListener("abort", () => r.destroy(new Error("aborted")), { once: true });
    if (body) r.write(body);
    r.end();
  });
}

/**
 * `GET <server>/cacerts` without verifying the server and without any
 * credentials, on its own connection (closed after). The caller must check
 * the answer against the hash it was given before trusting it.
 */
export function fetchCaUnverified(server: string, timeoutMs = 10_000): Promise<string> {
  const url = new URL("/cacerts", server);
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const sock = tlsConnect({ host, port: Number(url.port || 443), rejectUnauthorized: false, minVersion: "TLSv1.2", ...(isIp(host) ? {} : { servername: host }) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => sock.destroy(new Error(`no answer from ${url.origin} within ${timeoutMs} ms`)), timeoutMs);
    sock.on("secureConnect", () => {
      sock.write(`GET /cacerts HTTP/1.1\r\nHost: ${url.host}\r\nAccept: application/x-pem-file\r\nConnection: close\r\n\r\n`);
    });
    sock.on("data", (d: Buffer) => chunks.push(d));
    sock.on("error", (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString("latin1");
      const head = text.indexOf("\r\n\r\n");
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (head < 0 || !status) return reject(new Error(`${url.origin}/cacerts: not an HTTP answer`));
      if (status[1] !== "200") return reject(new Error(`${url.origin}/cacerts answered ${status[1]}`));
      let body = text.slice(head + 4);
      if (/\r\ntransfer-encoding:\s*chunked/i.test(text.slice(0, head))) body = unchunk(body);
      resolve(body);
    });
  });
}

function unchunk(s: string): string {
  let out = "";
  let i = 0;
  for (;;) {
    const eol = s.indexOf("\r\n", i);
    if (eol < 0) break;
    const n = parseInt(s.slice(i, eol), 16);
    if (!Number.isFinite(n) || n === 0) break;
    out += s.slice(eol + 2, eol + 2 + n);
    i = eol + 2 + n + 2;
  }
  return out;
}

function isIp(h: string): boolean {
  return /^[\d.]+$/.test(h) || h.includes(":");
}
