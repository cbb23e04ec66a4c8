/**
 * @module Request hygiene for requests that come over the network (the
 * in-process client's requests never pass here): in-flight limits, a
 * per-client token bucket, a deadline on request bodies, and a last-resort
 * 500 without a stack.
 *
 * - **In-flight limits** (kube-apiserver's `--max-requests-inflight` 400 and
 *   `--max-mutating-requests-inflight` 200): a request over the limit gets 429
 *   with `Retry-After: 1`. Long-running requests (watches, `pods/log?follow`,
 *   exec/attach/portforward) are not counted, as upstream.
 * - **Per-client token bucket**: keyed by the authenticated user when the
 *   authentication stage has named one, else the source IP. It is checked by
 *   `admit`, which the API server calls after authentication. A client whose
 *   bucket is empty is refused (429, `Retry-After` = when a token is back)
 *   only under contention: while at least `clientBusyInflight` requests of
 *   other clients are in flight. Alone, a client gets the whole server, as
 *   under upstream's API Priority and Fairness, which shares capacity only
 *   under contention. `clientBusyInflight: 0` enforces the bucket always.
 * - **Body deadline**: a request's body must arrive within `bodyTimeoutMs`
 *   (and within MAX_BODY_BYTES); otherwise 408 (413) and `Connection:
 *   close`. The body is read here and handed on as a new Request, so the
 *   handlers' own reads are instant. Requests without a body pass untouched
 *   (a WebSocket upgrade needs its original Request on Bun).
 * - **Idle connections**: on Bun the listener gets an idle timeout (the
 *   kernel's `idleTimeoutSeconds`) and long-running requests switch it off
 *   for themselves (`server.timeout(req, 0)`), so a stalled client is
 *   dropped while a quiet watch stays open.
 */
import { ApiError, errors, isApiError } from "../api/errors.ts";
import type { Logger } from "../log.ts";
import { requestConnection } from "./auth/connection.ts";
import { requestUser } from "./auth/types.ts";
import { MAX_BODY_BYTES } from "./request.ts";
import { statusResponse } from "./respond.ts";
import type { FetchHandler } from "./serve.ts";

export interface HygieneOptions {
  /** Non-mutating requests in flight at most (0: no limit). Default 400. */
  maxRequestsInflight?: number;
  /** Mutating requests in flight at most (0: no limit). Default 200. */
  maxMutatingRequestsInflight?: number;
  /** Sustained requests per second per client (0: no per-client limit). Default 100. */
  clientQps?: number;
  /** Bucket size per client. Default 400. */
  clientBurst?: number;
  /** Other clients' requests in flight from which an empty bucket is enforced. Default 1; 0 = always. */
  clientBusyInflight?: number;
  /** Time allowed for a request body to arrive, in ms. Default 60,000. */
  bodyTimeoutMs?: number;
}

export const HYGIENE_DEFAULTS: Required<HygieneOptions> = {
  maxRequestsInflight: 400,
  maxMutatingRequestsInflight: 200,
  clientQps: 100,
  clientBurst: 400,
  clientBusyInflight: 1,
  bodyTimeoutMs: 60_000,
};

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const MAX_BUCKETS = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** What the guard learned about a network request (source address), keyed by the Request the app sees. */
const external = new WeakMap<Request, { ip: string }>();
/** The client key `admit` charged for a request (released when it completes). */
const charged = new WeakMap<Request, string>();
/** The Request handed on (body read) for each received Request. */
const forwarded = new WeakMap<Request, Request>();

/** The source address of a request that came over the network; undefined for in-process requests. */
export function sourceAddress(req: Request): string | undefined {
  return external.get(req)?.ip ?? external.get(forwarded.get(req) ?? req)?.ip;
}

/** The Request the API server saw for `req` (a copy with the body read), or `req` itself. */
export function forwardedRequest(req: Request): Request {
  return forwarded.get(req) ?? req;
}

/** Watches, followed logs and the streaming subresources: exempt from in-flight limits and idle timeouts. */
export function isLongRunning(req: Request): boolean {
  const url = req.url;
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  if (/\/(exec|attach|portforward|proxy)$/.test(path)) return true;
  if (q < 0) return false;
  const query = url.slice(q);
  if (/[?&]watch=(1|true)(&|$)/i.test(query)) return true;
  return /\/log$/.test(path) && /[?&]follow=(1|true)(&|$)/i.test(query);
}

/** The peer address as the runtime reports it (`env`: Bun's server, @hono/node-server's bindings, Deno's info). */
export function remoteAddress(req: Request, env: unknown): string {
  const e = env as {
    requestIP?: (r: Request) => { address: string } | null;
    incoming?: { socket?: { remoteAddress?: string } };
    remoteAddr?: { hostname?: string };
  } | null;
  try {
    // serve.ts records the real peer (behind its TLS front, requestIP would name the loopback pipe).
    const a = requestConnection(req, env).remoteAddress ?? e?.requestIP?.(req)?.address ?? e?.incoming?.socket?.remoteAddress ?? e?.remoteAddr?.hostname;
    if (a) return a.startsWith("::ffff:") ? a.slice(7) : a;
  } catch {
    /* not a runtime we know */
  }
  return "unknown";
}

/**
 * A Status for something thrown that is not an ApiError (a bug): 500 with a
 * generic message; the error and its stack go to the server log only.
 */
export function internalErrorResponse(e: unknown, log?: Logger): Response {
  if (isApiError(e)) return statusResponse(e);
  log?.error({ err: e }, "unexpected error serving a request");
  return statusResponse(errors.internal("an unexpected error occurred while serving the request; see the server log"));
}

export class RequestGuard {
  readonly opts: Required<HygieneOptions>;
  #inflight = 0;
  #mutating = 0;
  readonly #buckets = new Map<string, Bucket>();
  /** Admitted requests in flight, per client key, and their sum. */
  readonly #perClient = new Map<string, number>();
  #admitted = 0;

  constructor(
    opts: HygieneOptions = {},
    private readonly log?: Logger,
  ) {
    this.opts = { ...HYGIENE_DEFAULTS, ...opts };
  }

  /** Requests (long-running ones aside) in flight now. */
  get inflight(): number {
    return this.#inflight + this.#mutating;
  }

  /** Wraps the API server's handler for requests from the network. */
  wrap(next: FetchHandler): FetchHandler {
    return async (req, env) => {
      try {
        const ip = remoteAddress(req, env);
        if (isLongRunning(req)) {
          (env as { timeout?: (r: Request, s: number) => void } | undefined)?.timeout?.(req, 0);
          external.set(req, { ip });
          try {
            return await next(req, env);
          } finally {
            this.#release(req);
          }
        }
        const mutating = !READ_METHODS.has(req.method);
        const limit = mutating ? this.opts.maxMutatingRequestsInflight : this.opts.maxRequestsInflight;
        const count = mutating ? this.#mutating : this.#inflight;
        if (limit > 0 && count >= limit) {
          return statusResponse(errors.tooManyRequests("Too many requests, please try again later.", 1));
        }
        if (mutating) this.#mutating++;
        else this.#inflight++;
        try {
          let inner = req;
          if (hasBody(req)) {
            const body = await readBodyWithin(req, this.opts.bodyTimeoutMs);
            inner = new Request(req.url, { method: req.method, headers: req.headers, body: body as BodyInit });
            forwarded.set(req, inner);
          }
          external.set(inner, { ip });
          try {
            return await next(inner, env);
          } finally {
            this.#release(inner);
          }
        } finally {
          if (mutating) this.#mutating--;
          else this.#inflight--;
        }
      } catch (e) {
        if (isApiError(e) && (e.code === 408 || e.code === 413)) {
          const r = statusResponse(e);
          r.headers.set("connection", "close");
          return r;
        }
        return internalErrorResponse(e, this.log);
      }
    };
  }

  /**
   * The per-client check, for the API server to call once the request's user
   * is known: a 429 ApiError when the client must back off, else undefined.
   * In-process requests are never limited.
   */
  admit(req: Request): ApiError | undefined {
    const qps = this.opts.clientQps;
    if (qps <= 0) return undefined;
    const src = external.get(req);
    if (!src) return undefined;
    const user = requestUser(req)?.user;
    const key = user && user.name !== "system:anonymous" ? `u:${user.name}` : `ip:${src.ip}`;
    const now = performance.now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= MAX_BUCKETS) this.#sweep(now);
      b = { tokens: this.opts.clientBurst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.opts.clientBurst, b.tokens + ((now - b.at) / 1000) * qps);
      b.at = now;
    }
    const mine = this.#perClient.get(key) ?? 0;
    if (b.tokens < 1 && this.#admitted - mine >= this.opts.clientBusyInflight) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / qps));
      return errors.tooManyRequests(`client ${key.slice(key.indexOf(":") + 1)} is sending too many requests, please try again later`, wait);
    }
    b.tokens = Math.max(0, b.tokens - 1);
    this.#perClient.set(key, mine + 1);
    this.#admitted++;
    charged.set(req, key);
    return undefined;
  }

  #release(req: Request): void {
    const key = charged.get(req);
    if (key === undefined) return;
    charged.delete(req);
    const n = (this.#perClient.get(key) ?? 1) - 1;
    if (n <= 0) this.#perClient.delete(key);
    else this.#perClient.set(key, n);
    this.#admitted--;
  }

  /** Drops buckets that have refilled (their clients are idle). */
  #sweep(now: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.opts.clientQps >= this.opts.clientBurst) this.#buckets.delete(k);
    }
    if (this.#buckets.size >= MAX_BUCKETS) this.#buckets.clear();
  }
}

function hasBody(req: Request): boolean {
  if (READ_METHODS.has(req.method)) return false;
  return req.body !== null && req.headers.get("content-length") !== "0";
}

const bodyTimeout = (ms: number) => new ApiError({ reason: "Timeout", code: 408, message: `the request body did not arrive within ${Math.round(ms / 1000)}s` });

/** Reads a body within `ms` and MAX_BODY_BYTES; 408 / 413 ApiErrors otherwise. */
async function readBodyWithin(req: Request, ms: number): Promise<ArrayBuffer | Uint8Array> {
  const declared = req.headers.get("content-length");
  if (Number(declared ?? "0") > MAX_BODY_BYTES) throw errors.tooLarge(`Request entity too large: limit is ${MAX_BODY_BYTES}`);
  if (!req.body) return new Uint8Array();
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (declared !== null) {
    // Known length within the limit: the runtime's native read, raced against the deadline
    // (on timeout the 408 goes out with Connection: close, which ends the pending read).
    try {
      return await Promise.race([
        req.arrayBuffer(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(bodyTimeout(ms)), ms);
        }),
      ]);
    } catch (e) {
      throw isApiError(e) ? e : errors.badRequest(`reading the request body failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
  const reader = req.body.getReader();
  let timedOut = false;
  timer = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, ms);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut || done) break;
      total += value.byteLength;
      if (total > MAX_BODY_BYTES) {
        await reader.cancel().catch(() => {});
        throw errors.tooLarge(`Request entity too large: limit is ${MAX_BODY_BYTES}`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (!timedOut) throw isApiError(e) ? e : errors.badRequest(`reading the request body failed: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw bodyTimeout(ms);
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}
